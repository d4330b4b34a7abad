import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RiskLimits } from "@tradeplane/contracts";
import { BUILTIN_STRATEGIES, buildStrategy } from "../src/registry.ts";
import { simulate } from "./support.ts";

/**
 * No built-in strategy ever sends an order its limits refuse: with random parameters,
 * random account limits and random markets (the testkit's seeded flow on the real matching
 * core), every order that leaves the SDK passes the gateway's own pre-trade checks in the
 * simulated venue. What the limits refuse, the SDK's LimitGuard refuses before it is sent.
 */

const INSTRUMENTS = ["INFY", "TCS"];
const REFERENCE = 100_000; // the flow's reference price, ticks

const limitsArb: fc.Arbitrary<RiskLimits> = fc
  .record(
    {
      maxOrderQty: fc.integer({ min: 1, max: 40 }),
      maxOrderNotional: fc.integer({ min: REFERENCE, max: 40 * REFERENCE }),
      priceCollarBps: fc.integer({ min: 5, max: 2_000 }),
      maxPosition: fc.integer({ min: 0, max: 60 }),
      creditLimit: fc.integer({ min: REFERENCE, max: 200 * REFERENCE }),
      maxOrdersPerSecond: fc.integer({ min: 1, max: 300 }),
    },
    { requiredKeys: [] },
  )
  .chain((l) =>
    fc.constantFrom<string[]>([], ["TCS"]).map((restrictedInstruments) => ({ ...l, restrictedInstruments })),
  );

/** A built-in's deployment: its parameters drawn from `parameters`, on both instruments unless given. */
const builtinArb = (
  builtin: string,
  parameters: Record<string, fc.Arbitrary<number | string>>,
  instruments: fc.Arbitrary<string[]> = fc.constant(INSTRUMENTS),
) => fc.record({ builtin: fc.constant(builtin), parameters: fc.record(parameters), instruments });

/** Each built-in with parameters drawn across their schema's useful range. */
const deploymentArb = fc.oneof(
  builtinArb("market-maker", {
    spreadTicks: fc.integer({ min: 1, max: 50 }),
    quoteQty: fc.integer({ min: 1, max: 50 }),
    maxInventory: fc.integer({ min: 0, max: 100 }),
    skewTicksPer100Lots: fc.integer({ min: 0, max: 200 }),
    referencePrice: fc.oneof(fc.constant(0), fc.integer({ min: REFERENCE - 2_000, max: REFERENCE + 2_000 })),
    staleMs: fc.integer({ min: 0, max: 2_000 }),
    refreshMs: fc.integer({ min: 10, max: 500 }),
  }),
  builtinArb("momentum-taker", {
    lookbackTrades: fc.integer({ min: 2, max: 30 }),
    thresholdTicks: fc.integer({ min: 1, max: 200 }),
    qty: fc.integer({ min: 1, max: 30 }),
    maxPosition: fc.integer({ min: 0, max: 100 }),
    cooldownMs: fc.integer({ min: 0, max: 500 }),
  }),
  builtinArb("noise-taker", {
    everyMs: fc.integer({ min: 10, max: 200 }),
    maxQty: fc.integer({ min: 1, max: 50 }),
    maxPosition: fc.integer({ min: 0, max: 100 }),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
  }),
  builtinArb(
    "twap",
    {
      side: fc.constantFrom("BUY", "SELL"),
      totalQty: fc.integer({ min: 1, max: 500 }),
      durationMs: fc.integer({ min: 10, max: 3_000 }),
      slices: fc.integer({ min: 1, max: 50 }),
      limitPrice: fc.integer({ min: REFERENCE - 3_000, max: REFERENCE + 3_000 }),
    },
    fc.constantFrom(["INFY"], ["TCS"]),
  ),
);

describe("the built-in strategies and their limits", () => {
  it("the property covers every built-in", () => {
    expect(Object.keys(BUILTIN_STRATEGIES).sort()).toEqual(["market-maker", "momentum-taker", "noise-taker", "twap"]);
  });

  it("never send an order the gateway's checks refuse, whatever the parameters, limits and market", () => {
    const totals = { sent: 0, refusedLocally: 0 };
    fc.assert(
      fc.property(deploymentArb, limitsArb, fc.integer({ min: 1, max: 1_000_000 }), (deployment, limits, seed) => {
        const r = buildStrategy(deployment.builtin, deployment.parameters, deployment.instruments);
        if (!r.ok) throw new Error(`invalid parameters drawn: ${JSON.stringify(r.problems)}`);
        const { venue, driver } = simulate(r.strategy, { commands: 1_500, seed, limits });
        expect(Object.fromEntries(venue.limitRejectReasons)).toEqual({});
        expect(venue.limitRejects).toBe(0);
        totals.sent += driver.counters.sent;
        totals.refusedLocally += driver.counters.refusedLocally;
      }),
      { numRuns: 60 },
    );
    // The strategies traded, and the limits drawn did bind: orders were refused before they left.
    expect(totals.sent).toBeGreaterThan(100);
    expect(totals.refusedLocally).toBeGreaterThan(0);
  });
});
