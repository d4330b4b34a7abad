import { describe, expect, it } from "vitest";
import { Side } from "@tradeplane/contracts";
import { noiseOrder, noiseTaker, noiseTakerParams, seededRandom } from "../src/noise-taker.ts";
import { simulate } from "./support.ts";

const params = noiseTakerParams.parse({ maxQty: 4, maxPosition: 10 });

describe("noiseOrder", () => {
  it.each([
    ["buys on a low side draw", 0.2, 0, 0, { side: Side.BUY, qty: 1 }],
    ["sells on a high side draw", 0.7, 0.99, 0, { side: Side.SELL, qty: 4 }],
    ["buys only what keeps the position within its bound", 0.1, 0.99, 8, { side: Side.BUY, qty: 2 }],
    ["does not buy at the bound", 0.1, 0.5, 10, undefined],
    ["does not sell at the bound", 0.9, 0.5, -10, undefined],
  ])("%s", (_name, sideDraw, qtyDraw, netQty, expected) => {
    expect(noiseOrder(params, sideDraw, qtyDraw, netQty)).toEqual(expected);
  });
});

describe("seededRandom", () => {
  it("gives the same draws for the same seed and others for another", () => {
    const draws = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    for (const d of draws(7)) expect(d >= 0 && d < 1).toBe(true);
  });
});

describe("the noise taker on the real core", () => {
  it("trades, within its position bound, and the same seed gives the same fills", () => {
    const p = noiseTakerParams.parse({ everyMs: 50, maxQty: 3, maxPosition: 6, seed: 3 });
    const run = () => {
      let worst = 0;
      const { driver, venue } = simulate(noiseTaker(p, ["INFY", "TCS"]), {
        commands: 3_000,
        each: (v) => {
          for (const i of ["INFY", "TCS"])
            worst = Math.max(worst, Math.abs(v.projection.positionOf("strat", i).netQty));
        },
      });
      return { fills: driver.counters.fills, filledQty: driver.counters.filledQty, worst, rejects: venue.limitRejects };
    };
    const first = run();
    expect(first.fills).toBeGreaterThan(0);
    expect(first.worst).toBeLessThanOrEqual(6);
    expect(first.rejects).toBe(0);
    expect(run()).toEqual(first);
  });
});
