import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@tradeplane/testkit";
import { randomFlow } from "../random-flow.ts";
import { runCli as cli } from "../run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-backtest-venues-"));

/** A small flow of the shared format around 100000 (each venue its own seed). */
function workload(name: string, seed: number): string {
  const file = join(dir, `${name}.csv`);
  writeFileSync(file, randomFlow(2_000, seed));
  return file;
}

interface Child {
  venue: string;
  price: number;
  qty: number;
  filledQty: number;
  filledNotional: number;
  improvedOn: { venue: string; filled: number; notional: number } | undefined;
}

interface Report {
  fills: number;
  filledQty: number;
  gatewayRejects: number;
  positions: Record<string, number>;
  venues: Record<string, { workload: string; lines: number; fills: number; filledQty: number }>;
  bestExecution: {
    filledQty: number;
    children: Child[];
    totals: {
      children: number;
      filledQty: number;
      filledNotional: number;
      averagePrice: string;
      bestSingleVenue: { filledQty: number; notional: number; averagePrice: string };
      extraQty: number;
      improvement: number;
    };
  };
}

describe("tradeplane backtest across venues", () => {
  const nse = workload("nse", 31);
  const bse = workload("bse", 32);
  const router = [
    "backtest",
    "--strategy",
    "smart-order-router",
    "--param",
    "side=BUY",
    "--param",
    "totalQty=300",
    "--param",
    "limitPrice=100008",
  ];
  const venues = ["--venue-workload", `nse=${nse}`, "--venue-workload", `bse=${bse}`];

  it("backtests the router over two venues' flows, the same output twice, with its best-execution report", async () => {
    const chart = join(dir, "router.svg");
    const a = await cli("--json", ...router, ...venues, "--warm-up-ms", "1500", "--chart", chart);
    const b = await cli("--json", ...router, ...venues, "--warm-up-ms", "1500");
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const r = JSON.parse(a.stdout) as Report;
    const t = r.bestExecution.totals;
    expect(t.filledQty).toBe(300);
    expect(t.filledQty).toBe(r.bestExecution.children.reduce((s, c) => s + c.filledQty, 0));
    expect(t.filledNotional).toBe(r.bestExecution.children.reduce((s, c) => s + c.filledNotional, 0));
    expect(t.children).toBe(r.bestExecution.children.length);
    expect(r.bestExecution.children.every((c) => c.price <= 100_008 && c.improvedOn !== undefined)).toBe(true);
    expect(new Set(r.bestExecution.children.map((c) => c.venue))).toEqual(new Set(["nse", "bse"]));
    expect(t.improvement).toBeGreaterThan(0);
    expect(r.filledQty).toBe(300);
    expect(r.positions).toEqual({ BENCH: 300 });
    expect(r.venues.nse!.filledQty + r.venues.bse!.filledQty).toBe(300);
    expect(r.venues.nse).toMatchObject({
      workload: nse,
      lines: 2_000 + (readFileSync(nse, "utf8").match(/^C/gm)?.length ?? 0),
    });
    expect(r.gatewayRejects).toBe(0);
    expect(readFileSync(chart, "utf8")).toMatch(/^<svg/);
  });

  it("prints the report for people: each child, the best single venue and the totals", async () => {
    const run = await cli(...router, ...venues, "--warm-up-ms", "1500");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^smart-order-router over nse \(\d+ lines\), bse \(\d+ lines\)/);
    expect(run.stdout).toMatch(
      /round 1 at \+1500 ms: 300 lots left, routed \d+; best single venue (nse|bse): \d+ lots/,
    );
    expect(run.stdout).toMatch(/^ {4}(nse|bse) bt-1: \d+ @ \d+ IOC, filled \d+ for \d+$/m);
    expect(run.stdout).toMatch(/totals: \d+ children, filled 300 lots for \d+, average \d+\.\d{4}/);
    expect(run.stdout).toMatch(/improvement \d+ minor units/);
  });

  it("keeps --workload FILE a single-venue backtest", async () => {
    const run = await cli("--json", "backtest", "--strategy", "market-maker", "--workload", nse);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).not.toHaveProperty("bestExecution");
  });

  const f = () => nse;
  it.each([
    { why: "a pair without a venue name", args: () => [...router, "--venue-workload", f()], says: "give NAME=FILE" },
    {
      why: "a venue name a TradingVenue cannot have",
      args: () => [...router, "--venue-workload", `NSE=${f()}`, "--venue-workload", `bse=${f()}`],
      says: "NSE is no venue name",
    },
    {
      why: "one venue twice",
      args: () => [...router, "--venue-workload", `nse=${f()}`, "--venue-workload", `nse=${f()}`],
      says: "venue nse given twice",
    },
    { why: "one venue only", args: () => [...router, "--venue-workload", `nse=${f()}`], says: "two or more" },
    {
      why: "the router over one workload",
      args: () => [...router, "--workload", f()],
      says: "smart-order-router trades on several venues: give each venue's flow with --venue-workload NAME=FILE",
    },
    { why: "both kinds of flow", args: () => [...router, ...venues, "--workload", f()], says: "not both" },
    {
      why: "a single-venue strategy across venues",
      args: () => ["backtest", "--strategy", "market-maker", ...venues],
      says: "--strategy market-maker trades on one venue",
    },
    {
      why: "a user's module across venues",
      args: () => ["backtest", "--module", `${REPO_ROOT}/examples/strategies/01-join-the-best.ts`, ...venues],
      says: "--strategy-module runs on one venue",
    },
    {
      why: "the router without its parent's size",
      args: () => [
        "backtest",
        "--strategy",
        "smart-order-router",
        "--param",
        "side=BUY",
        "--param",
        "limitPrice=1",
        ...venues,
      ],
      says: "--param parameters.totalQty",
    },
    {
      why: "a warm-up on one venue",
      args: () => ["backtest", "--strategy", "market-maker", "--workload", f(), "--warm-up-ms", "10"],
      says: "--warm-up-ms is for a backtest over several venues",
    },
    {
      why: "a warm-up that is no whole number",
      args: () => [...router, ...venues, "--warm-up-ms", "1.5"],
      says: "--warm-up-ms 1.5: give whole milliseconds",
    },
    {
      why: "a venue's file that is not there",
      args: () => [...router, "--venue-workload", `nse=${f()}`, "--venue-workload", `bse=${dir}/none.csv`],
      says: "cannot read it: ENOENT",
    },
    {
      why: "no flow at all",
      args: () => ["backtest", "--strategy", "market-maker"],
      says: "give the flow: --workload FILE",
    },
  ])("refuses $why with a usage error that says what to give", async ({ args, says }) => {
    const run = await cli(...args());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(says);
  });
});
