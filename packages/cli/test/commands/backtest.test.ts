import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@tradeplane/testkit";
import { randomFlow } from "../random-flow.ts";
import { runCli as cli } from "../run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-backtest-"));

function workload(): string {
  const file = join(dir, "flow.csv");
  writeFileSync(file, randomFlow(3_000, 11));
  return file;
}

describe("tradeplane backtest", () => {
  const file = workload();
  const args = ["--json", "backtest", "--strategy", "market-maker", "--param", "spreadTicks=2", "--param", "staleMs=0"];

  it("prints the same report for the same input, and writes a chart", async () => {
    const chart = join(dir, "mm.svg");
    const a = await cli(...args, "--workload", file, "--chart", chart);
    const b = await cli(...args, "--workload", file);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const report = JSON.parse(a.stdout) as { fills: number; gatewayRejects: number; netPnl: number };
    expect(report.fills).toBeGreaterThan(0);
    expect(report.gatewayRejects).toBe(0);
    expect(readFileSync(chart, "utf8")).toMatch(/^<svg/);
  });

  it("runs a user's strategy module", async () => {
    const run = await cli(
      "--json",
      "backtest",
      "--module",
      `${REPO_ROOT}/examples/strategies/01-join-the-best.ts`,
      "--workload",
      file,
    );
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { gatewayRejects: number }).gatewayRejects).toBe(0);
  });

  it("runs a user's module given with --strategy-module, with fees in basis points", async () => {
    const run = await cli(
      "--json",
      "backtest",
      "--strategy-module",
      `${REPO_ROOT}/examples/strategies/02-inventory-aware.ts`,
      "--fee-bps",
      "2",
      "--workload",
      file,
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      fills: number;
      fees: number;
      netPnl: number;
      realisedPnl: number;
      unrealisedPnl: number;
    };
    expect(report.fills).toBeGreaterThan(0);
    expect(report.fees).toBeGreaterThanOrEqual(report.fills);
    expect(report.netPnl).toBe(report.realisedPnl + report.unrealisedPnl - report.fees);
  });

  it("refuses a module that exports no strategy, saying what it must export", async () => {
    const bad = join(dir, "not-a-strategy.mjs");
    writeFileSync(bad, "export const answer = 42;\n");
    const run = await cli("backtest", "--strategy-module", bad, "--workload", file);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("exports no strategy: export function strategy(params, instruments)");
  });

  it("refuses fees that are not whole basis points", async () => {
    const run = await cli("backtest", "--strategy", "market-maker", "--fee-bps", "1.5", "--workload", file);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("--fee-bps 1.5");
  });

  it("refuses an unknown parameter, naming it", async () => {
    const run = await cli("backtest", "--strategy", "market-maker", "--param", "spread=2", "--workload", file);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("parameters.spread");
  });

  it.each([
    ["a price that is not whole ticks", "N,1,B,L,99.5,10", "line 1: price and quantity are whole numbers"],
    ["a negative quantity", "N,1,S,L,100000,-4", "line 1: price and quantity are whole numbers"],
    ["an unknown side", "N,1,X,L,100000,4", "line 1: side is B or S, type L or M"],
    ["a short new order", "N,1,B,L,100000", "line 1: a new order has 6 fields"],
    ["an unknown kind", "Q,1", "line 1: the kind is N, C or R"],
    ["an order id that is not a number", "C,abc", "line 1: the order id is not an integer"],
    [
      "a huge line, echoed in part only",
      `N,1,B,L,${"9".repeat(1_000_000)},1`,
      "line 1: a line is at most 1024 characters",
    ],
  ])("refuses a workload with %s, naming the line (exit 2, a short message)", async (_, line, message) => {
    const bad = join(dir, `bad-${line.length}-${line.slice(0, 3)}.csv`);
    writeFileSync(bad, `${line}\n`);
    const run = await cli("backtest", "--strategy", "market-maker", "--workload", bad);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr.length).toBeLessThan(bad.length + 300);
  });
});
