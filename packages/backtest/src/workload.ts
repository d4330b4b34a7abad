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

/** A line longer than this is refused: a valid line is under 80, and the parser must not hold an unbounded one. */
export const MAX_WORKLOAD_LINE = 1_024;

/** A batch being filled: a `Workload` whose arrays grow (by doubling) as lines come. */
interface Batch {
  count: number;
  kind: Uint8Array;
  id: Float64Array;
  side: Uint8Array;
  price: Float64Array;
  qty: Float64Array;
}

function emptyBatch(capacity: number): Batch {
  return {
    count: 0,
    kind: new Uint8Array(capacity),
    id: new Float64Array(capacity),
    side: new Uint8Array(capacity),
    price: new Float64Array(capacity),
    qty: new Float64Array(capacity),
  };
}

/** A copy of `a` in an array of `n` elements (n >= a.length), of the same kind. */
function widened<T extends Uint8Array | Float64Array>(a: T, n: number): T {
  const wider = new (a.constructor as new (n: number) => T)(n);
  wider.set(a);
  return wider;
}

function grow(w: Batch): void {
  const n = w.kind.length * 2;
  w.kind = widened(w.kind, n);
  w.id = widened(w.id, n);
  w.side = widened(w.side, n);
  w.price = widened(w.price, n);
  w.qty = widened(w.qty, n);
}

/** Parses one non-empty `row` (file line `line`) into slot `i` of `w`; a `WorkloadError` names the line. */
function parseRow(row: string, line: number, w: Batch, i: number): void {
  if (row.length > MAX_WORKLOAD_LINE)
    throw new WorkloadError(line, row, `a line is at most ${MAX_WORKLOAD_LINE} characters`);
  const f = row.split(",");
  const id = Number(f[1]);
  if (!Number.isSafeInteger(id)) throw new WorkloadError(line, row, "the order id is not an integer");
  w.id[i] = id;
  w.price[i] = 0;
  w.qty[i] = 0;
  w.side[i] = 0;
  switch (f[0]) {
    case "N":
      if (f.length !== 6) throw new WorkloadError(line, row, "a new order has 6 fields");
      if ((f[2] !== "B" && f[2] !== "S") || (f[3] !== "L" && f[3] !== "M"))
        throw new WorkloadError(line, row, "side is B or S, type L or M");
      w.kind[i] = f[3] === "M" ? NEW_MARKET : NEW_LIMIT;
      w.side[i] = f[2] === "B" ? 1 : 2;
      w.price[i] = wholeNumber(f[4]);
      w.qty[i] = wholeNumber(f[5]);
      break;
    case "C":
      w.kind[i] = CANCEL;
      break;
    case "R":
      if (f.length !== 4) throw new WorkloadError(line, row, "a replace has 4 fields");
      w.kind[i] = REPLACE;
      w.price[i] = wholeNumber(f[2]);
      w.qty[i] = wholeNumber(f[3]);
      break;
    default:
      throw new WorkloadError(line, row, "the kind is N, C or R");
  }
  if (w.price[i]! < 0 || w.qty[i]! < 0)
    throw new WorkloadError(line, row, "price and quantity are whole numbers of ticks and lots");
}

/**
 * The workload parser, pure: text in chunks of any size (split anywhere, even inside a line)
 * in, a batch of parsed lines out. Lines are split on \n; empty lines are skipped but counted,
 * so an error names the file's line. A \r before the \n is accepted where a number ends the
 * line (as `Number` reads it), as the whole-text parser always did. Holds at most one partial
 * line between chunks (at most `MAX_WORKLOAD_LINE` characters), so its memory is that of one
 * chunk's lines, whatever the size of the file.
 */
export class WorkloadParser {
  private readonly batch: Batch;
  private rest = "";
  private line = 0;

  constructor(capacity = 1 << 14) {
    this.batch = emptyBatch(Math.max(1, capacity));
  }

  /** File lines seen so far (empty ones too). */
  get linesSeen(): number {
    return this.line;
  }

  /**
   * Parses every complete line of `chunk` (after the partial line left by the last push);
   * with `last`, the text ends here and a last line without a newline is parsed too. The
   * batch returned is reused: it is valid until the next push.
   */
  push(chunk: string, last = false): Workload {
    const w = this.batch;
    w.count = 0;
    const text = this.rest === "" ? chunk : this.rest + chunk;
    this.rest = "";
    let from = 0;
    for (;;) {
      let nl = text.indexOf("\n", from);
      if (nl < 0) {
        if (!last || from === text.length) break;
        nl = text.length;
      }
      this.line++;
      if (nl > from) {
        if (w.count === w.kind.length) grow(w);
        parseRow(text.slice(from, nl), this.line, w, w.count);
        w.count++;
      }
      from = nl + 1;
      if (from >= text.length) break;
    }
    if (from < text.length) {
      this.rest = text.slice(from);
      if (this.rest.length > MAX_WORKLOAD_LINE)
        throw new WorkloadError(this.line + 1, this.rest, `a line is at most ${MAX_WORKLOAD_LINE} characters`);
    }
    return w;
  }
}

