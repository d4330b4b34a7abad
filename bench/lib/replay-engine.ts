import {
  EventKind,
  OrderType,
  TimeInForce,
  createEngine,
  type EngineConfig,
  type MatchingEngine,
} from "@tradeplane/matching-core";
import type { TradeTape } from "./fingerprint.ts";
import type { Histogram } from "./histogram.ts";
import { Op, type Workload } from "./workload.ts";

/**
 * The benchmark instrument: tick 1, lot 1, no band, so the engine's semantics equal the
 * workload's reference (trade at the maker's price, market orders never rest).
 */
export function benchConfig(maxOrders: number, initialOrders = 1 << 12): EngineConfig {
  return {
    instruments: [
      {
        symbol: "BENCH",
        tickSize: 1,
        lotSize: 1,
        minQty: 1,
        maxQty: 1_000_000_000,
        maxOrderValue: 0,
        referencePrice: 100_000,
        bandPercent: 0,
      },
    ],
    capacity: { maxOrders, initialOrders, initialEvents: 1 << 12 },
  };
}

export function newBenchEngine(maxOrders = 1 << 21, initialOrders = 1 << 12): MatchingEngine {
  return createEngine(benchConfig(maxOrders, initialOrders));
}

/** Lines per call of the inner replay function. */
const CHUNK = 4096;

/** Running counters of a replay, one reusable object. */
interface ReplayState {
  seq: number;
  events: number;
  /** Added to every order id and command sequence (see replay). */
  idBase?: number;
}

/**
 * Replays the workload through the engine with its full event output, reading every event:
 * trades go to the tape (for the fingerprint), all events are counted. Each order's account is
 * its id, so no two orders self-trade. `R` is cancel + new limit with the same id.
 *
 * The lines go through `replayRange` in chunks, so the hot loop is an ordinary function that V8
 * optimises on its call count, not a single long loop that depends on on-stack replacement
 * (which can leave a loop in the mid-tier compiler's code for a whole run; see docs/latency.md).
 */
export function replay(
  e: MatchingEngine,
  w: Workload,
  tape: TradeTape | null,
  idBase = 0,
): { commands: number; events: number } {
  // With idBase, command sequences and order ids start there (a venue's ids after ~2e9 log
  // entries are near 2e12, past V8's small integers); trades go to the tape as workload ids.
  const st: ReplayState = { seq: idBase, events: 0, idBase };
  // The first call is short so it completes before the loop is compiled: code after the loop then
  // has type feedback, and the on-stack-replaced loop does not deoptimise at every exit.
  const first = Math.min(w.count, 16);
  replayRange(e, w, 0, first, st, tape);
  for (let from = first; from < w.count; from += CHUNK)
    replayRange(e, w, from, Math.min(w.count, from + CHUNK), st, tape);
  return { commands: st.seq - idBase, events: st.events };
}

function replayRange(
  e: MatchingEngine,
  w: Workload,
  from: number,
  to: number,
  st: ReplayState,
  tape: TradeTape | null,
): void {
  const { op, id, side, price, qty } = w;
  const ev = e.events;
  const base = st.idBase ?? 0;
  let seq = st.seq;
  let events = st.events;
  for (let i = from; i < to; i++) {
    const account = id[i]!;
    const oid = account + base;
    const o = op[i]!;
    if (o === Op.NEW_LIMIT) {
      e.submit(++seq, 0, oid, 0, account, side[i]!, OrderType.LIMIT, TimeInForce.GTC, price[i]!, qty[i]!);
    } else if (o === Op.CANCEL) {
      e.cancel(++seq, oid, account);
    } else if (o === Op.NEW_MARKET) {
      e.submit(++seq, 0, oid, 0, account, side[i]!, OrderType.MARKET, TimeInForce.IOC, 0, qty[i]!);
    } else {
      e.cancel(++seq, oid, account);
      events += ev.count;
      e.submit(++seq, 0, oid, 0, account, side[i]!, OrderType.LIMIT, TimeInForce.GTC, price[i]!, qty[i]!);
    }
    const n = ev.count;
    events += n;
    if (tape !== null) {
      const kind = ev.kind;
      for (let k = 0; k < n; k++) {
        if (kind[k] === EventKind.TRADE)
          tape.push(ev.makerOrderId[k]! - base, ev.orderId[k]! - base, ev.price[k]!, ev.qty[k]!);
      }
    }
  }
  st.seq = seq;
  st.events = events;
}

