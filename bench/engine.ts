/**
 * Matching-engine benchmark. Replays a workload (../shared/bench/README.md format, parsed before
 * timing) through the engine with its full event output, then through nodejs-order-book, and
 * prints one JSON object as its last line.
 *
 *   npm run -s bench:engine -- --input FILE [--warmup N] [--no-compare] [--id-base N]
 *   npm run -s bench:engine -- --input FILE --latency [--warmup N] [--clock hrtime|now]
 *   npm run -s bench:engine -- --rss [--orders 1000000]
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { OrderType, restoreEngine, Side, TimeInForce } from "@tradeplane/matching-core";
import { TradeTape } from "./lib/fingerprint.ts";
import { GcCounter } from "./lib/gc-counter.ts";
import { Histogram } from "./lib/histogram.ts";
import { newBenchEngine, replay, replayTimed } from "./lib/replay-engine.ts";
import { replayNodejsOrderBook, stringIds } from "./lib/replay-nodejs-order-book.ts";
import { parseWorkload, type Workload } from "./lib/workload.ts";

interface Args {
  input?: string;
  warmup: number;
  compare: boolean;
  latency: boolean;
  rss: boolean;
  orders: number;
  clock: "hrtime" | "now";
  /** Order ids and command sequences start here (2e12: a venue past V8's small integers). */
  idBase: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    warmup: 1,
    compare: true,
    latency: false,
    rss: false,
    orders: 1_000_000,
    clock: "hrtime",
    idBase: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--input") a.input = argv[++i];
    else if (k === "--warmup") a.warmup = Number(argv[++i]);
    else if (k === "--no-compare") a.compare = false;
    else if (k === "--latency") a.latency = true;
    else if (k === "--rss") a.rss = true;
    else if (k === "--orders") a.orders = Number(argv[++i]);
    else if (k === "--id-base") a.idBase = Number(argv[++i]);
    else if (k === "--clock") {
      const c = argv[++i];
      if (c !== "hrtime" && c !== "now") throw new Error("--clock takes hrtime or now");
      a.clock = c;
    } else throw new Error(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.warmup) || a.warmup < 0) throw new Error("--warmup takes an integer >= 0");
  if (!Number.isSafeInteger(a.idBase) || a.idBase < 0 || a.idBase > 2 ** 52)
    throw new Error("--id-base takes an integer 0..2^52");
  if (!a.rss && a.input === undefined) throw new Error("--input FILE is required (or --rss)");
  return a;
}

/**
 * A full collection before each timed section, so that garbage left by parsing and warm-up runs
 * (dead engines are large ArrayBuffers) is not collected inside it.
 */
setFlagsFromString("--expose-gc");
const fullGc = runInNewContext("gc") as () => void;

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const maxRssMB = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
const log = (msg: string) => console.error(msg);

async function throughput(w: Workload, args: Args): Promise<Record<string, unknown>> {
  const gc = new GcCounter();
  for (let i = 0; i < args.warmup; i++) {
    const t = performance.now();
    replay(newBenchEngine(), w, new TradeTape(1 << 16), args.idBase);
    log(`warm-up ${i + 1}/${args.warmup}: ${((performance.now() - t) / 1000).toFixed(3)} s`);
  }
  const e = newBenchEngine();
  const tape = new TradeTape(Math.max(1 << 16, w.count >> 1));
  fullGc();
  // CPU time beside wall time: on a shared machine the wall clock counts other processes' turns.
  const cpu0 = process.cpuUsage();
  const t0 = gc.now();
  const { commands, events } = replay(e, w, tape, args.idBase);
  const t1 = gc.now();
  const cpu = process.cpuUsage(cpu0);
  const seconds = (t1 - t0) / 1000;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const gcCounts = await gc.countBetween(t0, t1);
  const rss = maxRssMB();
  const fingerprint = tape.fingerprint();
  const stats = e.stats();
  log(
    `tradeplane: ${w.count} orders (${commands} commands, ${events} events) in ${seconds.toFixed(3)} s = ` +
      `${(w.count / seconds / 1e6).toFixed(2)} M ops/s; ${tape.count} trades; resting at end ${stats.restingOrders}; ` +
      `GC during the timed run: ${JSON.stringify(gcCounts)}`,
  );
  const out: Record<string, unknown> = {
    engine: "tradeplane",
    orders: w.count,
    seconds: Math.round(seconds * 1e6) / 1e6,
    opsPerSec: Math.round(w.count / seconds),
    cpuSeconds: Math.round(cpuSeconds * 1e6) / 1e6,
    opsPerCpuSecond: Math.round(w.count / cpuSeconds),
    trades: tape.count,
    fingerprint,
    maxRssMB: rss,
    commands,
    events,
    warmup: args.warmup,
    idBase: args.idBase,
    gc: gcCounts,
  };
  if (args.compare) {
    const ids = stringIds(w);
    for (let i = 0; i < args.warmup; i++) replayNodejsOrderBook(w, ids);
    fullGc();
    const n0 = gc.now();
    const errors = replayNodejsOrderBook(w, ids);
    const n1 = gc.now();
    const nSeconds = (n1 - n0) / 1000;
    const nOps = w.count / nSeconds;
    const nGc = await gc.countBetween(n0, n1);
    log(
      `nodejs-order-book: ${nSeconds.toFixed(3)} s = ${(nOps / 1e6).toFixed(2)} M ops/s (${errors} order errors); ` +
        `GC: ${JSON.stringify(nGc)}`,
    );
    log(`ratio: ${(w.count / seconds / nOps).toFixed(1)}x`);
    out.nodejsOrderBook = { seconds: Math.round(nSeconds * 1e6) / 1e6, opsPerSec: Math.round(nOps), gc: nGc };
    out.ratio = Math.round((w.count / seconds / nOps) * 10) / 10;
  }
  gc.stop();
  return out;
}

