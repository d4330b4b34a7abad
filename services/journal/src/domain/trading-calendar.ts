/**
 * Trading days of the venue's calendar (TradingVenue spec.calendar): which instants a day
 * "YYYY-MM-DD" covers in the venue's time zone, which day an instant belongs to, and when a
 * day's trades settle. Pure: the zone's offsets come from Intl (the runtime's tz database),
 * never from the machine's zone or clock.
 */

export const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface TradingCalendar {
  /** IANA zone, e.g. Asia/Kolkata. */
  readonly timeZone: string;
  /** "HH:MM" local time the day ends ("24:00": the calendar date). */
  readonly tradingDayEnd: string;
  readonly weekendDays: readonly Weekday[];
  /** "YYYY-MM-DD" dates that are not business days. */
  readonly holidays: readonly string[];
  /** Settlement cycle: T + this many business days. */
  readonly settlementDays: number;
}

/** An NSE-like calendar: IST calendar dates, Saturday and Sunday off, T+1. */
export const IST_T1_CALENDAR: TradingCalendar = {
  timeZone: "Asia/Kolkata",
  tradingDayEnd: "24:00",
  weekendDays: ["Sat", "Sun"],
  holidays: [],
  settlementDays: 1,
};

const DAY_MS = 86_400_000;

/** Whether the runtime's tz database knows `zone`. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
const DATE_PATTERN = /^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;

// Civil dates as day numbers (days since 1970-01-01) without Date, which domain code does
// not touch: H. Hinnant's days_from_civil and civil_from_days (proleptic Gregorian).
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(n: number): [number, number, number] {
  const z = n + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** Whether `day` is a date "YYYY-MM-DD" that exists. */
export function isTradingDayText(day: string): boolean {
  const m = DATE_PATTERN.exec(day);
  return m !== null && dayText(dayNumber(day)) === day;
}

/** A date's number: days since 1970-01-01. */
function dayNumber(day: string): number {
  const m = DATE_PATTERN.exec(day)!;
  return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
}

function dayText(n: number): string {
  const [y, m, d] = civilFromDays(n);
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at an instant, in milliseconds (IST: +19,800,000). */
export function zoneOffsetMs(timeZone: string, atMs: number): number {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(atMs).map((p) => [p.type, p.value]));
  const wall =
    daysFromCivil(Number(parts.year), Number(parts.month), Number(parts.day)) * DAY_MS +
    ((Number(parts.hour) * 60 + Number(parts.minute)) * 60 + Number(parts.second)) * 1000;
  return wall - (atMs - (((atMs % 1000) + 1000) % 1000));
}

/**
 * The instant of a local wall time (ms since the epoch as if UTC). Twice through the offset:
 * right for every wall time that exists; one skipped by a DST change maps past the gap.
 */
function instantOf(timeZone: string, wallMs: number): number {
  const first = wallMs - zoneOffsetMs(timeZone, wallMs);
  return wallMs - zoneOffsetMs(timeZone, first);
}

function endMinutes(calendar: TradingCalendar): number {
  const [h, m] = calendar.tradingDayEnd.split(":").map(Number);
  return h! * 60 + m!;
}

/** The instant (ms) trading day `n` (a day number) ends. */
function dayEndMs(calendar: TradingCalendar, n: number): number {
  return instantOf(calendar.timeZone, n * DAY_MS + endMinutes(calendar) * 60_000);
}

/**
 * The instants a trading day covers, in microseconds since the epoch: from (inclusive) the
 * end of the day before to (exclusive) its own end. With the default end 24:00 in IST,
 * 2026-12-03 is [2026-12-02T18:30Z, 2026-12-03T18:30Z).
 */
export function tradingDayRange(calendar: TradingCalendar, day: string): { fromUs: number; toUs: number } {
  const n = dayNumber(day);
  return { fromUs: dayEndMs(calendar, n - 1) * 1000, toUs: dayEndMs(calendar, n) * 1000 };
}

/** The trading day an instant (µs since the epoch) belongs to. */
export function tradingDayOf(calendar: TradingCalendar, timeUs: number): string {
  const ms = Math.floor(timeUs / 1000);
  // The local date, then one day on when the instant is at or past that date's end.
  let n = Math.floor((ms + zoneOffsetMs(calendar.timeZone, ms)) / DAY_MS);
  if (ms < dayEndMs(calendar, n - 1)) n--;
  else if (ms >= dayEndMs(calendar, n)) n++;
  return dayText(n);
}

/** Whether a date is a business day: not a weekend day, not a holiday. */
export function isBusinessDay(calendar: TradingCalendar, day: string): boolean {
  // 1970-01-01 was a Thursday.
  const weekday = WEEKDAYS[(((dayNumber(day) + 4) % 7) + 7) % 7]!;
  return !calendar.weekendDays.includes(weekday) && !calendar.holidays.includes(day);
}

/** The date trades of `day` settle: `settlementDays` business days after it (T+0: the day). */
export function settlementDate(calendar: TradingCalendar, day: string): string {
  let n = dayNumber(day);
  // A calendar of seven weekend days would never settle; the spec allows at most six.
  for (let left = calendar.settlementDays; left > 0;) {
    n++;
    if (isBusinessDay(calendar, dayText(n))) left--;
  }
  return dayText(n);
}