/**
 * Like replay, but times every engine command into `h`: with process.hrtime.bigint() (each read
 * allocates a BigInt), or with performance.now() (a double, no allocation, sub-microsecond
 * resolution in Node) when `clock` is "now".
 */
export function replayTimed(e: MatchingEngine, w: Workload, h: Histogram, clock: "hrtime" | "now" = "hrtime"): number {
  const st: ReplayState = { seq: 0, events: 0 };
  for (let from = 0; from < w.count;) {
    const to = Math.min(w.count, from === 0 ? 16 : from + CHUNK); // short first call: see replay()
    if (clock === "now") replayRangeTimedNow(e, w, from, to, st, h);
    else replayRangeTimed(e, w, from, to, st, h);
    from = to;
  }
  return st.seq;
}

function replayRangeTimedNow(
  e: MatchingEngine,
  w: Workload,
  from: number,
  to: number,
  st: ReplayState,
  h: Histogram,
): void {
  const { op, id, side, price, qty } = w;
  let seq = st.seq;
  for (let i = from; i < to; i++) {
    const oid = id[i]!;
    const o = op[i]!;
    let t0 = performance.now();
    if (o === Op.NEW_LIMIT) {
      e.submit(++seq, 0, oid, 0, oid, side[i]!, OrderType.LIMIT, TimeInForce.GTC, price[i]!, qty[i]!);
    } else if (o === Op.CANCEL) {
      e.cancel(++seq, oid, oid);
    } else if (o === Op.NEW_MARKET) {
      e.submit(++seq, 0, oid, 0, oid, side[i]!, OrderType.MARKET, TimeInForce.IOC, 0, qty[i]!);
    } else {
      e.cancel(++seq, oid, oid);
      h.record((performance.now() - t0) * 1e6);
      t0 = performance.now();
      e.submit(++seq, 0, oid, 0, oid, side[i]!, OrderType.LIMIT, TimeInForce.GTC, price[i]!, qty[i]!);
    }
    h.record((performance.now() - t0) * 1e6);
  }
  st.seq = seq;
}

function replayRangeTimed(
  e: MatchingEngine,
  w: Workload,
  from: number,
  to: number,
  st: ReplayState,
  h: Histogram,
): void {
  const { op, id, side, price, qty } = w;
  const clock = process.hrtime.bigint;
  let seq = st.seq;
  for (let i = from; i < to; i++) {
    const oid = id[i]!;
    const o = op[i]!;
    let t0 = clock();
    if (o === Op.NEW_LIMIT) {
      e.submit(++seq, 0, oid, 0, oid, side[i]!, OrderType.LIMIT, TimeInForce.GTC, price[i]!, qty[i]!);
    } else if (o === Op.CANCEL) {
      e.cancel(++seq, oid, oid);
    } else if (o === Op.NEW_MARKET) {
      e.submit(++seq, 0, oid, 0, oid, side[i]!, OrderType.MARKET, TimeInForce.IOC, 0, qty[i]!);
    } else {
      e.cancel(++seq, oid, oid);
      const t1 = clock();
      h.record(Number(t1 - t0));
      t0 = clock();
      e.submit(++seq, 0, oid, 0, oid, side[i]!, OrderType.LIMIT, TimeInForce.GTC, price[i]!, qty[i]!);
    }
    const t1 = clock();
    h.record(Number(t1 - t0));
  }
  st.seq = seq;
}
