// UTCTimestamp (YYYYMMDD-HH:MM:SS[.sss]) to and from milliseconds since the epoch, with
// integer calendar arithmetic (H. Hinnant's days_from_civil / civil_from_days): domain code
// has no Date, and the hot path wants no allocation.

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * Writes `epochMs` as "YYYYMMDD-HH:MM:SS.sss" (21 bytes) into `buf` at `at`; returns the
 * position after it. Years outside 0..9999 are clamped: FIX has no notation for them.
 */
export function writeUtcTimestamp(buf: Uint8Array, at: number, epochMs: number): number {
  const ms = Math.min(Math.max(Math.trunc(epochMs), -62_167_219_200_000), 253_402_300_799_999);
  const z0 = Math.floor(ms / MS_PER_DAY);
  let msOfDay = ms - z0 * MS_PER_DAY;
  const z = z0 + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  at = digits(buf, at, y, 4);
  at = digits(buf, at, m, 2);
  at = digits(buf, at, d, 2);
  buf[at++] = 0x2d; // -
  const h = Math.floor(msOfDay / 3_600_000);
  msOfDay -= h * 3_600_000;
  const min = Math.floor(msOfDay / 60_000);
  msOfDay -= min * 60_000;
  const s = Math.floor(msOfDay / 1000);
  at = digits(buf, at, h, 2);
  buf[at++] = 0x3a; // :
  at = digits(buf, at, min, 2);
  buf[at++] = 0x3a;
  at = digits(buf, at, s, 2);
  buf[at++] = 0x2e; // .
  return digits(buf, at, msOfDay - s * 1000, 3);
}

/**
 * writeUtcTimestamp with the date of the last call kept: messages of one day share it, and
 * the time of day is integer arithmetic on a number below 2^31.
 */
export class UtcTimestampWriter {
  /** Byte sum of the last timestamp written (for the encoder's CheckSum). */
  sum = 0;
  private day = NaN;
  private dateSum = 0;
  private readonly date = new Uint8Array(9);

  write(buf: Uint8Array, at: number, epochMs: number): number {
    const ms = Math.trunc(epochMs);
    const day = Math.floor(ms / MS_PER_DAY);
    if (day !== this.day) {
      if (!(ms >= 0 && ms < 253_402_300_800_000)) {
        const end = writeUtcTimestamp(buf, at, epochMs);
        let sum = 0;
        for (let i = at; i < end; i++) sum += buf[i]!;
        this.sum = sum;
        return end;
      }
      writeUtcTimestamp(this.date, 0, day * MS_PER_DAY);
      this.day = day;
      let dateSum = 0;
      for (let i = 0; i < 9; i++) dateSum += this.date[i]!;
      this.dateSum = dateSum;
    }
    const date = this.date;
    for (let i = 0; i < 9; i++) buf[at + i] = date[i]!; // cheaper than set() for 9 bytes
    at += 9;
    // Below 86,400,000: int32 arithmetic from here on.
    let t = (ms - day * MS_PER_DAY) | 0;
    const h = (t / 3_600_000) | 0;
    t -= h * 3_600_000;
    const m = (t / 60_000) | 0;
    t -= m * 60_000;
    const s = (t / 1000) | 0;
    t -= s * 1000;
    const h1 = (h / 10) | 0;
    const m1 = (m / 10) | 0;
    const s1 = (s / 10) | 0;
    const t1 = (t / 100) | 0;
    const t2 = ((t / 10) | 0) - t1 * 10;
    const h2 = h - h1 * 10;
    const m2 = m - m1 * 10;
    const s2 = s - s1 * 10;
    const t3 = t - t1 * 100 - t2 * 10;
    buf[at] = 0x30 + h1;
    buf[at + 1] = 0x30 + h2;
    buf[at + 2] = 0x3a;
    buf[at + 3] = 0x30 + m1;
    buf[at + 4] = 0x30 + m2;
    buf[at + 5] = 0x3a;
    buf[at + 6] = 0x30 + s1;
    buf[at + 7] = 0x30 + s2;
    buf[at + 8] = 0x2e;
    buf[at + 9] = 0x30 + t1;
    buf[at + 10] = 0x30 + t2;
    buf[at + 11] = 0x30 + t3;
    // Nine digits (0x30 each), two colons and a point, plus the digits' values.
    this.sum = this.dateSum + 9 * 0x30 + 2 * 0x3a + 0x2e + h1 + h2 + m1 + m2 + s1 + s2 + t1 + t2 + t3;
    return at + 12;
  }
}

function digits(buf: Uint8Array, at: number, value: number, width: number): number {
  for (let i = width - 1; i >= 0; i--) {
    buf[at + i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
  return at + width;
}

/** Digits at buf[at, at + width) as a number; -1 when any byte is not a digit. */
function num(buf: Uint8Array, at: number, width: number): number {
  let v = 0;
  for (let i = 0; i < width; i++) {
    const c = buf[at + i]! - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Reads a UTCTimestamp from buf[start, end): "YYYYMMDD-HH:MM:SS" with an optional fraction
 * of 1 to 9 digits (milliseconds kept, finer digits dropped). NaN when malformed or out of
 * range (a leap second 60 is accepted as 59.999).
 */
export function readUtcTimestamp(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len !== 17 && (len < 19 || len > 27)) return NaN;
  if (buf[start + 8] !== 0x2d || buf[start + 11] !== 0x3a || buf[start + 14] !== 0x3a) return NaN;
  const y = num(buf, start, 4);
  const mo = num(buf, start + 4, 2);
  const d = num(buf, start + 6, 2);
  const h = num(buf, start + 9, 2);
  const mi = num(buf, start + 12, 2);
  let s = num(buf, start + 15, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return NaN;
  // Messages of one day share the date: its day number is kept from the last call.
  const date = y * 10_000 + mo * 100 + d;
  let days: number;
  if (date === lastDate && y >= 0 && mo >= 0 && d >= 0) days = lastDays;
  else {
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
    days = daysFromCivil(y, mo, d);
    lastDate = date;
    lastDays = days;
  }
  let ms = 0;
  if (len > 17) {
    if (buf[start + 17] !== 0x2e) return NaN;
    const fracLen = len - 18;
    for (let i = 0; i < fracLen; i++) {
      const c = buf[start + 18 + i]! - 0x30;
      if (c < 0 || c > 9) return NaN;
      if (i < 3) ms = ms * 10 + c;
    }
    for (let i = fracLen; i < 3; i++) ms *= 10;
  }
  if (s === 60) {
    s = 59;
    ms = 999;
  }
  return days * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + s * 1000 + ms;
}

let lastDate = -1;
let lastDays = 0;

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}
