import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { OrderType, Side, type RiskLimits } from "@tradeplane/contracts";
import { StrategyDriver, type Strategy, type StrategyContext } from "@tradeplane/sdk";
import { commandStream, prng, REFERENCE_PRICE, testInstrumentSettings } from "@tradeplane/testkit";
import { SimulatedVenue } from "../src/simulated-venue.ts";

const INSTRUMENTS = testInstrumentSettings.map((i) => ({ ...i, notionalPerTickLot: 1 }));

/** Sends whatever a seeded coin says: any side, price near the reference, any size, cancels and replaces. */
function randomStrategy(seed: number): Strategy {
  const rnd = prng(seed);
  const act = (ctx: StrategyContext) => {
    const instrument = rnd() < 0.5 ? "INFY" : "TCS";
    const r = rnd();
    const working = ctx.openOrders(instrument);
    if (r < 0.6 || working.length === 0) {
      const market = rnd() < 0.1;
      ctx.submit({
        instrument,
        side: rnd() < 0.5 ? Side.BUY : Side.SELL,
        price: market ? 0 : REFERENCE_PRICE - 300 + Math.floor(rnd() * 600),
        qty: 1 + Math.floor(rnd() * 300),
        ...(market ? { orderType: OrderType.MARKET } : {}),
      });
    } else if (r < 0.8) {
      ctx.cancel(working[Math.floor(rnd() * working.length)]!.clientOrderId);
    } else {
      const o = working[Math.floor(rnd() * working.length)]!;
      ctx.replace(
        o.clientOrderId,
        REFERENCE_PRICE - 300 + Math.floor(rnd() * 600),
        o.cumQty + 1 + Math.floor(rnd() * 300),
      );
    }
  };
  return { onBook: act, onTimer: act, onStart: (ctx) => ctx.setTimer("tick", 5) };
}

const limitsArb: fc.Arbitrary<RiskLimits> = fc.record({
  maxOrderQty: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
  maxOrderNotional: fc.option(fc.integer({ min: 0, max: 30_000_000 }), { nil: undefined }),
  priceCollarBps: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
  maxPosition: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
  creditLimit: fc.option(fc.integer({ min: 0, max: 80_000_000 }), { nil: undefined }),
  maxOrdersPerSecond: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
  restrictedInstruments: fc.subarray(["INFY", "TCS"]),
});

describe("a strategy behind the SDK's limit guard", () => {
  it("never sends an order the gateway's checks refuse, whatever its limits and the market", () => {
    fc.assert(
      fc.property(limitsArb, fc.integer({ min: 1, max: 1_000_000 }), (limits, seed) => {
        const flow = commandStream(600, seed);
        const startMs = flow[0]!.timestamp!.seconds * 1000;
        const venue = new SimulatedVenue(INSTRUMENTS, startMs);
        const driver = new StrategyDriver({
          account: "strat",
          strategy: randomStrategy(seed),
          orders: venue.portFor("strat"),
          market: venue,
          limits,
          clock: () => venue.nowMs,
          clientOrderIdPrefix: "s",
        });
        venue.attach("strat", driver, limits);
        driver.start();
        for (const c of flow) {
          const ms = c.timestamp!.seconds * 1000 + Math.floor(c.timestamp!.nanos / 1e6);
          venue.apply(c.account, c.body, ms);
        }
        driver.stop();
        expect(venue.limitRejects).toBe(0);
        expect(driver.counters.sent + driver.counters.refusedLocally).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });

  it("is what keeps them out: without the guard the same strategy meets the gateway's rejects", () => {
    const limits: RiskLimits = { maxPosition: 50, maxOrderQty: 100, restrictedInstruments: ["TCS"] };
    const flow = commandStream(600, 7);
    const venue = new SimulatedVenue(INSTRUMENTS, flow[0]!.timestamp!.seconds * 1000);
    // A driver told there are no limits, at a venue that has them.
    const driver = new StrategyDriver({
      account: "strat",
      strategy: randomStrategy(7),
      orders: venue.portFor("strat"),
      market: venue,
      clock: () => venue.nowMs,
      clientOrderIdPrefix: "s",
    });
    venue.attach("strat", driver, limits);
    driver.start();
    for (const c of flow) venue.apply(c.account, c.body, c.timestamp!.seconds * 1000);
    expect(venue.limitRejects).toBeGreaterThan(0);
  });
});