/** Parses a whole text held in memory (a test's, a benchmark's): one `Workload` of exactly its lines. */
export function parseWorkload(text: string): Workload {
  const w = new WorkloadParser().push(text, true);
  return {
    count: w.count,
    kind: w.kind.slice(0, w.count),
    id: w.id.slice(0, w.count),
    side: w.side.slice(0, w.count),
    price: w.price.slice(0, w.count),
    qty: w.qty.slice(0, w.count),
  };
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

/** What a replay takes: a parsed workload, a text (parsed first), or batches in order (`readWorkloadFile`). */
export type WorkloadInput = Workload | string | Iterable<Workload>;

function batchesOf(workload: WorkloadInput): Iterable<Workload> {
  if (typeof workload === "string") return [parseWorkload(workload)];
  return Symbol.iterator in workload ? workload : [workload];
}

/** Plays workload lines one after another: the ids seen so far, and the line count that gives each line its time. */
class WorkloadPlayer {
  private readonly ids = new IdTable();
  private readonly startMs: number;
  /** Lines played. */
  lines = 0;

  constructor(startMs: number) {
    this.startMs = startMs;
  }

  play(apply: ApplyCommand, w: Workload, i: number): void {
    const ms = this.startMs + ++this.lines;
    const id = w.id[i]!;
    const kind = w.kind[i];
    if (kind === NEW_LIMIT || kind === NEW_MARKET)
      submit(apply, this.ids, id, w.side[i]!, kind === NEW_MARKET, w.price[i]!, w.qty[i]!, ms);
    else if (kind === CANCEL) cancel(apply, this.ids, id, ms);
    else {
      const side = this.ids.side(id);
      cancel(apply, this.ids, id, ms);
      if (side !== 0) submit(apply, this.ids, id, side, false, w.price[i]!, w.qty[i]!, ms);
    }
  }
}

/**
 * Applies every line of `workload` through `apply`, the line n-th at `startMs + n`, calling
 * `progress(linesDone)` every `every` lines; returns the lines played. Batches are played as
 * they come, so a workload read from a file is never held whole.
 */
export function replayWorkload(
  apply: ApplyCommand,
  workload: WorkloadInput,
  startMs: number,
  progress?: (lines: number) => void,
  every = 65_536,
): number {
  // The single-venue hot path keeps its own loop (WorkloadPlayer.play's body, inlined by
  // hand): a call per line measured 5-8% of bench:backtest's events per CPU second.
  const ids = new IdTable();
  let lines = 0;
  for (const w of batchesOf(workload))
    for (let i = 0; i < w.count; i++) {
      const id = w.id[i]!;
      const ms = startMs + ++lines;
      const kind = w.kind[i];
      if (kind === NEW_LIMIT || kind === NEW_MARKET)
        submit(apply, ids, id, w.side[i]!, kind === NEW_MARKET, w.price[i]!, w.qty[i]!, ms);
      else if (kind === CANCEL) cancel(apply, ids, id, ms);
      else {
        const side = ids.side(id);
        cancel(apply, ids, id, ms);
        if (side !== 0) submit(apply, ids, id, side, false, w.price[i]!, w.qty[i]!, ms);
      }
      if (progress !== undefined && lines % every === 0) progress(lines);
    }
  return lines;
}

/**
 * A workload as a `FlowSource`: one line a step, at the times `replayWorkload` gives them,
 * for backtests over several venues (`mergeFlows`); batches are pulled as the steps need
 * them. `multi-venue-backtest.test.ts` checks it and `replayWorkload` give one report.
 */
export class WorkloadFlow implements FlowSource {
  private readonly batches: Iterator<Workload>;
  private readonly player: WorkloadPlayer;
  private readonly startMs: number;
  private batch: Workload | undefined;
  private next = 0;
  private done = false;

  constructor(workload: WorkloadInput, startMs: number) {
    this.batches = batchesOf(workload)[Symbol.iterator]();
    this.player = new WorkloadPlayer(startMs);
    this.startMs = startMs;
  }

  /** Lines stepped so far (all of them once `nextTimeMs` says the flow is over). */
  get lines(): number {
    return this.player.lines;
  }

  /** Whether a line is left, pulling the next non-empty batch when this one is used up. */
  private ready(): boolean {
    while (!this.done && (this.batch === undefined || this.next >= this.batch.count)) {
      const r = this.batches.next();
      if (r.done === true) {
        this.done = true;
        this.batch = undefined;
      } else {
        this.batch = r.value;
        this.next = 0;
      }
    }
    return !this.done;
  }

  nextTimeMs(): number | undefined {
    return this.ready() ? this.startMs + this.player.lines + 1 : undefined;
  }

  step(apply: ApplyCommand): void {
    if (!this.ready()) return;
    this.player.play(apply, this.batch!, this.next++);
  }
}
