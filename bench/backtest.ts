/**
 * Backtest benchmark: a built-in strategy attached to the simulated venue (the real
 * matching core, the gateway's projection and checks) over a workload of the shared
 * format, at full speed. Warms up on the first 100,000 lines, times one full run, then runs
 * it again (untimed) and checks that both give the same output (report and series); prints
 * one JSON object as its last line. The warm-up is short on purpose: after a full-size run
 * the next one in the same process costs a third more CPU (the old generation it leaves
 * behind), which a backtest, one per process, never pays; and there is no forced full
 * collection before the timed run, which measured slower still (7.3 against 5.6 CPU s).
 *
 *   npm run -s bench:backtest -- [--input FILE] [--strategy market-maker|momentum-taker]
 *
 * Without --input (or TP_BENCH_WORKLOAD) it generates a seed-1 workload of 1,000,000 lines into
 * a temp folder: with the shared benchmark generator (../shared/bench/gen.mjs) when it sits
 * beside the repository, since docs/performance.md's figures were measured on its stream, and
 * otherwise with the repository's own `tradeplane workload` (same format, other lines: other
 * figures and digests). The JSON line's `workload` says which.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  Backtest,
  parseWorkload,
  replayWorkload,
  WORKLOAD_INSTRUMENT,
  type BacktestReport,
  type Workload,
} from "@tradeplane/backtest";
import { buildStrategy } from "@tradeplane/strategies";

const START_MS = 1_767_225_600_000;

function args(argv: string[]): { input?: string; strategy: string } {
  const a: { input?: string; strategy: string } = { strategy: "market-maker" };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--input") a.input = argv[++i];
    else if (argv[i] === "--strategy") a.strategy = argv[++i]!;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return a;
}

/** The workload file, and where it came from (`file`, `shared-generator` or `tradeplane-workload`). */
function workloadFile(input: string | undefined): { file: string; source: string } {
  if (input !== undefined) return { file: input, source: "file" };
  if (process.env.TP_BENCH_WORKLOAD !== undefined) return { file: process.env.TP_BENCH_WORKLOAD, source: "file" };
  const out = join(mkdtempSync(join(tmpdir(), "tp-bench-")), "orders-1m-s1.csv");
  const shared = resolve(import.meta.dirname, "../../shared/bench/gen.mjs");
  const cli = resolve(import.meta.dirname, "../packages/cli/bin/tradeplane.mjs");
  // In a child process either way, so that generating leaves no garbage in the measuring one.
  const useShared = existsSync(shared);
  const command = useShared ? [shared] : [cli, "workload"];
  const source = useShared ? "shared-generator" : "tradeplane-workload";
  execFileSync(process.execPath, [...command, "--seed", "1", "--orders", "1000000", "--out", out], {
    stdio: "ignore",
  });
  return { file: out, source };
}

const PARAMS: Record<string, Record<string, number>> = {
  "market-maker": {
    spreadTicks: 2,
    quoteQty: 10,
    maxInventory: 500,
    skewTicksPer100Lots: 5,
    staleMs: 0,
    refreshMs: 1_000,
  },
  "momentum-taker": { lookbackTrades: 20, thresholdTicks: 20, qty: 5, maxPosition: 200, cooldownMs: 50 },
};

function run(
  text: Workload,
  name: string,
): { report: BacktestReport; seconds: number; cpuSeconds: number; lines: number; outputDigest: string } {
  const built = buildStrategy(name, PARAMS[name] ?? {}, [WORKLOAD_INSTRUMENT.symbol]);
  if (!built.ok) throw new Error(built.problems.map((p) => `${p.field}: ${p.message}`).join("; "));
  const bt = new Backtest({ instruments: [WORKLOAD_INSTRUMENT], strategy: built.strategy, startMs: START_MS });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const lines = replayWorkload(bt.apply, text, START_MS);
  const report = bt.report();
  const cpu = process.cpuUsage(cpu0);
  // The whole output (report and series): a speed change must leave it equal, bit for bit.
  const outputDigest = createHash("sha256")
    .update(JSON.stringify(report))
    .update(JSON.stringify(bt.series))
    .digest("hex");
  return {
    report,
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    lines,
    outputDigest,
  };
}

/** The first `n` lines of a parsed workload (views, no copy). */
function head(w: Workload, n: number): Workload {
  const count = Math.min(n, w.count);
  return {
    count,
    kind: w.kind.subarray(0, count),
    id: w.id.subarray(0, count),
    side: w.side.subarray(0, count),
    price: w.price.subarray(0, count),
    qty: w.qty.subarray(0, count),
  };
}

const a = args(process.argv.slice(2));
const { file, source } = workloadFile(a.input);
// Parsed before timing, as bench:engine does.
const text = parseWorkload(readFileSync(file, "utf8"));
const warm = run(head(text, 100_000), a.strategy);
console.error(`warm-up (${warm.lines} lines): ${warm.seconds.toFixed(3)} s`);
const timed = run(text, a.strategy);
const again = run(text, a.strategy);
const { report, seconds, cpuSeconds, lines } = timed;
if (timed.outputDigest !== again.outputDigest) throw new Error("two runs over the same input differ");
console.error(
  `${lines} lines, ${report.commands} commands, ${report.events} events in ${seconds.toFixed(3)} s; ` +
    `${report.fills} fills, net P&L ${report.netPnl}, inventory ${report.inventoryMin}..${report.inventoryMax}`,
);
console.log(
  JSON.stringify({
    bench: "backtest",
    strategy: a.strategy,
    workload: source,
    lines,
    commands: report.commands,
    events: report.events,
    seconds: Number(seconds.toFixed(6)),
    eventsPerSec: Math.round(report.events / seconds),
    // The machine may be shared: CPU time shows what the run itself cost.
    cpuSeconds: Number(cpuSeconds.toFixed(6)),
    eventsPerCpuSec: Math.round(report.events / cpuSeconds),
    linesPerSec: Math.round(lines / seconds),
    fills: report.fills,
    netPnl: report.netPnl,
    maxDrawdown: report.maxDrawdown,
    inventoryMin: report.inventoryMin,
    inventoryMax: report.inventoryMax,
    gatewayRejects: report.gatewayRejects,
    deterministic: true,
    fillsDigest: report.fillsDigest,
    outputDigest: timed.outputDigest,
  }),
);
