import { Book } from "./book.ts";
import { type EngineConfig, type NormalizedConfig, normalizeConfig } from "./config.ts";
import { EventKind, TimeInForce } from "./constants.ts";
import { EventBuffer } from "./events.ts";
import { OrderIdIndex } from "./order-id-index.ts";
import { ORDER_RECORD } from "./order-record.ts";

// Local consts, not the imported object's fields: see ORDER_RECORD.
const {
  BUY,
  SELL,
  ST_FREE,
  ST_RESTING,
  ST_STOP,
  F_ID,
  F_PRICE,
  F_PRIO,
  I_LEAVES,
  I_SHOWN,
  I_REL,
  I_ACCOUNT,
  I_PREV,
  I_NEXT,
} = ORDER_RECORD;
const { H_INST, B_FLAGS, B_SIDE, B_STATUS, B_TIF, RECORD_BYTES, FLAG_ICEBERG } = ORDER_RECORD;

/**
 * The matching core's state and the primitives that keep it consistent: the order records
 * (fixed 64-byte records in one ArrayBuffer with a free list, see ORDER_RECORD), the id index,
 * the books' FIFO levels, the event output and the account controls. `MatchingEngine` extends it
 * with the commands; the only class ever instantiated is that one, so every property access
 * and call here stays monomorphic. The fields and methods are internal to the package: the
 * modules that hold the engine's cold groups (stop orders, the call auction, snapshots, the
 * self check) read and call them.
 */
export abstract class EngineState {
  readonly config: NormalizedConfig;
  readonly events: EventBuffer;
  /** Sequence number of the last applied command (0 before the first). */
  lastSeq = 0;

  /** @internal */ readonly books: Book[];
  /** @internal */ readonly index: OrderIdIndex;
  /** @internal */ prioCounter = 0;
  /** @internal */ gtdLive = 0;
  /**
   * @internal The fence of each fenced account (ADR 0003): its commands written with a lower
   * owner epoch are refused. An account without one takes every epoch.
   */
  readonly fences = new Map<number, number>();
  /** @internal Accounts a kill switch blocks: their new orders and replaces are refused. */
  readonly blocked = new Set<number>();
  /** @internal The venue's kill switch: every account is blocked. */
  allBlocked = false;
  /** @internal */ capacity = 0;
  /** @internal */ freeHead = -1;

  /** @internal */ of: Float64Array;
  /** @internal */ oi: Int32Array;
  /** @internal */ oh: Uint16Array;
  /** @internal */ ob: Uint8Array;
  /** @internal */ oStop: Float64Array;
  /** @internal */ oExpire: Float64Array;
  /** @internal */ oDisplay: Int32Array;

  constructor(config: EngineConfig) {
    this.config = normalizeConfig(config);
    const cfg = this.config;
    this.events = new EventBuffer(cfg.initialEvents);
    this.books = cfg.instruments.map((ins, i) => new Book(i, ins));
    this.of = new Float64Array(0);
    this.oi = new Int32Array(0);
    this.oh = new Uint16Array(0);
    this.ob = new Uint8Array(0);
    this.oStop = new Float64Array(0);
    this.oExpire = new Float64Array(0);
    this.oDisplay = new Int32Array(0);
    this.resize(cfg.initialOrders);
    this.index = new OrderIdIndex(cfg.initialOrders, this.of, 3);
  }

  // ---------------------------------------------------------------- order store

  /** @internal */ resize(cap: number): void {
    const old = this.capacity;
    const buf = new ArrayBuffer(cap * RECORD_BYTES);
    const ob = new Uint8Array(buf);
    ob.set(this.ob);
    this.ob = ob;
    this.of = new Float64Array(buf);
    this.oi = new Int32Array(buf);
    this.oh = new Uint16Array(buf);
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    // Cold arrays exist once an order needed them (see coldArrays); they grow with the records.
    if (this.oStop.length > 0) this.oStop = f64(this.oStop);
    if (this.oExpire.length > 0) this.oExpire = f64(this.oExpire);
    if (this.oDisplay.length > 0) {
      const display = new Int32Array(cap);
      display.set(this.oDisplay);
      this.oDisplay = display;
    }
    (this.index as OrderIdIndex | undefined)?.attach(this.of);
    // Chain the new slots in ascending order in front of the (empty) free list.
    for (let s = cap - 1; s >= old; s--) {
      this.oi[(s << 4) + I_NEXT] = this.freeHead;
      this.freeHead = s;
    }
    this.capacity = cap;
  }