async function latency(w: Workload, args: Args): Promise<Record<string, unknown>> {
  const gc = new GcCounter();
  for (let i = 0; i < args.warmup; i++) replay(newBenchEngine(), w, null);
  // Cost of the clock itself: two back-to-back reads.
  const overhead = new Histogram();
  if (args.clock === "now") {
    for (let i = 0; i < 1_000_000; i++) {
      const a = performance.now();
      overhead.record((performance.now() - a) * 1e6);
    }
  } else {
    const clock = process.hrtime.bigint;
    for (let i = 0; i < 1_000_000; i++) {
      const a = clock();
      overhead.record(Number(clock() - a));
    }
  }
  const h = new Histogram();
  const e = newBenchEngine();
  fullGc();
  const t0 = gc.now();
  const commands = replayTimed(e, w, h, args.clock);
  const t1 = gc.now();
  const gcCounts = await gc.countBetween(t0, t1);
  gc.stop();
  const r = {
    engine: "tradeplane",
    mode: "latency",
    clock: args.clock,
    orders: w.count,
    commands,
    p50Ns: h.quantile(0.5),
    p99Ns: h.quantile(0.99),
    p999Ns: h.quantile(0.999),
    p9999Ns: h.quantile(0.9999),
    maxNs: h.max,
    timerOverheadP50Ns: overhead.quantile(0.5),
    gc: gcCounts,
  };
  log(
    `per-command latency (ns, clock read included): p50 ${r.p50Ns} p99 ${r.p99Ns} p99.9 ${r.p999Ns} ` +
      `p99.99 ${r.p9999Ns} max ${r.maxNs}; clock overhead p50 ${r.timerOverheadP50Ns} ns`,
  );
  return r;
}

/**
 * Builds `orders` resting orders (bids below, asks above the reference, 2000 levels a side) in an
 * engine preallocated for them (initialOrders = maxOrders, as a venue sized for its peak would
 * run), then reports the process RSS.
 */
function rss(args: Args): Record<string, unknown> {
  const before = process.memoryUsage();
  const e = newBenchEngine(args.orders, args.orders);
  let seq = 0;
  for (let i = 0; i < args.orders; i++) {
    const buy = (i & 1) === 0;
    const level = 1 + ((i >> 1) % 2000);
    const price = buy ? 100_000 - level : 100_000 + level;
    const r = e.submit(
      ++seq,
      0,
      i + 1,
      0,
      i + 1,
      buy ? Side.BUY : Side.SELL,
      OrderType.LIMIT,
      TimeInForce.GTC,
      price,
      100,
    );
    if (r !== 0) throw new Error(`order ${i + 1} rejected: ${r}`);
  }
  fullGc();
  const m = process.memoryUsage();
  const stats = e.stats();
  // What a snapshot of this book costs the engine's thread, and a restore a starting engine.
  const snapshotStart = performance.now();
  const snapshot = e.snapshot();
  const snapshotMs = performance.now() - snapshotStart;
  const restoreStart = performance.now();
  const restored = restoreEngine(snapshot);
  const restoreMs = performance.now() - restoreStart;
  if (restored.stats().restingOrders !== stats.restingOrders) throw new Error("restored book differs");
  const out = {
    engine: "tradeplane",
    mode: "rss",
    restingOrders: stats.restingOrders,
    rssMB: mb(m.rss),
    rssBeforeMB: mb(before.rss),
    heapUsedMB: mb(m.heapUsed),
    arrayBuffersMB: mb(m.arrayBuffers),
    orderCapacity: stats.orderCapacity,
    snapshotMs: Math.round(snapshotMs),
    snapshotMB: mb(snapshot.length),
    restoreMs: Math.round(restoreMs),
  };
  log(
    `${stats.restingOrders} resting orders: rss ${out.rssMB} MB (before ${out.rssBeforeMB} MB), array buffers ${out.arrayBuffersMB} MB`,
  );
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let result: Record<string, unknown>;
  if (args.rss) result = rss(args);
  else {
    const p0 = performance.now();
    const w = parseWorkload(args.input!);
    log(`parsed ${w.count} lines in ${((performance.now() - p0) / 1000).toFixed(2)} s (not timed)`);
    result = args.latency ? await latency(w, args) : await throughput(w, args);
  }
  console.log(JSON.stringify(result));
}

await main();
