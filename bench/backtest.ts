/**
 * Backtest benchmark: a built-in strategy attached to the simulated venue (the real
 * matching core, the gateway's projection and checks) over a workload of the shared
 * format, at full speed. Runs twice (the first run also warms up) and checks that both
 * give the same report; prints one JSON object as its last line.
 *
 *   npm run -s bench:backtest -- [--input FILE] [--strategy market-maker|momentum-taker]
 *
 * Without --input it generates the seed-1 workload of 1,000,000 orders with
 * ../shared/bench/gen.mjs into a temp folder (or reads TP_BENCH_WORKLOAD).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
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

/**
 * A full collection before each timed run (as bench:engine does), so that the warm-up's dead
 * venue (hundreds of MB of orders, reports and maps) is not collected inside the timed run.
 */
setFlagsFromString("--expose-gc");
const fullGc = runInNewContext("gc") as () => void;

function args(argv: string[]): { input?: string; strategy: string } {
  const a: { input?: string; strategy: string } = { strategy: "market-maker" };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--input") a.input = argv[++i];
    else if (argv[i] === "--strategy") a.strategy = argv[++i]!;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return a;
}

function workloadFile(input: string | undefined): string {
  if (input !== undefined) return input;
  if (process.env.TP_BENCH_WORKLOAD !== undefined) return process.env.TP_BENCH_WORKLOAD;
  const gen = resolve(import.meta.dirname, "../../shared/bench/gen.mjs");
  const fallback = "/work/shared/bench/gen.mjs";
  const script = existsSync(gen) ? gen : fallback;
  const out = join(mkdtempSync(join(tmpdir(), "tp-bench-")), "orders-1m-s1.csv");
  execFileSync(process.execPath, [script, "--seed", "1", "--orders", "1000000", "--out", out], { stdio: "ignore" });
  return out;
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
  fullGc();
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

const a = args(process.argv.slice(2));
const file = workloadFile(a.input);
// Parsed before timing, as bench:engine does.
const text = parseWorkload(readFileSync(file, "utf8"));
const first = run(text, a.strategy);
console.error(`warm-up: ${first.seconds.toFixed(3)} s`);
const second = run(text, a.strategy);
const { report, seconds, cpuSeconds, lines } = second;
if (first.outputDigest !== second.outputDigest) throw new Error("two runs over the same input differ");
console.error(
  `${lines} lines, ${report.commands} commands, ${report.events} events in ${seconds.toFixed(3)} s; ` +
    `${report.fills} fills, net P&L ${report.netPnl}, inventory ${report.inventoryMin}..${report.inventoryMax}`,
);
console.log(
  JSON.stringify({
    bench: "backtest",
    strategy: a.strategy,
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
    outputDigest: second.outputDigest,
  }),
);
