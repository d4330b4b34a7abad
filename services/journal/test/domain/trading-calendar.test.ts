import { describe, expect, it } from "vitest";
import {
  IST_T1_CALENDAR,
  isTradingDayText,
  settlementDate,
  tradingDayOf,
  tradingDayRange,
  type TradingCalendar,
} from "../../src/domain/trading-calendar.ts";

const us = (iso: string) => Date.parse(iso) * 1000;
const nse: TradingCalendar = { ...IST_T1_CALENDAR, holidays: ["2026-12-25"] };
const newYork17: TradingCalendar = { ...IST_T1_CALENDAR, timeZone: "America/New_York", tradingDayEnd: "17:00" };

describe("tradingDayRange", () => {
  it.each([
    ["an IST date", nse, "2026-12-03", "2026-12-02T18:30:00Z", "2026-12-03T18:30:00Z"],
    ["a UTC date", { ...nse, timeZone: "UTC" }, "2026-12-03", "2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z"],
    ["a day ending 17:00 New York (EST)", newYork17, "2026-12-03", "2026-12-02T22:00:00Z", "2026-12-03T22:00:00Z"],
    ["a day ending 17:00 New York (EDT)", newYork17, "2026-07-01", "2026-06-30T21:00:00Z", "2026-07-01T21:00:00Z"],
    [
      "the day DST starts in New York (23 hours)",
      { ...newYork17, tradingDayEnd: "24:00" },
      "2026-03-08",
      "2026-03-08T05:00:00Z",
      "2026-03-09T04:00:00Z",
    ],
  ])("covers %s from the end of the day before to its own end", (_name, calendar, day, from, to) => {
    expect(tradingDayRange(calendar, day)).toEqual({ fromUs: us(from), toUs: us(to) });
  });
});

describe("tradingDayOf", () => {
  it.each([
    ["23:59:59.999999 IST", nse, us("2026-12-03T18:30:00Z") - 1, "2026-12-03"],
    ["midnight IST", nse, us("2026-12-03T18:30:00Z"), "2026-12-04"],
    ["05:29 UTC, already 10:59 IST", nse, us("2026-12-03T05:29:00Z"), "2026-12-03"],
    ["16:59 New York", newYork17, us("2026-12-03T21:59:00Z"), "2026-12-03"],
    ["17:00 New York, the next day's start", newYork17, us("2026-12-03T22:00:00Z"), "2026-12-04"],
    ["23:00 New York", newYork17, us("2026-12-04T04:00:00Z"), "2026-12-04"],
  ])("puts %s into its trading day", (_name, calendar, timeUs, day) => {
    expect(tradingDayOf(calendar, timeUs)).toBe(day);
  });

  it("agrees with tradingDayRange at both ends of every day of a year", () => {
    for (const calendar of [nse, newYork17])
      for (let d = 0; d < 366; d++) {
        const day = new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);
        const { fromUs, toUs } = tradingDayRange(calendar, day);
        expect([tradingDayOf(calendar, fromUs), tradingDayOf(calendar, toUs - 1)]).toEqual([day, day]);
      }
  });
});

describe("settlementDate", () => {
  it.each([
    ["Thursday T+1: Friday", nse, "2026-12-03", "2026-12-04"],
    ["Friday T+1: over the weekend to Monday", nse, "2026-12-04", "2026-12-07"],
    ["Thursday before a Friday holiday: Monday", nse, "2026-12-24", "2026-12-28"],
    ["T+2 over the weekend", { ...nse, settlementDays: 2 }, "2026-12-03", "2026-12-07"],
    ["T+0: the day itself", { ...nse, settlementDays: 0 }, "2026-12-05", "2026-12-05"],
    [
      "a Saturday trade with a Friday-only weekend",
      { ...nse, weekendDays: ["Fri"] as const },
      "2026-12-03",
      "2026-12-05",
    ],
  ])("settles %s", (_name, calendar, day, settles) => {
    expect(settlementDate(calendar, day)).toBe(settles);
  });
});

describe("isTradingDayText", () => {
  it.each([
    ["2026-12-03", true],
    ["2024-02-29", true],
    ["2026-02-29", false],
    ["2026-13-01", false],
    ["03-12-2026", false],
    ["2026-12-3", false],
  ])("%s -> %s", (text, ok) => {
    expect(isTradingDayText(text)).toBe(ok);
  });
});
