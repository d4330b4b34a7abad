import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Command } from "@tradeplane/contracts";
import {
  buildMultiVenueStrategy,
  buildStrategy,
  summariseBestExecution,
  type BestExecutionReport,
} from "@tradeplane/strategies";
import { Backtest } from "../src/backtest.ts";
import { mergeFlows, type FlowSource } from "../src/flow-source.ts";
import { MultiVenueBacktest, type VenueFill } from "../src/multi-venue-backtest.ts";
import { replayWorkload, WORKLOAD_INSTRUMENT, WorkloadFlow } from "../src/workload.ts";
import { workload } from "./flow.ts";

const START_MS = 1_000_000;

interface RouterRun {
  readonly side: "BUY" | "SELL";
  readonly totalQty: number;
  readonly limitPrice: number;
  /** Flow time before the router starts, ms (lines of a workload). */
  readonly warmUpMs?: number;
}

/** The smart order router over one generated workload per venue, as `tradeplane backtest` runs it. */
function routerBacktest(flows: Readonly<Record<string, string>>, { warmUpMs = 0, ...p }: RouterRun) {
  const built = buildMultiVenueStrategy("smart-order-router", { ...p, retryMs: 100 }, ["BENCH"]);
  if (!built.ok) throw new Error(JSON.stringify(built.problems));
  const router = built.strategy;
  const fills: VenueFill[] = [];
  const venues = Object.keys(flows).map((name) => ({ name, strategy: router.leg(name) }));
  const bt = new MultiVenueBacktest({
    instruments: [WORKLOAD_INSTRUMENT],
    venues,
    startMs: START_MS,
    startAtMs: START_MS + warmUpMs,
    sampleEveryMs: 50,
    onFill: (f) => fills.push(f),
  });
  const steps = bt.run(new Map(Object.entries(flows).map(([v, text]) => [v, new WorkloadFlow(text, START_MS)])));
  const report = bt.report();
  const best = router.report();
  return { bt, steps, report, best, summary: summariseBestExecution(best, 1), fills };
}

/** The cheapest (buy) or dearest (sell) `qty` lots among fills, price x lots. */
function bestOf(fills: readonly { price: number; qty: number }[], qty: number, side: "BUY" | "SELL"): number {
  let left = qty;
  let notional = 0;
  const sorted = [...fills].sort((a, b) => (side === "BUY" ? a.price - b.price : b.price - a.price));
  for (const f of sorted) {
    const take = Math.min(left, f.qty);
    left -= take;
    notional += take * f.price;
  }
  return notional;
}

/** Each round's fills (by the venue and client order id of its children). */
function fillsByRound(best: BestExecutionReport, fills: readonly VenueFill[]): Map<number, VenueFill[]> {
  const roundOf = new Map(best.children.map((c) => [`${c.venue}/${c.clientOrderId}`, c.round]));
  const out = new Map<number, VenueFill[]>();
  for (const f of fills) {
    const round = roundOf.get(`${f.venue}/${f.clientOrderId}`);
    if (round === undefined) throw new Error(`a fill of no child: ${JSON.stringify(f)}`);
    out.set(round, [...(out.get(round) ?? []), f]);
  }
  return out;
}

describe("mergeFlows", () => {
  /** A flow of steps at the given times, each recording `name@time`. */
  function flow(name: string, times: number[], log: string[]): FlowSource {
    let i = 0;
    return {
      nextTimeMs: () => times[i],
      step: (apply) => {
        log.push(`${name}@${times[i]}`);
        apply(name, undefined, times[i++]!);
      },
    };
  }

  it("applies the steps in time order, a tie in the order the flows are given", () => {
    const log: string[] = [];
    const apply = () => 0;
    const steps = mergeFlows([
      { flow: flow("nse", [1, 3, 3, 7], log), apply },
      { flow: flow("bse", [2, 3, 5], log), apply },
      { flow: flow("mcx", [], log), apply },
    ]);
    expect(steps).toBe(7);
    expect(log).toEqual(["nse@1", "bse@2", "nse@3", "nse@3", "bse@3", "bse@5", "nse@7"]);
  });

  it("reports progress every so many steps, for the CLI's progress bar", () => {
    const seen: number[] = [];
    const apply = () => 0;
    mergeFlows(
      [
        { flow: flow("nse", [1, 2, 3, 4, 5], [] as string[]), apply },
        { flow: flow("bse", [1, 2, 3, 4], [] as string[]), apply },
      ],
      (n) => seen.push(n),
      4,
    );
    expect(seen).toEqual([4, 8]);
  });
});

