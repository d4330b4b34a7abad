import { describe, expect, it } from "vitest";
import { Side } from "@tradeplane/contracts";
import { buildStrategy } from "@tradeplane/strategies";
import { Backtest } from "../src/backtest.ts";
import { chartSvg } from "../src/chart.ts";
import { replayWorkload, WORKLOAD_INSTRUMENT } from "../src/workload.ts";
import { workload } from "./flow.ts";

function run(text: string) {
  const built = buildStrategy("market-maker", { spreadTicks: 2, quoteQty: 5, maxInventory: 40, staleMs: 0 }, ["BENCH"]);
  if (!built.ok) throw new Error("bad parameters");
  const bt = new Backtest({
    instruments: [WORKLOAD_INSTRUMENT],
    strategy: built.strategy,
    startMs: 1_000_000,
    sampleEveryMs: 100,
  });
  replayWorkload(bt.apply, text, 1_000_000);
  return { report: bt.report(), series: bt.series };
}

describe("Backtest over a workload", () => {
  const text = workload(5_000, 3);

  it("gives the same report twice, bit for bit", () => {
    expect(JSON.stringify(run(text))).toBe(JSON.stringify(run(text)));
  });

  it("trades within the maker's bound, and sums P&L as the fills add up", () => {
    const { report, series } = run(text);
    expect(report.fills).toBeGreaterThan(0);
    expect(report.inventoryMax).toBeLessThanOrEqual(40);
    expect(report.inventoryMin).toBeGreaterThanOrEqual(-40);
    expect(report.gatewayRejects).toBe(0);
    expect(report.netPnl).toBe(report.realisedPnl + report.unrealisedPnl - report.fees);
    expect(report.maxDrawdown).toBeGreaterThanOrEqual(0);
    expect(series.length).toBeGreaterThan(10);
    expect(chartSvg(series, "mm")).toMatch(/^<svg[\s\S]*<path d="M/);
  });

  it("differs when the flow differs", () => {
    expect(run(workload(5_000, 4)).report.fillsDigest).not.toBe(run(text).report.fillsDigest);
  });

  it("keeps the flow's own orders apart: no flow order trades against itself", () => {
    // Two orders of the flow that cross: they trade (their accounts differ), the maker stays out.
    const bt = new Backtest({ instruments: [WORKLOAD_INSTRUMENT], strategy: {}, startMs: 0 });
    replayWorkload(bt.apply, "N,1,B,L,100000,5\nN,2,S,L,100000,5\n", 0);
    expect(bt.venue.lastPrice("BENCH")).toBe(100_000);
    expect(Side.BUY).toBe(1);
  });
});
