import { OrderType, TimeInForce } from "@tradeplane/contracts";
import type { Command, Side } from "@tradeplane/contracts";
import type { FlowSource } from "./flow-source.ts";
import type { SimInstrument } from "./simulated-venue.ts";

/** Applies one flow command; returns its sequence (a new order's id). */
export type ApplyCommand = (account: string, body: Command["body"], timeMs: number) => number;

/**
 * The shared order-stream workload format (docs/backtest.md#workloads: `N,id,side,type,
 * price,qty`, `C,id`, `R,id,newPrice,newQty`) as a flow for the simulated venue: one
 * instrument, buys and sells in two accounts (so no flow order trades against itself), `R`
 * as cancel + new with the same id, one millisecond per line.
 */
export const WORKLOAD_INSTRUMENT: SimInstrument = Object.freeze({
  symbol: "BENCH",
  tickSize: 1,
  lotSize: 1,
  minQty: 1,
  maxQty: 1_000_000_000,
  maxOrderValue: 0,
  referencePrice: 100_000,
  bandPercent: 0,
  initialState: "CONTINUOUS",
  cancelOnHalt: false,
  notionalPerTickLot: 1,
});

/** A workload line that does not parse: its number and at most 60 characters of it. */
export class WorkloadError extends Error {
  override readonly name = "WorkloadError";

  constructor(line: number, row: string, why: string) {
    super(`line ${line}: ${why}: ${row.length > 60 ? `${row.slice(0, 60)}...` : row}`);
  }
}

