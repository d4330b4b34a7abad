import { describe, expect, it } from "vitest";
import { LOG_FORMAT } from "@tradeplane/contracts";
import { logFormatVerdict } from "../src/log-format.ts";

describe("logFormatVerdict", () => {
  it.each([
    ["a new, empty log: stamp it", undefined, 0, { action: "stamp" }],
    ["a stamped log of this format", String(LOG_FORMAT), 5, { action: "ok" }],
    ["a stamped, still empty log", String(LOG_FORMAT), 0, { action: "ok" }],
    ["commands but no stamp: written before stamping (format 1)", undefined, 3, { action: "refuse", found: "1" }],
    ["a stamp of another format", "3", 0, { action: "refuse", found: "3" }],
  ] as const)("%s", (_name, stamp, entries, verdict) => {
    expect(logFormatVerdict(stamp, entries)).toEqual(verdict);
  });
});
