import { describe, expect, it } from "vitest";
import { inMaintenanceWindow } from "../../src/policies/maintenance-window.ts";

// 2026-12-05 is a Saturday.
const at = (iso: string) => new Date(iso);

describe("inMaintenanceWindow", () => {
  it.each([
    ["any time is fine when the venue names no window", undefined, "2026-12-05T10:00:00Z", true],
    ["inside a daily window", [{ start: "02:00", end: "04:00" }], "2026-12-05T03:59:00Z", true],
    ["the end minute is outside", [{ start: "02:00", end: "04:00" }], "2026-12-05T04:00:00Z", false],
    [
      "a weekday window is closed on Saturday",
      [{ days: ["Mon" as const], start: "00:00", end: "23:59" }],
      "2026-12-05T10:00:00Z",
      false,
    ],
    [
      "a window past midnight holds the evening of its day",
      [{ days: ["Sat" as const], start: "22:00", end: "02:00" }],
      "2026-12-05T23:00:00Z",
      true,
    ],
    ["and the morning after", [{ days: ["Sat" as const], start: "22:00", end: "02:00" }], "2026-12-06T01:30:00Z", true],
    [
      "but not the morning of its own day",
      [{ days: ["Sat" as const], start: "22:00", end: "02:00" }],
      "2026-12-05T01:30:00Z",
      false,
    ],
  ])("%s", (_name, windows, now, expected) => {
    expect(inMaintenanceWindow(windows, at(now))).toBe(expected);
  });
});
