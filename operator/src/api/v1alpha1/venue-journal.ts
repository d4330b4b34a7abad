import { z } from "zod";
import { LIST_SET } from "./kube-schema.ts";
import {
  SECRET_KEY_MAX_LENGTH,
  SECRET_KEY_MESSAGE,
  SECRET_KEY_PATTERN,
  SECRET_NAME_MAX_LENGTH,
  SECRET_NAME_MESSAGE,
  SECRET_NAME_PATTERN,
  weekdays,
} from "./venue-operations.ts";

/**
 * The venue's calendar (what a trading day is, and when its trades settle) and its trade
 * journal (where the event stream is projected for queries, audit and clearing). Local mode
 * and the operator read both; the journal's queries group trades into trading days with the
 * calendar, so "the day" of a register or of clearing obligations means the same everywhere.
 */

/** The venue time zone of an NSE-like venue: IST, UTC+05:30, no daylight saving. */
export const DEFAULT_TIME_ZONE = "Asia/Kolkata";
/** Settlement cycle in business days after the trade date (NSE equities: T+1). */
export const DEFAULT_SETTLEMENT_DAYS = 1;

/** True when the runtime knows `zone` as an IANA time zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// The shape of an IANA name (Area/Location[/Sub], or UTC): the API server checks this; only
// zod can ask the runtime whether the zone exists.
const TIME_ZONE_PATTERN = /^([A-Za-z][A-Za-z0-9_+-]{0,30})(\/[A-Za-z0-9_+-]{1,30}){0,2}$/;
const DATE_PATTERN = /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;
const DAY_END_PATTERN = /^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;

/** A calendar date "YYYY-MM-DD" that exists (2026-02-30 does not). */
export function isCalendarDate(text: string): boolean {
  if (!DATE_PATTERN.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

const dateText = z
  .string()
  .max(10)
  .regex(DATE_PATTERN, 'must be a date "YYYY-MM-DD"')
  .refine(isCalendarDate, "must be a date that exists")
  .describe('A date "YYYY-MM-DD" in the venue time zone');

const unique = (list: readonly string[]) => new Set(list).size === list.length;

export const calendarSchema = z
  .object({
    timeZone: z
      .string()
      .max(64)
      .regex(TIME_ZONE_PATTERN, 'must be an IANA time zone name such as "Asia/Kolkata"')
      .refine(isTimeZone, "must be an IANA time zone the runtime knows, such as Asia/Kolkata")
      .default(DEFAULT_TIME_ZONE)
      .describe("IANA time zone of the venue's trading days (default Asia/Kolkata, IST)"),
    tradingDayEnd: z
      .string()
      .regex(DAY_END_PATTERN, 'must be a time "HH:MM" from 00:00 to 24:00')
      .default("24:00")
      .describe(
        "Local time a trading day ends: day D runs from the end of the day before to the end of D. 24:00 (the default) makes it the calendar date; 17:00 puts trades after 17:00 into the next day",
      ),
    weekendDays: z
      .array(z.enum(weekdays).describe("A day of the week"))
      .max(6)
      .default(["Sat", "Sun"])
      .refine(unique, "days must be unique")
      .meta(LIST_SET)
      .describe("Days of the week that are not business days (default Sat, Sun)"),
    holidays: z
      .array(dateText)
      .max(1_000)
      .default([])
      .refine(unique, "holidays must be unique")
      .meta(LIST_SET)
      .describe("Dates that are not business days: no settlement falls on them"),
    settlementDays: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(DEFAULT_SETTLEMENT_DAYS)
      .describe("Settlement cycle: obligations of trade date T settle T + this many business days (NSE: 1)"),
  })
  .strict()
  .describe("What a trading day is in the venue's time zone, and when trades settle");

export const journalSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe("Run the trade journal: the event stream projected into SQL, with the JournalQuery gRPC API"),
    databaseUrlSecret: z
      .object({
        name: z
          .string()
          .max(SECRET_NAME_MAX_LENGTH)
          .regex(SECRET_NAME_PATTERN, SECRET_NAME_MESSAGE)
          .describe("Name of the Secret, in the venue's namespace"),
        key: z
          .string()
          .max(SECRET_KEY_MAX_LENGTH)
          .regex(SECRET_KEY_PATTERN, SECRET_KEY_MESSAGE)
          .default("database-url")
          .describe("Key of the URL in the Secret (default database-url)"),
      })
      .strict()
      .optional()
      .describe(
        "Secret holding the PostgreSQL URL (postgres://user:password@host:5432/db), mounted into the journal pod as a file (TP_DATABASE_URL_FILE); the URL never appears in the spec or a ConfigMap. None: PGlite embedded in the journal (Kubernetes: on a volume of embeddedStorage; local mode always embeds it in the venue's data folder)",
      ),
    embeddedStorage: z
      .string()
      .regex(/^[1-9][0-9]*(Mi|Gi|Ti)$/, 'must be a storage quantity such as "10Gi"')
      .default("10Gi")
      .describe("Size of the volume of the embedded PGlite database when there is no databaseUrlSecret"),
    poolSize: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe("Most PostgreSQL connections the journal holds (projector and queries)"),
    batchMessages: z
      .number()
      .int()
      .min(1)
      .max(65_536)
      .default(512)
      .describe("Most event-stream messages written in one transaction"),
  })
  .strict()
  .describe("The trade journal (see docs/journal.md)");

export type VenueCalendar = z.infer<typeof calendarSchema>;
export type JournalSpec = z.infer<typeof journalSchema>;
