import { describe, expect, it } from "vitest";
import { limitsDiffer, type GatewayLimits } from "../../src/policies/account-limits.ts";

const desired = { maxPosition: 1000, maxOrdersPerSecond: 50 };

describe("limitsDiffer", () => {
  it.each<[string, GatewayLimits | undefined, boolean]>([
    ["the same limits need no write", { maxPosition: 1000, maxOrdersPerSecond: 50, restrictedInstruments: [] }, false],
    ["a new account has none yet", undefined, true],
    ["a changed limit", { maxPosition: 999, maxOrdersPerSecond: 50 }, true],
    ["a limit set in the gateway that the spec leaves to the venue default", { ...desired, maxOrderQty: 10 }, true],
    ["a limit the spec sets that the gateway lacks", { maxPosition: 1000 }, true],
    ["a price collar set by hand", { ...desired, priceCollarBps: 500 }, true],
    ["an instrument restricted by hand", { ...desired, restrictedInstruments: ["INFY"] }, true],
    ["zero is a limit, not its absence", { ...desired, creditLimit: 0 }, true],
  ])("%s", (_name, current, differ) => {
    expect(limitsDiffer(current, desired)).toBe(differ);
  });
});