describe("MultiVenueBacktest", () => {
  const nse = workload(3_000, 21);
  const bse = workload(3_000, 22);

  it("WorkloadFlow feeds a backtest exactly as replayWorkload does", () => {
    const make = () => {
      const built = buildStrategy("market-maker", { spreadTicks: 2, quoteQty: 5, staleMs: 0 }, ["BENCH"]);
      if (!built.ok) throw new Error("bad parameters");
      return new Backtest({ instruments: [WORKLOAD_INSTRUMENT], strategy: built.strategy, startMs: START_MS });
    };
    const a = make();
    replayWorkload(a.apply, nse, START_MS);
    const b = make();
    const f = new WorkloadFlow(nse, START_MS);
    for (let t = f.nextTimeMs(); t !== undefined; t = f.nextTimeMs()) f.step(b.apply);
    expect(b.report()).toEqual(a.report());
    expect(f.lines).toBe(3_000);
  });

  it("over one venue gives the single-venue backtest's report", () => {
    const strategy = () => {
      const built = buildStrategy("market-maker", { spreadTicks: 2, quoteQty: 5, staleMs: 0 }, ["BENCH"]);
      if (!built.ok) throw new Error("bad parameters");
      return built.strategy;
    };
    const single = new Backtest({ instruments: [WORKLOAD_INSTRUMENT], strategy: strategy(), startMs: START_MS });
    replayWorkload(single.apply, nse, START_MS);
    const one = new MultiVenueBacktest({
      instruments: [WORKLOAD_INSTRUMENT],
      venues: [{ name: "nse", strategy: strategy() }],
      startMs: START_MS,
    });
    one.run(new Map([["nse", new WorkloadFlow(nse, START_MS)]]));
    const { venues, fillsDigest, ...summed } = one.report();
    const { fillsDigest: singleDigest, ...expected } = single.report();
    expect(summed).toEqual(expected);
    expect(venues.nse?.fillsDigest).toBe(singleDigest);
    expect(fillsDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("runs the router over two generated workloads twice with identical output", () => {
    const p = { side: "BUY", totalQty: 400, limitPrice: 100_004, warmUpMs: 2_000 } as const;
    const a = routerBacktest({ nse, bse }, p);
    const b = routerBacktest({ nse, bse }, p);
    expect(JSON.stringify({ r: a.report, s: a.summary, series: a.bt.series })).toBe(
      JSON.stringify({ r: b.report, s: b.summary, series: b.bt.series }),
    );
    expect(a.steps).toBe(6_000);
    expect(a.report.fills).toBeGreaterThan(0);
    expect(a.summary.totals.filledQty).toBe(400);
    // Started on two built books, it split the parent and paid less than the best single venue.
    expect(a.best.rounds[0]!.atMs).toBe(START_MS + 2_000);
    expect(a.summary.totals.improvement).toBeGreaterThan(0);
    // Both venues traded, and every leg's clock reads one time at the end.
    expect(new Set(a.fills.map((f) => f.venue))).toEqual(new Set(["nse", "bse"]));
    expect(a.bt.backtests.get("nse")!.venue.nowMs).toBe(a.bt.backtests.get("bse")!.venue.nowMs);
    // Swapping the venues' flows changes the run: the flows are each venue's own.
    expect(routerBacktest({ nse: bse, bse: nse }, p).report.fillsDigest).not.toBe(a.report.fillsDigest);
  });

  it("sums the best-execution totals from the children, and the backtest's fills from the venues", () => {
    const { report, best, summary, fills } = routerBacktest(
      { nse, bse },
      { side: "SELL", totalQty: 300, limitPrice: 99_995 },
    );
    const sum = (f: (c: (typeof summary.children)[number]) => number) => summary.children.reduce((s, c) => s + f(c), 0);
    expect(summary.totals.children).toBe(best.children.length);
    expect(summary.totals.filledQty).toBe(sum((c) => c.filledQty));
    expect(summary.totals.filledNotional).toBe(sum((c) => c.filledNotional));
    expect(summary.totals.filledQty).toBe(best.filledQty);
    expect(summary.totals.filledNotional).toBe(best.filledNotional);
    expect(summary.totals.filledQty).toBe(report.filledQty);
    expect(fills.reduce((s, f) => s + f.qty * f.price, 0)).toBe(summary.totals.filledNotional);
    expect(report.fills).toBe(report.venues.nse!.fills + report.venues.bse!.fills);
    expect(report.positions).toEqual({ BENCH: -summary.totals.filledQty });
  });

  it("never fills the router worse than the best single venue, round by round, whatever the flows and parent", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.constantFrom<"BUY" | "SELL">("BUY", "SELL"),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 99_990, max: 100_012 }),
        fc.constantFrom(0, 300),
        (seedA, seedB, side, totalQty, limitPrice, warmUpMs) => {
          const { best, fills, summary } = routerBacktest(
            { nse: workload(600, seedA), bse: workload(600, seedB) },
            { side, totalQty, limitPrice, warmUpMs },
          );
          expect(fills.every((f) => (side === "BUY" ? f.price <= limitPrice : f.price >= limitPrice))).toBe(true);
          const byRound = fillsByRound(best, fills);
          for (const round of best.rounds) {
            const single = round.improvedOn;
            if (single === undefined) continue;
            const got = byRound.get(round.round) ?? [];
            // At least the best single venue's quantity, and that quantity no dearer (a sell: no cheaper).
            expect(got.reduce((s, f) => s + f.qty, 0)).toBeGreaterThanOrEqual(single.filled);
            const notional = bestOf(got, single.filled, side);
            if (side === "BUY") expect(notional).toBeLessThanOrEqual(single.notional);
            else expect(notional).toBeGreaterThanOrEqual(single.notional);
          }
          expect(summary.totals.filledQty).toBe(fills.reduce((s, f) => s + f.qty, 0));
          // Everything routed went to the best prices: no improvement below zero unless it filled deeper.
          if (summary.totals.extraQty === 0) expect(summary.totals.improvement).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keeps the legs asleep until startAtMs: the books build first", () => {
    const { best, fills } = routerBacktest(
      { nse, bse },
      { side: "BUY", totalQty: 50, limitPrice: 100_010, warmUpMs: 1_500 },
    );
    expect(best.rounds[0]!.atMs).toBe(START_MS + 1_500);
    expect(fills.every((f) => f.timeMs >= START_MS + 1_500)).toBe(true);
  });

  it("refuses a flow for a venue it does not have, and venues named twice", () => {
    const bt = new MultiVenueBacktest({
      instruments: [WORKLOAD_INSTRUMENT],
      venues: [{ name: "nse", strategy: {} }],
      startMs: START_MS,
    });
    expect(() => bt.run(new Map([["bse", new WorkloadFlow(bse, START_MS)]]))).toThrow(/bse, which is no venue/);
    expect(() => bt.apply("bse", "x", undefined as Command["body"], START_MS)).toThrow(/no venue bse/);
    expect(
      () =>
        new MultiVenueBacktest({
          instruments: [WORKLOAD_INSTRUMENT],
          venues: [
            { name: "nse", strategy: {} },
            { name: "nse", strategy: {} },
          ],
          startMs: START_MS,
        }),
    ).toThrow(/each named once/);
  });
});