/** A price or quantity field: a whole number of ticks or lots, 0 or more. */
function wholeNumber(field: string | undefined): number {
  const n = Number(field);
  return field !== undefined && field !== "" && Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

/** A parsed workload: one entry per line, struct of arrays (kind: 0 new limit, 1 new market, 2 cancel, 3 replace). */
export interface Workload {
  readonly count: number;
  readonly kind: Uint8Array;
  readonly id: Float64Array;
  readonly side: Uint8Array;
  readonly price: Float64Array;
  readonly qty: Float64Array;
}

const NEW_LIMIT = 0;
const NEW_MARKET = 1;
const CANCEL = 2;
const REPLACE = 3;

/** Parses the whole text up front, so that a timed run measures the venue, not the parsing. */
export function parseWorkload(text: string): Workload {
  const rows = text.split("\n").filter((r) => r !== "");
  const w = {
    count: rows.length,
    kind: new Uint8Array(rows.length),
    id: new Float64Array(rows.length),
    side: new Uint8Array(rows.length),
    price: new Float64Array(rows.length),
    qty: new Float64Array(rows.length),
  };
  rows.forEach((row, i) => {
    const f = row.split(",");
    const id = Number(f[1]);
    if (!Number.isSafeInteger(id)) throw new WorkloadError(i + 1, row, "the order id is not an integer");
    w.id[i] = id;
    switch (f[0]) {
      case "N":
        if (f.length !== 6) throw new WorkloadError(i + 1, row, "a new order has 6 fields");
        if ((f[2] !== "B" && f[2] !== "S") || (f[3] !== "L" && f[3] !== "M"))
          throw new WorkloadError(i + 1, row, "side is B or S, type L or M");
        w.kind[i] = f[3] === "M" ? NEW_MARKET : NEW_LIMIT;
        w.side[i] = f[2] === "B" ? 1 : 2;
        w.price[i] = wholeNumber(f[4]);
        w.qty[i] = wholeNumber(f[5]);
        break;
      case "C":
        w.kind[i] = CANCEL;
        break;
      case "R":
        if (f.length !== 4) throw new WorkloadError(i + 1, row, "a replace has 4 fields");
        w.kind[i] = REPLACE;
        w.price[i] = wholeNumber(f[2]);
        w.qty[i] = wholeNumber(f[3]);
        break;
      default:
        throw new WorkloadError(i + 1, row, "the kind is N, C or R");
    }
    if (w.price[i]! < 0 || w.qty[i]! < 0)
      throw new WorkloadError(i + 1, row, "price and quantity are whole numbers of ticks and lots");
  });
  return w;
}

/**
 * The flow's accounts: one per side. Self-trade prevention only ever stops an incoming
 * order meeting a resting order of the same account on the other side, so with buys and
 * sells in different accounts no flow order trades against itself, exactly as with one
 * account per order, without a million accounts for the core to intern.
 */
export const WORKLOAD_ACCOUNTS: Readonly<Record<number, string>> = Object.freeze({ 1: "w-buy", 2: "w-sell" });

/** Order ids by workload id, grown as ids come (workload ids are small dense integers). */
class IdTable {
  orderIds = new Float64Array(1 << 16);
  sides = new Uint8Array(1 << 16);
  private readonly large = new Map<number, { orderId: number; side: number }>();

  set(id: number, orderId: number, side: number): void {
    if (id >= 1 << 26 || id < 0) {
      this.large.set(id, { orderId, side });
      return;
    }
    if (id >= this.orderIds.length) {
      let n = this.orderIds.length;
      while (n <= id) n *= 2;
      const o = new Float64Array(n);
      o.set(this.orderIds);
      this.orderIds = o;
      const s = new Uint8Array(n);
      s.set(this.sides);
      this.sides = s;
    }
    this.orderIds[id] = orderId;
    this.sides[id] = side;
  }

  /** The side of the id's order (0: never entered). */
  side(id: number): number {
    return id >= 1 << 26 || id < 0 ? (this.large.get(id)?.side ?? 0) : (this.sides[id] ?? 0);
  }

  orderId(id: number): number {
    return id >= 1 << 26 || id < 0 ? (this.large.get(id)?.orderId ?? 0) : (this.orderIds[id] ?? 0);
  }
}

function submit(
  apply: ApplyCommand,
  ids: IdTable,
  id: number,
  side: number,
  market: boolean,
  price: number,
  qty: number,
  ms: number,
): void {
  const seq = apply(
    WORKLOAD_ACCOUNTS[side]!,
    {
      $case: "newOrder",
      value: {
        clientOrderId: `n${id}`,
        instrument: WORKLOAD_INSTRUMENT.symbol,
        side: side as Side,
        orderType: market ? OrderType.MARKET : OrderType.LIMIT,
        timeInForce: market ? TimeInForce.IOC : TimeInForce.GTC,
        price: market ? 0 : price,
        stopPrice: 0,
        qty,
        postOnly: false,
        stpMode: 0,
        displayQty: 0,
        stpGroup: 0,
      },
    },
    ms,
  );
  ids.set(id, seq, side);
}

function cancel(apply: ApplyCommand, ids: IdTable, id: number, ms: number): void {
  const side = ids.side(id);
  if (side === 0) return;
  apply(
    WORKLOAD_ACCOUNTS[side]!,
    {
      $case: "cancelOrder",
      value: { instrument: WORKLOAD_INSTRUMENT.symbol, orderId: ids.orderId(id), clientOrderId: "", reason: 0 },
    },
    ms,
  );
}

/** Applies every line of `workload` (or of a text, parsed first) through `apply`, calling `progress(linesDone)` every `every` lines. */
export function replayWorkload(
  apply: ApplyCommand,
  workload: Workload | string,
  startMs: number,
  progress?: (lines: number) => void,
  every = 65_536,
): number {
  const w = typeof workload === "string" ? parseWorkload(workload) : workload;
  const ids = new IdTable();
  for (let line = 0; line < w.count; line++) {
    const id = w.id[line]!;
    const ms = startMs + line + 1;
    const kind = w.kind[line];
    if (kind === NEW_LIMIT || kind === NEW_MARKET)
      submit(apply, ids, id, w.side[line]!, kind === NEW_MARKET, w.price[line]!, w.qty[line]!, ms);
    else if (kind === CANCEL) cancel(apply, ids, id, ms);
    else {
      const side = ids.side(id);
      cancel(apply, ids, id, ms);
      if (side !== 0) submit(apply, ids, id, side, false, w.price[line]!, w.qty[line]!, ms);
    }
    if (progress !== undefined && (line + 1) % every === 0) progress(line + 1);
  }
  return w.count;
}

/**
 * A workload as a `FlowSource`: one line a step, at the times `replayWorkload` gives them,
 * for backtests over several venues (`mergeFlows`). `replayWorkload` keeps its own loop: it
 * is the single-venue hot path, and `multi-venue-backtest.test.ts` checks both give one report.
 */
export class WorkloadFlow implements FlowSource {
  private readonly workload: Workload;
  private readonly startMs: number;
  private readonly ids = new IdTable();
  private line = 0;

  constructor(workload: Workload | string, startMs: number) {
    this.workload = typeof workload === "string" ? parseWorkload(workload) : workload;
    this.startMs = startMs;
  }

  /** Lines in the workload. */
  get lines(): number {
    return this.workload.count;
  }

  nextTimeMs(): number | undefined {
    return this.line < this.workload.count ? this.startMs + this.line + 1 : undefined;
  }

  step(apply: ApplyCommand): void {
    const w = this.workload;
    const line = this.line++;
    const ms = this.startMs + line + 1;
    const id = w.id[line]!;
    const kind = w.kind[line];
    if (kind === NEW_LIMIT || kind === NEW_MARKET)
      submit(apply, this.ids, id, w.side[line]!, kind === NEW_MARKET, w.price[line]!, w.qty[line]!, ms);
    else if (kind === CANCEL) cancel(apply, this.ids, id, ms);
    else {
      const side = this.ids.side(id);
      cancel(apply, this.ids, id, ms);
      if (side !== 0) submit(apply, this.ids, id, side, false, w.price[line]!, w.qty[line]!, ms);
    }
  }
}