  /** @internal */ alloc(): number {
    let s = this.freeHead;
    if (s === -1) {
      if (this.capacity >= this.config.maxOrders) return -1;
      this.resize(Math.min(this.capacity * 2, this.config.maxOrders));
      s = this.freeHead;
    }
    this.freeHead = this.oi[(s << 4) + I_NEXT]!;
    return s;
  }

  /** @internal */ free(s: number): void {
    this.ob[(s << 6) + B_STATUS] = ST_FREE;
    this.oi[(s << 4) + I_NEXT] = this.freeHead;
    this.freeHead = s;
  }

  /** @internal Registers a resting or parked order under its id. */
  indexAdd(s: number): void {
    this.index.set(this.of[s << 3]!, s);
    if (this.ob[(s << 6) + B_TIF] === TimeInForce.GTD) this.gtdLive++;
  }

  /** @internal */ indexRemove(s: number): void {
    this.index.delete(this.of[s << 3]!);
    if (this.ob[(s << 6) + B_TIF] === TimeInForce.GTD) this.gtdLive--;
  }

  /**
   * @internal
   * Stores the rarely used fields of slot `s`, allocating their arrays on first use: a book of
   * plain limit orders never pays for stop prices, expiry times or display sizes.
   */
  writeCold(s: number, stop: number, expire: number, display: number): void {
    if (stop !== 0) {
      if (this.oStop.length === 0) this.oStop = new Float64Array(this.capacity);
      this.oStop[s] = stop;
    }
    if (expire !== 0) {
      if (this.oExpire.length === 0) this.oExpire = new Float64Array(this.capacity);
      this.oExpire[s] = expire;
    }
    if (display !== 0) {
      if (this.oDisplay.length === 0) this.oDisplay = new Int32Array(this.capacity);
      this.oDisplay[s] = display;
    }
  }

  /** @internal Display size of an iceberg order, 0 for others. */
  displayOf(s: number): number {
    return (this.ob[(s << 6) + B_FLAGS]! & FLAG_ICEBERG) !== 0 ? this.oDisplay[s]! : 0;
  }

  /** @internal Field readers for tests, diagnostics and serialisation (not the hot path). */
  orderId(s: number): number {
    return this.of[(s << 3) + F_ID]!;
  }
  orderPrice(s: number): number {
    return this.of[(s << 3) + F_PRICE]!;
  }
  orderPrio(s: number): number {
    return this.of[(s << 3) + F_PRIO]!;
  }
  orderInt(s: number, field: number): number {
    return this.oi[(s << 4) + field]!;
  }
  orderByte(s: number, field: number): number {
    return this.ob[(s << 6) + field]!;
  }

  // ---------------------------------------------------------------- events

  /** @internal */ begin(seq: number): void {
    const ev = this.events;
    ev.count = 0;
    ev.seq = seq;
  }

  /** @internal */ reject(reason: number, orderId: unknown, instrument: number): number {
    const ev = this.events;
    const n = ev.count;
    if (n === ev.capacity) ev.grow();
    ev.kind[n] = EventKind.REJECTED;
    ev.orderId[n] = typeof orderId === "number" ? orderId : NaN;
    ev.instrument[n] = instrument;
    ev.reason[n] = reason;
    ev.count = n + 1;
    return reason;
  }

  /** @internal An order event with the order's own id, instrument, side and account. */
  emitOrder(kind: number, s: number, price: number, qty: number, leaves: number, reason: number): void {
    const ev = this.events;
    const n = ev.count;
    if (n === ev.capacity) ev.grow();
    const oi = this.oi;
    const i = s << 4;
    ev.kind[n] = kind;
    ev.orderId[n] = this.of[s << 3]!;
    ev.instrument[n] = this.oh[(s << 5) + H_INST]!;
    ev.side[n] = this.ob[(s << 6) + B_SIDE]! + 1;
    ev.price[n] = price;
    ev.qty[n] = qty;
    ev.leaves[n] = leaves;
    ev.reason[n] = reason;
    ev.account[n] = oi[i + I_ACCOUNT]!;
    ev.count = n + 1;
  }

