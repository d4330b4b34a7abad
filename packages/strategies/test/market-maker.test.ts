import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { InstrumentState } from "@tradeplane/contracts";
import { makerQuotes, marketMaker, marketMakerParams, type MakerView } from "../src/market-maker.ts";
import { simulate } from "./support.ts";

const view = (v: Partial<MakerView>): MakerView => ({
  state: InstrumentState.CONTINUOUS,
  bestBid: 100,
  bestAsk: 110,
  lastPrice: 0,
  referencePrice: 100,
  tick: 1,
  netQty: 0,
  ageMs: 0,
  ...v,
});
const params = (p: Record<string, unknown> = {}) => marketMakerParams.parse(p);

describe("makerQuotes", () => {
  it.each([
    ["quotes symmetrically around the mid", {}, {}, { bid: { price: 103, qty: 10 }, ask: { price: 107, qty: 10 } }],
    [
      "quotes around the configured reference price",
      { referencePrice: 200 },
      { bestBid: undefined, bestAsk: undefined },
      { bid: { price: 198, qty: 10 }, ask: { price: 202, qty: 10 } },
    ],
    [
      "falls back to the last trade without a book",
      {},
      { bestBid: undefined, bestAsk: undefined, lastPrice: 50 },
      { bid: { price: 48, qty: 10 }, ask: { price: 52, qty: 10 } },
    ],
    [
      "skews both quotes down when long",
      { skewTicksPer100Lots: 100 },
      { netQty: 2 },
      { bid: { price: 101, qty: 10 }, ask: { price: 105, qty: 10 } },
    ],
    [
      "shrinks the bid so a full fill stays within the inventory bound",
      { maxInventory: 12 },
      { netQty: 5 },
      { bid: { price: 103, qty: 7 }, ask: { price: 107, qty: 10 } },
    ],
    ["stops bidding at the inventory bound", { maxInventory: 5 }, { netQty: 5 }, { ask: { price: 107, qty: 10 } }],
    [
      "rounds to the instrument's tick",
      { spreadTicks: 2 },
      { tick: 5, bestBid: 100, bestAsk: 120 },
      { bid: { price: 105, qty: 10 }, ask: { price: 115, qty: 10 } },
    ],
    [
      "never quotes through what others show",
      { referencePrice: 200 },
      { bestBid: 100, bestAsk: 110 },
      { bid: { price: 109, qty: 10 }, ask: { price: 202, qty: 10 } },
    ],
    ["pulls its quotes when the instrument is halted", {}, { state: InstrumentState.HALTED }, {}],
    ["pulls its quotes when the feed is stale", { staleMs: 1_000 }, { ageMs: 1_001 }, {}],
  ])("%s", (_name, p, v, expected) => {
    expect(makerQuotes(params(p), view(v))).toEqual(expected);
  });
});

describe("the market maker on the real core", () => {
  it("keeps its inventory within its bound whatever the flow", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 30 }),
        (seed, maxInventory, quoteQty) => {
          const p = params({ maxInventory, quoteQty, spreadTicks: 2, staleMs: 0 });
          let worst = 0;
          const { driver, venue } = simulate(marketMaker(p, ["INFY", "TCS"]), {
            commands: 800,
            seed,
            each: (v) => {
              for (const i of ["INFY", "TCS"])
                worst = Math.max(worst, Math.abs(v.projection.positionOf("strat", i).netQty));
            },
          });
          expect(worst).toBeLessThanOrEqual(maxInventory);
          expect(venue.limitRejects).toBe(0);
          if (maxInventory > 0) expect(driver.counters.sent).toBeGreaterThan(0);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("trades, and has no order left once the instrument halts", () => {
    const { venue, driver } = simulate(marketMaker(params({ quoteQty: 5, spreadTicks: 4, staleMs: 0 }), ["INFY"]), {
      commands: 1_500,
      each: (v, i) => {
        if (i === 1_000)
          v.apply(
            "ops",
            {
              $case: "setInstrumentState",
              value: { instrument: "INFY", state: InstrumentState.HALTED, reason: "test", fromStates: [] },
            },
            v.nowMs,
          );
      },
    });
    expect(driver.counters.fills).toBeGreaterThan(0);
    expect(venue.projection.openOrders("strat", "INFY")).toEqual([]);
  });
});
