// UTCTimestamp (YYYYMMDD-HH:MM:SS[.sss]) to and from milliseconds since the epoch, with
// integer calendar arithmetic (H. Hinnant's days_from_civil / civil_from_days): domain code
// has no Date, and the hot path wants no allocation.

import { PAIR_SUMS as SHARED_PAIR_SUMS, PAIR_WORDS as SHARED_PAIR_WORDS } from "./digit-pairs.ts";

// Module constants of their own: optimised code reads an imported binding through a cell
// and checks it on every use, and folds a module constant's table into the code.
const PAIR_SUMS = SHARED_PAIR_SUMS;
const PAIR_WORDS = SHARED_PAIR_WORDS;

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
 * writeUtcTimestamp with the bytes up to the second of the last call kept: messages of one
 * second share them (a busy session writes many a second), and only the milliseconds are
 * written each time. They are kept as five little-endian words and written with five
 * stores (a store per byte cost a bounds check per byte).
 */
export class UtcTimestampWriter {
  /** Byte sum of the last timestamp written (for the encoder's CheckSum). */
  sum = 0;
  private second = NaN;
  /** "YYYYMMDD-HH:MM:S" of `second`, as four words. */
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;
  /** "S." of `second`: the low half of the word that the milliseconds' first two digits end. */
  private w4 = 0;
  /** The byte sum of those 18 bytes. */
  private prefixSum = 0;
  private readonly scratch = new Uint8Array(21);

  /** Writes the timestamp's 21 bytes at buf[at]; returns the position after them. */
  write(buf: Uint8Array, at: number, epochMs: number): number {
    return this.writeTo(new DataView(buf.buffer, buf.byteOffset, buf.byteLength), at, epochMs);
  }

  /** write() through a DataView of the buffer (the encoder keeps one). */
  writeTo(view: DataView, at: number, epochMs: number): number {
    const ms = Math.trunc(epochMs);
    const second = Math.floor(ms / 1000);
    // Another second (or a time FIX cannot write this way) is the rare case, kept out of
    // this method so that it stays small enough for V8 to inline into the encoder.
    if (second !== this.second && !this.newSecond(second)) return this.writeOutOfRange(view, at, epochMs);
    const t = ms - second * 1000;
    const c = (t / 10) | 0;
    const u = t - c * 10;
    view.setInt32(at, this.w0, true);
    view.setInt32(at + 4, this.w1, true);
    view.setInt32(at + 8, this.w2, true);
    view.setInt32(at + 12, this.w3, true);
    view.setInt32(at + 16, this.w4 | (PAIR_WORDS[c]! << 16), true);
    view.setUint8(at + 20, 0x30 + u);
    this.sum = this.prefixSum + PAIR_SUMS[c]! + 0x30 + u;
    return at + 21;
  }

  /** Keeps `second`'s bytes and their sum; false when it is outside years 1970..9999. */
  private newSecond(second: number): boolean {
    const ms = second * 1000;
    if (!(ms >= 0 && ms < 253_402_300_800_000)) return false;
    const prefix = this.scratch;
    writeUtcTimestamp(prefix, 0, ms);
    const word = (i: number) => prefix[i]! | (prefix[i + 1]! << 8) | (prefix[i + 2]! << 16) | (prefix[i + 3]! << 24);
    this.w0 = word(0);
    this.w1 = word(4);
    this.w2 = word(8);
    this.w3 = word(12);
    this.w4 = prefix[16]! | (prefix[17]! << 8);
    this.second = second;
    let sum = 0;
    for (let i = 0; i < 18; i++) sum += prefix[i]!;
    this.prefixSum = sum;
    return true;
  }

  private writeOutOfRange(view: DataView, at: number, epochMs: number): number {
    const buf = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    const end = writeUtcTimestamp(buf, at, epochMs);
    let sum = 0;
    for (let i = at; i < end; i++) sum += buf[i]!;
    this.sum = sum;
    return end;
  }
}

function digits(buf: Uint8Array, at: number, value: number, width: number): number {
  for (let i = width - 1; i >= 0; i--) {
    buf[at + i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
  return at + width;
}

/** Two digits at buf[at] as a number; -1 when either byte is not a digit. */
function two(buf: Uint8Array, at: number): number {
  const a = buf[at]! - 0x30;
  const b = buf[at + 1]! - 0x30;
  return a >>> 0 <= 9 && b >>> 0 <= 9 ? a * 10 + b : -1;
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
  const days = dayNumber(buf, start);
  const h = two(buf, start + 9);
  const mi = two(buf, start + 12);
  const s = two(buf, start + 15);
  if (days !== days || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return NaN;
  // Milliseconds: the usual three digits inline, any other fraction (or a leap second) aside.
  let ms = 0;
  if (len === 21 && s < 60 && buf[start + 17] === 0x2e) {
    const t = two(buf, start + 18);
    const u = buf[start + 20]! - 0x30;
    if (t < 0 || u >>> 0 > 9) return NaN;
    ms = t * 10 + u;
  } else if (len > 17 || s === 60) {
    ms = fractionMs(buf, start, len, s);
    if (ms !== ms) return NaN;
  }
  return days * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + Math.min(s, 59) * 1000 + ms;
}

/** The fraction after the seconds as milliseconds (999 for a leap second 60); NaN when malformed. */
function fractionMs(buf: Uint8Array, start: number, len: number, s: number): number {
  let ms = 0;
  if (len > 17 && buf[start + 17] !== 0x2e) return NaN;
  const fracLen = len - 18;
  for (let i = 0; i < fracLen; i++) {
    const c = buf[start + 18 + i]! - 0x30;
    if (c < 0 || c > 9) return NaN;
    if (i < 3) ms = ms * 10 + c;
  }
  for (let i = fracLen; i < 3; i++) ms *= 10;
  return s === 60 ? 999 : ms;
}

/** Days since the epoch of the date at buf[start, start + 8); NaN when malformed. Messages of one day share it. */
function dayNumber(buf: Uint8Array, start: number): number {
  const c = two(buf, start);
  const y2 = two(buf, start + 2);
  const mo = two(buf, start + 4);
  const d = two(buf, start + 6);
  if (c < 0 || y2 < 0 || mo < 0 || d < 0) return NaN;
  const date = c * 1_000_000 + y2 * 10_000 + mo * 100 + d;
  if (date === lastDate) return lastDays;
  const y = c * 100 + y2;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
  lastDate = date;
  lastDays = daysFromCivil(y, mo, d);
  return lastDays;
}

let lastDate = -1;
let lastDays = 0;

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}