  /** @internal */ emitTrade(
    instrument: number,
    side: number,
    price: number,
    qty: number,
    makerId: number,
    takerId: number,
    makerLeaves: number,
    takerLeaves: number,
  ): void {
    const ev = this.events;
    const n = ev.count;
    if (n === ev.capacity) ev.grow();
    ev.kind[n] = EventKind.TRADE;
    ev.instrument[n] = instrument;
    ev.side[n] = side;
    ev.price[n] = price;
    ev.qty[n] = qty;
    ev.orderId[n] = takerId;
    ev.makerOrderId[n] = makerId;
    ev.leaves[n] = takerLeaves;
    ev.makerLeaves[n] = makerLeaves;
    ev.count = n + 1;
  }

  /** @internal */ emitDelta(instrument: number, side: number, price: number, qty: number): void {
    const ev = this.events;
    const n = ev.count;
    if (n === ev.capacity) ev.grow();
    ev.kind[n] = EventKind.BOOK_DELTA;
    ev.instrument[n] = instrument;
    ev.side[n] = side;
    ev.price[n] = price;
    ev.qty[n] = qty;
    ev.count = n + 1;
  }

  /** @internal */ emitState(instrument: number, state: number): void {
    const ev = this.events;
    const n = ev.count;
    if (n === ev.capacity) ev.grow();
    ev.kind[n] = EventKind.STATE_CHANGED;
    ev.instrument[n] = instrument;
    ev.state[n] = state;
    ev.count = n + 1;
  }

  /** @internal Removes the head order `m` of level `li` (minus its shown part) and frees it. */
  dropHead(b: Book, m: number, li: number): void {
    const oi = this.oi;
    const m4 = m << 4;
    const n = oi[m4 + I_NEXT]!;
    b.head[li] = n;
    if (n === -1) b.tail[li] = -1;
    else oi[(n << 4) + I_PREV] = -1;
    b.agg[li] = b.agg[li]! - oi[m4 + I_SHOWN]!;
    b.resting--;
    this.indexRemove(m);
    this.free(m);
  }

  /** @internal */ moveToBack(b: Book, m: number, li: number): void {
    const tail = b.tail[li]!;
    if (tail === m) return;
    const oi = this.oi;
    const m4 = m << 4;
    const p = oi[m4 + I_PREV]!;
    const n = oi[m4 + I_NEXT]!;
    if (p === -1) b.head[li] = n;
    else oi[(p << 4) + I_NEXT] = n;
    oi[(n << 4) + I_PREV] = p; // n !== -1 because m is not the tail
    oi[m4 + I_PREV] = tail;
    oi[m4 + I_NEXT] = -1;
    oi[(tail << 4) + I_NEXT] = m;
    b.tail[li] = m;
  }

  /** @internal Unlinks a resting order from its level and removes its visible quantity (no events). */
  unlinkResting(b: Book, s: number, li: number): void {
    const oi = this.oi;
    const s4 = s << 4;
    const p = oi[s4 + I_PREV]!;
    const n = oi[s4 + I_NEXT]!;
    if (p === -1) b.head[li] = n;
    else oi[(p << 4) + I_NEXT] = n;
    if (n === -1) b.tail[li] = p;
    else oi[(n << 4) + I_PREV] = p;
    b.agg[li] = b.agg[li]! - oi[s4 + I_SHOWN]!;
    b.resting--;
  }

  /** @internal Level (side, rel) became empty: clear its bit and move the best price when needed. */
  levelEmptied(b: Book, side: number, rel: number): void {
    const li = side * b.wSize + (rel - b.wBase);
    b.bits[li >> 5] = b.bits[li >> 5]! & ~(1 << (li & 31));
    b.levels[side] = b.levels[side]! - 1;
    if (side === BUY) {
      if (rel === b.bestBid) b.bestBid = b.scanDown(BUY, rel - 1);
    } else if (rel === b.bestAsk) b.bestAsk = b.scanUp(SELL, rel + 1);
  }

