import { describe, expect, it } from "vitest";
import { Side } from "@tradeplane/contracts";
import { momentumSignal, momentumTaker, momentumTakerParams } from "../src/momentum-taker.ts";
import { simulate } from "./support.ts";

const params = momentumTakerParams.parse({ lookbackTrades: 3, thresholdTicks: 10, qty: 5, maxPosition: 10 });

describe("momentumSignal", () => {
  it.each([
    ["buys after a rise of the threshold", [100, 105, 110], 0, Side.BUY],
    ["sells after a fall of the threshold", [110, 104, 100], 0, Side.SELL],
    ["does nothing on a smaller move", [100, 105, 109], 0, 0],
    ["does nothing before the lookback is full", [100, 120], 0, 0],
    ["does not buy beyond the position bound", [100, 105, 110], 6, 0],
    ["does not sell beyond the position bound", [110, 104, 100], -6, 0],
  ])("%s", (_name, prices, netQty, expected) => {
    expect(momentumSignal(params, prices, netQty)).toBe(expected);
  });
});

describe("the momentum taker on the real core", () => {
  it("trades within its position bound", () => {
    const p = momentumTakerParams.parse({
      lookbackTrades: 5,
      thresholdTicks: 5,
      qty: 3,
      maxPosition: 9,
      cooldownMs: 0,
    });
    let worst = 0;
    const { driver, venue } = simulate(momentumTaker(p, ["INFY", "TCS"]), {
      commands: 3_000,
      each: (v) => {
        for (const i of ["INFY", "TCS"]) worst = Math.max(worst, Math.abs(v.projection.positionOf("strat", i).netQty));
      },
    });
    expect(driver.counters.fills).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(9);
    expect(venue.limitRejects).toBe(0);
  });
});