  /** @internal Appends order `s` (status TAKER, not indexed) to the tail of its level. */
  rest(b: Book, s: number): void {
    const oi = this.oi;
    const s4 = s << 4;
    const rel = oi[s4 + I_REL]!;
    let cell = rel - b.wBase;
    if (cell < 0 || cell >= b.wSize) {
      b.recentre(rel);
      cell = rel - b.wBase;
    }
    const side = this.ob[(s << 6) + B_SIDE]!;
    const li = side * b.wSize + cell;
    const tail = b.tail[li]!;
    oi[s4 + I_PREV] = tail;
    oi[s4 + I_NEXT] = -1;
    if (tail === -1) {
      b.head[li] = s;
      b.bits[li >> 5] = b.bits[li >> 5]! | (1 << (li & 31));
      b.levels[side] = b.levels[side]! + 1;
      if (side === BUY) {
        if (rel > b.bestBid) b.bestBid = rel;
      } else if (b.bestAsk < 0 || rel < b.bestAsk) b.bestAsk = rel;
    } else {
      oi[(tail << 4) + I_NEXT] = s;
    }
    b.tail[li] = s;
    const agg = b.agg[li]! + oi[s4 + I_SHOWN]!;
    b.agg[li] = agg;
    b.resting++;
    this.ob[(s << 6) + B_STATUS] = ST_RESTING;
    this.indexAdd(s);
    this.emitDelta(b.index, side + 1, this.of[(s << 3) + F_PRICE]!, agg);
  }

  /** @internal Ends a live order (resting or parked) with one event, plus its level's BOOK_DELTA. */
  removeLive(b: Book, s: number, kind: number, reason: number): void {
    const oi = this.oi;
    const s4 = s << 4;
    const leaves = oi[s4 + I_LEAVES]!;
    const price = this.of[(s << 3) + F_PRICE]!;
    if (this.ob[(s << 6) + B_STATUS] === ST_STOP) {
      this.unlinkStop(b, s);
      this.emitOrder(kind, s, price, leaves, 0, reason);
    } else {
      const side = this.ob[(s << 6) + B_SIDE]!;
      const rel = oi[s4 + I_REL]!;
      const li = side * b.wSize + (rel - b.wBase);
      this.unlinkResting(b, s, li);
      this.emitOrder(kind, s, price, leaves, 0, reason);
      this.emitDelta(b.index, side + 1, price, b.agg[li]!);
      if (b.head[li] === -1) this.levelEmptied(b, side, rel);
    }
    this.indexRemove(s);
    this.free(s);
  }

  // ---------------------------------------------------------------- parked stops

  /** @internal Parks a stop order in its side's trigger-ordered list. */
  park(b: Book, s: number): void {
    const oi = this.oi;
    const side = this.ob[(s << 6) + B_SIDE]!;
    const stop = this.oStop[s]!;
    // Walk back from the tail to the last order that triggers no later than s.
    let p = b.stopTail[side]!;
    while (p !== -1 && (side === BUY ? this.oStop[p]! > stop : this.oStop[p]! < stop)) p = oi[(p << 4) + I_PREV]!;
    const n = p === -1 ? b.stopHead[side]! : oi[(p << 4) + I_NEXT]!;
    oi[(s << 4) + I_PREV] = p;
    oi[(s << 4) + I_NEXT] = n;
    if (p === -1) b.stopHead[side] = s;
    else oi[(p << 4) + I_NEXT] = s;
    if (n === -1) b.stopTail[side] = s;
    else oi[(n << 4) + I_PREV] = s;
    b.stopCount++;
    this.ob[(s << 6) + B_STATUS] = ST_STOP;
    this.indexAdd(s);
  }

  /** @internal Takes a parked stop out of its side's list (no events). */
  unlinkStop(b: Book, s: number): void {
    const oi = this.oi;
    const side = this.ob[(s << 6) + B_SIDE]!;
    const p = oi[(s << 4) + I_PREV]!;
    const n = oi[(s << 4) + I_NEXT]!;
    if (p === -1) b.stopHead[side] = n;
    else oi[(p << 4) + I_NEXT] = n;
    if (n === -1) b.stopTail[side] = p;
    else oi[(n << 4) + I_PREV] = p;
    b.stopCount--;
  }
}
