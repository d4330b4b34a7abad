import { createHash } from "node:crypto";
import { Book } from "./book.ts";
import { ByteReader, ByteWriter, SnapshotError } from "./codec.ts";
import { type EngineConfig, type NormalizedConfig, normalizeConfig, validateEngineConfig } from "./config.ts";
import {
  CancelReason,
  EventKind,
  InstrumentState,
  OrderFlags,
  OrderType,
  RejectReason,
  StpMode,
  TimeInForce,
} from "./constants.ts";
import { EventBuffer } from "./events.ts";
import { OrderIdIndex } from "./order-id-index.ts";

/** Rarely used order fields; pass one reusable object (or nothing). Missing fields are 0. */
export interface OrderExtras {
  /** OrderFlags bits (POST_ONLY). */
  flags?: number;
  /** Trigger price of STOP_MARKET / STOP_LIMIT orders. */
  stopPrice?: number;
  /** Disclosed (iceberg) quantity; 0 = all shown. */
  displayQty?: number;
  /** Self-trade prevention group: orders of one non-zero group never trade with each other. */
  stpGroup?: number;
  /** StpMode applied when this order is the incoming one; default CANCEL_RESTING. */
  stpMode?: number;
  /** Expiry of GTD orders (ns, compared with the time of `expire` commands). */
  expireTimeNs?: number;
}

/** Creates a full-shape extras object to reuse across calls. */
export function createOrderExtras(): Required<OrderExtras> {
  return { flags: 0, stopPrice: 0, displayQty: 0, stpGroup: 0, stpMode: 0, expireTimeNs: 0 };
}

export interface BookLevel {
  readonly price: number;
  /** Visible quantity (iceberg orders count with their shown part). */
  readonly qty: number;
  /** Visible plus hidden quantity. */
  readonly totalQty: number;
  readonly orders: number;
}

export interface BookView {
  readonly instrument: number;
  readonly symbol: string;
  readonly state: InstrumentState;
  readonly lastPrice: number;
  readonly bids: BookLevel[];
  readonly asks: BookLevel[];
  readonly stopOrders: number;
}

export interface EngineStats {
  readonly instruments: number;
  readonly liveOrders: number;
  readonly restingOrders: number;
  readonly stopOrders: number;
  readonly gtdOrders: number;
  readonly priceLevels: number;
  readonly orderCapacity: number;
  readonly maxOrders: number;
  readonly eventCapacity: number;
  readonly lastSeq: number;
}

const BUY = 0;
const SELL = 1;
const ST_FREE = 0;
const ST_RESTING = 1;
const ST_STOP = 2;
const ST_TAKER = 3;
const MAX_INT32 = 0x7fffffff;

const FILTER_ALL = 0;
const FILTER_ACCOUNT = 1;
const FILTER_DAY = 2;
const FILTER_GTD = 3;

const SNAPSHOT_MAGIC = 0x454d5054; // "TPME" little-endian
const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 4 + 4 + 4 + 32;

/**
 * The matching core: one single-threaded, deterministic state machine for all configured
 * instruments. Commands are methods with numeric arguments; each returns 0 when the command was
 * applied or the RejectReason of its REJECTED event, and leaves its complete output in `events`.
 * Nothing on the command path allocates in steady state: orders live in struct-of-arrays typed
 * arrays with a free list, books are tick ladders with intrusive FIFO lists.
 */
export class MatchingEngine {
  readonly config: NormalizedConfig;
  readonly events: EventBuffer;
  /** Sequence number of the last applied command (0 before the first). */
  lastSeq = 0;

  /** @internal */ readonly books: Book[];
  /** @internal */ readonly index: OrderIdIndex;
  /** @internal */ prioCounter = 0;
  /** @internal */ gtdLive = 0;
  /** @internal */ capacity: number;
  private freeHead = -1;

  // Orders, struct of arrays indexed by slot.
  /** @internal */ oId: Float64Array;
  /** @internal */ oPrice: Float64Array;
  /** @internal */ oStop: Float64Array;
  /** @internal */ oQty: Float64Array;
  /** @internal */ oLeaves: Float64Array;
  /** @internal */ oShown: Float64Array;
  /** @internal */ oDisplay: Float64Array;
  /** @internal */ oExpire: Float64Array;
  /** @internal */ oPrio: Float64Array;
  /** @internal */ oRel: Int32Array;
  /** @internal */ oAccount: Int32Array;
  /** @internal */ oGroup: Int32Array;
  /** @internal */ oPrev: Int32Array;
  /** @internal */ oNext: Int32Array;
  /** @internal */ oInst: Int32Array;
  /** @internal */ oSide: Uint8Array;
  /** @internal */ oType: Uint8Array;
  /** @internal */ oTif: Uint8Array;
  /** @internal */ oFlags: Uint8Array;
  /** @internal */ oStp: Uint8Array;
  /** @internal */ oStatus: Uint8Array;

  constructor(config: EngineConfig) {
    this.config = normalizeConfig(config);
    const cfg = this.config;
    this.events = new EventBuffer(cfg.initialEvents);
    this.books = cfg.instruments.map((ins, i) => new Book(i, ins));
    this.index = new OrderIdIndex(cfg.initialOrders);
    this.capacity = 0;
    this.oId = new Float64Array(0);
    this.oPrice = new Float64Array(0);
    this.oStop = new Float64Array(0);
    this.oQty = new Float64Array(0);
    this.oLeaves = new Float64Array(0);
    this.oShown = new Float64Array(0);
    this.oDisplay = new Float64Array(0);
    this.oExpire = new Float64Array(0);
    this.oPrio = new Float64Array(0);
    this.oRel = new Int32Array(0);
    this.oAccount = new Int32Array(0);
    this.oGroup = new Int32Array(0);
    this.oPrev = new Int32Array(0);
    this.oNext = new Int32Array(0);
    this.oInst = new Int32Array(0);
    this.oSide = new Uint8Array(0);
    this.oType = new Uint8Array(0);
    this.oTif = new Uint8Array(0);
    this.oFlags = new Uint8Array(0);
    this.oStp = new Uint8Array(0);
    this.oStatus = new Uint8Array(0);
    this.resize(cfg.initialOrders);
  }

  // ---------------------------------------------------------------- order store

  private resize(cap: number): void {
    const old = this.capacity;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array) => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    this.oId = f64(this.oId);
    this.oPrice = f64(this.oPrice);
    this.oStop = f64(this.oStop);
    this.oQty = f64(this.oQty);
    this.oLeaves = f64(this.oLeaves);
    this.oShown = f64(this.oShown);
    this.oDisplay = f64(this.oDisplay);
    this.oExpire = f64(this.oExpire);
    this.oPrio = f64(this.oPrio);
    this.oRel = i32(this.oRel);
    this.oAccount = i32(this.oAccount);
    this.oGroup = i32(this.oGroup);
    this.oPrev = i32(this.oPrev);
    this.oNext = i32(this.oNext);
    this.oInst = i32(this.oInst);
    this.oSide = u8(this.oSide);
    this.oType = u8(this.oType);
    this.oTif = u8(this.oTif);
    this.oFlags = u8(this.oFlags);
    this.oStp = u8(this.oStp);
    this.oStatus = u8(this.oStatus);
    // Chain the new slots in ascending order in front of the (empty) free list.
    for (let s = cap - 1; s >= old; s--) {
      this.oNext[s] = this.freeHead;
      this.freeHead = s;
    }
    this.capacity = cap;
  }

  private alloc(): number {
    let s = this.freeHead;
    if (s === -1) {
      if (this.capacity >= this.config.maxOrders) return -1;
      this.resize(Math.min(this.capacity * 2, this.config.maxOrders));
      s = this.freeHead;
    }
    this.freeHead = this.oNext[s]!;
    return s;
  }

  private free(s: number): void {
    this.oStatus[s] = ST_FREE;
    this.oNext[s] = this.freeHead;
    this.freeHead = s;
  }

  /** Registers a resting or parked order under its id. */
  private indexAdd(s: number): void {
    this.index.set(this.oId[s]!, s);
    if (this.oTif[s] === TimeInForce.GTD) this.gtdLive++;
  }

  private indexRemove(s: number): void {
    this.index.delete(this.oId[s]!);
    if (this.oTif[s] === TimeInForce.GTD) this.gtdLive--;
  }

  // ---------------------------------------------------------------- events

  private begin(seq: number): void {
    const ev = this.events;
    ev.count = 0;
    ev.seq = seq;
  }

  private reject(reason: number, orderId: unknown, instrument: number): number {
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

  private emitOrder(kind: number, s: number, price: number, qty: number, leaves: number, reason: number): void {
    const ev = this.events;
    const n = ev.count;
    if (n === ev.capacity) ev.grow();
    ev.kind[n] = kind;
    ev.orderId[n] = this.oId[s]!;
    ev.instrument[n] = this.oInst[s]!;
    ev.side[n] = this.oSide[s]! + 1;
    ev.price[n] = price;
    ev.qty[n] = qty;
    ev.leaves[n] = leaves;
    ev.reason[n] = reason;
    ev.account[n] = this.oAccount[s]!;
    ev.count = n + 1;
  }

  private emitTrade(
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

  private emitDelta(instrument: number, side: number, price: number, qty: number): void {
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

  private emitState(instrument: number, state: number): void {
    const ev = this.events;
    const n = ev.count;
    if (n === ev.capacity) ev.grow();
    ev.kind[n] = EventKind.STATE_CHANGED;
    ev.instrument[n] = instrument;
    ev.state[n] = state;
    ev.count = n + 1;
  }

  // ---------------------------------------------------------------- commands

  /**
   * New order. `price` is the limit price (LIMIT, STOP_LIMIT) or an optional protection price
   * (MARKET, STOP_MARKET; 0 = the band edge). Returns 0 or the reject reason.
   */
  submit(
    seq: number,
    timeNs: number,
    orderId: number,
    instrument: number,
    account: number,
    side: number,
    type: number,
    tif: number,
    price: number,
    qty: number,
    extras?: OrderExtras,
  ): number {
    this.begin(seq);
    const inst = Number.isInteger(instrument) && instrument >= 0 && instrument < this.books.length ? instrument : -1;
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, orderId, inst);
    this.lastSeq = seq;
    if (!Number.isInteger(timeNs) || timeNs < 0) return this.reject(RejectReason.INVALID_TIME, orderId, inst);
    if (!Number.isSafeInteger(orderId) || orderId <= 0) return this.reject(RejectReason.INVALID_ORDER_ID, orderId, inst);
    if (inst < 0) return this.reject(RejectReason.UNKNOWN_INSTRUMENT, orderId, -1);
    if (!Number.isInteger(account) || account < 0 || account > MAX_INT32)
      return this.reject(RejectReason.INVALID_ACCOUNT, orderId, inst);
    let flags = 0;
    let stopPrice = 0;
    let display = 0;
    let group = 0;
    let stp = 0;
    let expire = 0;
    if (extras != null) {
      flags = extras.flags ?? 0;
      stopPrice = extras.stopPrice ?? 0;
      display = extras.displayQty ?? 0;
      group = extras.stpGroup ?? 0;
      stp = extras.stpMode ?? 0;
      expire = extras.expireTimeNs ?? 0;
      if (!Number.isInteger(group) || group < 0 || group > MAX_INT32)
        return this.reject(RejectReason.INVALID_ACCOUNT, orderId, inst);
    }
    if (
      (side !== 1 && side !== 2) ||
      !Number.isInteger(type) ||
      type < OrderType.LIMIT ||
      type > OrderType.STOP_LIMIT ||
      !Number.isInteger(tif) ||
      tif < TimeInForce.DAY ||
      tif > TimeInForce.FOK ||
      (flags !== 0 && flags !== OrderFlags.POST_ONLY) ||
      !Number.isInteger(stp) ||
      stp < StpMode.CANCEL_RESTING ||
      stp > StpMode.DECREMENT
    )
      return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    const resting = tif <= TimeInForce.GTD; // DAY, GTC, GTD
    if (
      (type === OrderType.MARKET && resting) ||
      (type === OrderType.STOP_MARKET && !resting) ||
      (type === OrderType.STOP_LIMIT && tif === TimeInForce.FOK) ||
      (flags !== 0 && (type !== OrderType.LIMIT || !resting))
    )
      return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (display !== 0 && ((type !== OrderType.LIMIT && type !== OrderType.STOP_LIMIT) || !resting))
      return this.reject(RejectReason.INVALID_DISPLAY_QTY, orderId, inst);
    const b = this.books[inst]!;
    const state = b.state;
    if (state !== InstrumentState.CONTINUOUS) {
      if (state === InstrumentState.CLOSED) return this.reject(RejectReason.MARKET_CLOSED, orderId, inst);
      if (state === InstrumentState.HALTED) return this.reject(RejectReason.INSTRUMENT_HALTED, orderId, inst);
      if (type === OrderType.MARKET || !resting || flags !== 0)
        return this.reject(RejectReason.ORDER_TYPE_NOT_ALLOWED, orderId, inst);
    }
    if (!Number.isSafeInteger(qty) || qty <= 0) return this.reject(RejectReason.INVALID_QTY, orderId, inst);
    if (qty % b.lotSize !== 0) return this.reject(RejectReason.OFF_LOT, orderId, inst);
    if (qty < b.minQty || qty > b.maxQty) return this.reject(RejectReason.QTY_OUT_OF_RANGE, orderId, inst);
    if (display !== 0) {
      if (!Number.isSafeInteger(display) || display <= 0 || display % b.lotSize !== 0 || display > qty)
        return this.reject(RejectReason.INVALID_DISPLAY_QTY, orderId, inst);
      if (display === qty) display = 0;
    }
    const isBuy = side === 1;
    const hasLimit = type === OrderType.LIMIT || type === OrderType.STOP_LIMIT;
    let rel: number;
    if (hasLimit || price !== 0) {
      if (!Number.isSafeInteger(price) || price <= 0) return this.reject(RejectReason.INVALID_PRICE, orderId, inst);
      rel = b.priceToRel(price);
      if (rel !== rel) return this.reject(RejectReason.OFF_TICK, orderId, inst);
      if (rel < 0 || rel >= b.span) return this.reject(RejectReason.OUTSIDE_PRICE_BAND, orderId, inst);
    } else {
      rel = isBuy ? b.span - 1 : 0;
    }
    const isStop = type >= OrderType.STOP_MARKET;
    if (isStop) {
      if (!Number.isSafeInteger(stopPrice) || stopPrice <= 0)
        return this.reject(RejectReason.INVALID_STOP_PRICE, orderId, inst);
      const srel = b.priceToRel(stopPrice);
      if (srel !== srel) return this.reject(RejectReason.OFF_TICK, orderId, inst);
      if (srel < 0 || srel >= b.span) return this.reject(RejectReason.OUTSIDE_PRICE_BAND, orderId, inst);
    } else stopPrice = 0;
    if (tif === TimeInForce.GTD) {
      if (!Number.isInteger(expire) || expire <= timeNs) return this.reject(RejectReason.INVALID_EXPIRY, orderId, inst);
    } else expire = 0;
    if (b.maxOrderValue > 0) {
      const vp = price !== 0 ? price : type === OrderType.STOP_MARKET ? stopPrice : b.lastPrice;
      if (qty * vp > b.maxOrderValue) return this.reject(RejectReason.MAX_ORDER_VALUE, orderId, inst);
    }
    if (this.index.get(orderId) !== -1) return this.reject(RejectReason.DUPLICATE_ORDER_ID, orderId, inst);
    if (this.index.size >= this.config.maxOrders) return this.reject(RejectReason.CAPACITY_EXCEEDED, orderId, inst);
    if (state === InstrumentState.CONTINUOUS && !isStop) {
      if (flags !== 0 && (isBuy ? b.bestAsk >= 0 && b.bestAsk <= rel : b.bestBid >= 0 && b.bestBid >= rel))
        return this.reject(RejectReason.POST_ONLY_WOULD_TAKE, orderId, inst);
      if (tif === TimeInForce.FOK && !this.fokFillable(b, isBuy ? BUY : SELL, rel, qty, account, group, stp))
        return this.reject(RejectReason.FOK_NOT_FILLABLE, orderId, inst);
    }
    const s = this.alloc();
    if (s === -1) return this.reject(RejectReason.CAPACITY_EXCEEDED, orderId, inst);
    this.oId[s] = orderId;
    this.oPrice[s] = price;
    this.oStop[s] = stopPrice;
    this.oQty[s] = qty;
    this.oLeaves[s] = qty;
    this.oShown[s] = display !== 0 ? display : qty;
    this.oDisplay[s] = display;
    this.oExpire[s] = expire;
    this.oPrio[s] = ++this.prioCounter;
    this.oRel[s] = rel;
    this.oAccount[s] = account;
    this.oGroup[s] = group;
    this.oInst[s] = inst;
    this.oSide[s] = isBuy ? BUY : SELL;
    this.oType[s] = type;
    this.oTif[s] = tif;
    this.oFlags[s] = flags;
    this.oStp[s] = stp;
    this.oStatus[s] = ST_TAKER;
    this.emitOrder(EventKind.ACCEPTED, s, price, qty, qty, 0);
    if (isStop) {
      this.park(b, s);
      if (state === InstrumentState.CONTINUOUS) this.triggerPass(b);
    } else if (state === InstrumentState.PRE_OPEN) {
      this.rest(b, s);
    } else {
      this.execute(b, s);
      if (b.stopCount !== 0) this.triggerPass(b);
    }
    return 0;
  }

  /** Cancels a live order (resting or parked stop) of `account`. Allowed in every state. */
  cancel(seq: number, orderId: number, account: number): number {
    this.begin(seq);
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, orderId, -1);
    this.lastSeq = seq;
    if (!Number.isSafeInteger(orderId) || orderId <= 0) return this.reject(RejectReason.INVALID_ORDER_ID, orderId, -1);
    const s = this.index.get(orderId);
    if (s === -1) return this.reject(RejectReason.UNKNOWN_ORDER, orderId, -1);
    const b = this.books[this.oInst[s]!]!;
    if (account !== this.oAccount[s]) return this.reject(RejectReason.NOT_OWNER, orderId, b.index);
    this.removeLive(b, s, EventKind.CANCELLED, CancelReason.USER);
    return 0;
  }

  /**
   * Replace: `newQty` is the new total order quantity (already executed quantity counts against
   * it, so a replace never overfills). A pure quantity decrease keeps time priority; a price change
   * or a quantity increase re-enters the order at the back (and may trade in continuous trading).
   */
  replace(seq: number, orderId: number, account: number, newPrice: number, newQty: number): number {
    this.begin(seq);
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, orderId, -1);
    this.lastSeq = seq;
    if (!Number.isSafeInteger(orderId) || orderId <= 0) return this.reject(RejectReason.INVALID_ORDER_ID, orderId, -1);
    const s = this.index.get(orderId);
    if (s === -1) return this.reject(RejectReason.UNKNOWN_ORDER, orderId, -1);
    const b = this.books[this.oInst[s]!]!;
    const inst = b.index;
    if (account !== this.oAccount[s]) return this.reject(RejectReason.NOT_OWNER, orderId, inst);
    if (b.state === InstrumentState.CLOSED) return this.reject(RejectReason.MARKET_CLOSED, orderId, inst);
    if (b.state === InstrumentState.HALTED) return this.reject(RejectReason.INSTRUMENT_HALTED, orderId, inst);
    if (this.oStatus[s] !== ST_RESTING) return this.reject(RejectReason.ORDER_TYPE_NOT_ALLOWED, orderId, inst);
    if (!Number.isSafeInteger(newQty) || newQty <= 0) return this.reject(RejectReason.INVALID_QTY, orderId, inst);
    if (newQty % b.lotSize !== 0) return this.reject(RejectReason.OFF_LOT, orderId, inst);
    if (newQty < b.minQty || newQty > b.maxQty) return this.reject(RejectReason.QTY_OUT_OF_RANGE, orderId, inst);
    if (!Number.isSafeInteger(newPrice) || newPrice <= 0) return this.reject(RejectReason.INVALID_PRICE, orderId, inst);
    const rel = b.priceToRel(newPrice);
    if (rel !== rel) return this.reject(RejectReason.OFF_TICK, orderId, inst);
    if (rel < 0 || rel >= b.span) return this.reject(RejectReason.OUTSIDE_PRICE_BAND, orderId, inst);
    if (b.maxOrderValue > 0 && newQty * newPrice > b.maxOrderValue)
      return this.reject(RejectReason.MAX_ORDER_VALUE, orderId, inst);
    const side = this.oSide[s]!;
    if (
      b.state === InstrumentState.CONTINUOUS &&
      this.oFlags[s] === OrderFlags.POST_ONLY &&
      (side === BUY ? b.bestAsk >= 0 && b.bestAsk <= rel : b.bestBid >= 0 && b.bestBid >= rel)
    )
      return this.reject(RejectReason.POST_ONLY_WOULD_TAKE, orderId, inst);

    const oldRel = this.oRel[s]!;
    const leaves = this.oLeaves[s]!;
    const newLeaves = newQty - (this.oQty[s]! - leaves);
    const li = side * b.wSize + (oldRel - b.wBase);
    const oldPrice = this.oPrice[s]!;
    if (newLeaves <= 0) {
      // Already executed at least the new quantity: the order is done.
      this.oQty[s] = newQty;
      this.emitOrder(EventKind.REPLACED, s, newPrice, newQty, 0, 0);
      this.unlinkResting(b, s, li);
      this.emitDelta(inst, side + 1, oldPrice, b.agg[li]!);
      if (b.head[li] === -1) this.levelEmptied(b, side, oldRel);
      this.indexRemove(s);
      this.free(s);
      return 0;
    }
    if (rel === oldRel && newLeaves <= leaves) {
      // Pure decrease (or no change): keeps its place in the queue.
      this.oQty[s] = newQty;
      this.oLeaves[s] = newLeaves;
      const shown = this.oShown[s]!;
      this.emitOrder(EventKind.REPLACED, s, newPrice, newQty, newLeaves, 0);
      if (shown > newLeaves) {
        this.oShown[s] = newLeaves;
        b.agg[li] = b.agg[li]! - (shown - newLeaves);
        this.emitDelta(inst, side + 1, newPrice, b.agg[li]!);
      }
      return 0;
    }
    // Loses priority: leaves its level, then enters as a new order at the new price.
    this.unlinkResting(b, s, li);
    this.indexRemove(s);
    this.oStatus[s] = ST_TAKER;
    this.oPrice[s] = newPrice;
    this.oRel[s] = rel;
    this.oQty[s] = newQty;
    this.oLeaves[s] = newLeaves;
    const display = this.oDisplay[s]!;
    this.oShown[s] = display !== 0 && display < newLeaves ? display : newLeaves;
    this.oPrio[s] = ++this.prioCounter;
    this.emitOrder(EventKind.REPLACED, s, newPrice, newQty, newLeaves, 0);
    this.emitDelta(inst, side + 1, oldPrice, b.agg[li]!);
    if (b.head[li] === -1) this.levelEmptied(b, side, oldRel);
    if (b.state === InstrumentState.PRE_OPEN) {
      this.rest(b, s);
    } else {
      this.execute(b, s);
      if (b.stopCount !== 0) this.triggerPass(b);
    }
    return 0;
  }

  /**
   * Cancels every live order matching the filters: `account` (-1 = every account), `instrument`
   * (-1 = all), `side` (0 = both, else Side). Order of events: instrument, bids best to worst,
   * asks best to worst (FIFO within a level), then parked buy stops and sell stops in trigger order.
   */
  massCancel(seq: number, account: number, instrument: number, side: number): number {
    this.begin(seq);
    const inst = Number.isInteger(instrument) && instrument >= 0 && instrument < this.books.length ? instrument : -1;
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, inst);
    this.lastSeq = seq;
    if (account !== -1 && (!Number.isInteger(account) || account < 0 || account > MAX_INT32))
      return this.reject(RejectReason.INVALID_ACCOUNT, 0, inst);
    if (instrument !== -1 && inst === -1) return this.reject(RejectReason.UNKNOWN_INSTRUMENT, 0, -1);
    if (side !== 0 && side !== 1 && side !== 2) return this.reject(RejectReason.INVALID_COMMAND, 0, inst);
    const filter = account === -1 ? FILTER_ALL : FILTER_ACCOUNT;
    for (let i = 0; i < this.books.length; i++) {
      if (inst !== -1 && i !== inst) continue;
      this.removeWhere(this.books[i]!, side, filter, account, EventKind.CANCELLED, CancelReason.MASS_CANCEL);
    }
    return 0;
  }

  /**
   * Moves one instrument (or all, -1) to `state`. Entering CONTINUOUS uncrosses a crossed book
   * with the call-auction algorithm; entering CLOSED expires DAY orders; entering HALTED cancels
   * the book when the instrument has cancelOnHalt. With -1, instruments already in the state are
   * skipped and a forbidden transition gives a REJECTED event for that instrument.
   */
  setState(seq: number, timeNs: number, instrument: number, state: number): number {
    this.begin(seq);
    const inst = Number.isInteger(instrument) && instrument >= 0 && instrument < this.books.length ? instrument : -1;
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, inst);
    this.lastSeq = seq;
    if (!Number.isInteger(timeNs) || timeNs < 0) return this.reject(RejectReason.INVALID_TIME, 0, inst);
    if (instrument !== -1 && inst === -1) return this.reject(RejectReason.UNKNOWN_INSTRUMENT, 0, -1);
    if (!Number.isInteger(state) || state < InstrumentState.PRE_OPEN || state > InstrumentState.CLOSED)
      return this.reject(RejectReason.INVALID_COMMAND, 0, inst);
    if (inst !== -1) {
      const b = this.books[inst]!;
      if (!transitionAllowed(b.state, state)) return this.reject(RejectReason.INVALID_STATE_TRANSITION, 0, inst);
      this.transition(b, state);
      return 0;
    }
    let result = 0;
    for (const b of this.books) {
      if (b.state === state) continue;
      if (!transitionAllowed(b.state, state)) {
        this.reject(RejectReason.INVALID_STATE_TRANSITION, 0, b.index);
        if (result === 0) result = RejectReason.INVALID_STATE_TRANSITION;
        continue;
      }
      this.transition(b, state);
    }
    return result;
  }

  /** Expires every GTD order whose expiry time is at or before `timeNs` (EXPIRED events). */
  expire(seq: number, timeNs: number): number {
    this.begin(seq);
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
    this.lastSeq = seq;
    if (!Number.isInteger(timeNs) || timeNs < 0) return this.reject(RejectReason.INVALID_TIME, 0, -1);
    if (this.gtdLive === 0) return 0;
    for (const b of this.books) this.removeWhere(b, 0, FILTER_GTD, timeNs, EventKind.EXPIRED, CancelReason.EXPIRY);
    return 0;
  }

  /** A command the caller could not decode: REJECTED with INVALID_COMMAND (consumes seq when valid). */
  rejectCommand(seq: number): number {
    this.begin(seq);
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
    this.lastSeq = seq;
    return this.reject(RejectReason.INVALID_COMMAND, 0, -1);
  }

  // ---------------------------------------------------------------- matching

  /** Runs a taker (new order, replaced order or triggered stop) and rests or ends its remainder. */
  private execute(b: Book, t: number): void {
    const alive = this.sweep(b, t);
    if (!alive) {
      this.free(t);
      return;
    }
    const leaves = this.oLeaves[t]!;
    if (leaves === 0) {
      this.free(t);
    } else if (this.oType[t] === OrderType.MARKET || this.oTif[t] === TimeInForce.IOC) {
      this.emitOrder(EventKind.CANCELLED, t, this.oPrice[t]!, leaves, 0, CancelReason.IOC_REMAINDER);
      this.free(t);
    } else {
      const d = this.oDisplay[t]!;
      this.oShown[t] = d !== 0 && d < leaves ? d : leaves;
      this.rest(b, t);
    }
  }

  /**
   * Matches taker `t` against the opposite side while it crosses. Returns false when self-trade
   * prevention ended the taker. Trades print at the maker's price; one BOOK_DELTA per level left.
   */
  private sweep(b: Book, t: number): boolean {
    const side = this.oSide[t]!;
    const opp = side ^ 1;
    const limit = this.oRel[t]!;
    const takerId = this.oId[t]!;
    const takerAcc = this.oAccount[t]!;
    const takerGroup = this.oGroup[t]!;
    const stp = this.oStp[t]!;
    const inst = b.index;
    const takerSide = side + 1;
    let leaves = this.oLeaves[t]!;
    let alive = true;
    const oLeaves = this.oLeaves;
    const oShown = this.oShown;
    const oAccount = this.oAccount;
    const oGroup = this.oGroup;
    for (;;) {
      const best = opp === SELL ? b.bestAsk : b.bestBid;
      if (best < 0 || (side === BUY ? best > limit : best < limit)) break;
      const li = opp * b.wSize + (best - b.wBase);
      const agg = b.agg;
      const aggBefore = agg[li]!;
      const price = b.relToPrice(best);
      while (leaves > 0) {
        const m = b.head[li]!;
        if (m === -1) break;
        if (oAccount[m] === takerAcc || (takerGroup !== 0 && oGroup[m] === takerGroup)) {
          const ml = oLeaves[m]!;
          if (stp === StpMode.CANCEL_RESTING) {
            this.emitOrder(EventKind.CANCELLED, m, price, ml, 0, CancelReason.STP);
            this.dropHead(b, m, li);
            continue;
          }
          if (stp === StpMode.DECREMENT) {
            const dec = leaves < ml ? leaves : ml;
            if (dec === ml) {
              this.emitOrder(EventKind.CANCELLED, m, price, ml, 0, CancelReason.STP);
              this.dropHead(b, m, li);
            } else {
              oLeaves[m] = ml - dec;
              const shown = oShown[m]!;
              if (shown > ml - dec) {
                oShown[m] = ml - dec;
                agg[li] = agg[li]! - (shown - (ml - dec));
              }
              this.emitOrder(EventKind.CANCELLED, m, price, dec, ml - dec, CancelReason.STP);
            }
            leaves -= dec;
            this.emitOrder(EventKind.CANCELLED, t, this.oPrice[t]!, dec, leaves, CancelReason.STP);
            if (leaves === 0) alive = false;
            continue;
          }
          if (stp === StpMode.CANCEL_BOTH) {
            this.emitOrder(EventKind.CANCELLED, m, price, ml, 0, CancelReason.STP);
            this.dropHead(b, m, li);
          }
          this.emitOrder(EventKind.CANCELLED, t, this.oPrice[t]!, leaves, 0, CancelReason.STP);
          leaves = 0;
          alive = false;
          break;
        }
        const shown = oShown[m]!;
        const fill = leaves < shown ? leaves : shown;
        leaves -= fill;
        const ml = oLeaves[m]! - fill;
        oLeaves[m] = ml;
        agg[li] = agg[li]! - fill;
        this.emitTrade(inst, takerSide, price, fill, this.oId[m]!, takerId, ml, leaves);
        if (ml === 0) {
          oShown[m] = 0;
          this.dropHead(b, m, li);
        } else if (fill === shown) {
          // Iceberg: the shown part is gone; refill from the hidden part and go to the back.
          const d = this.oDisplay[m]!;
          const ns = ml < d ? ml : d;
          oShown[m] = ns;
          agg[li] = agg[li]! + ns;
          this.moveToBack(b, m, li);
          this.oPrio[m] = ++this.prioCounter;
        } else {
          oShown[m] = shown - fill;
        }
        b.lastPrice = price;
      }
      const aggNow = agg[li]!;
      if (aggNow !== aggBefore) this.emitDelta(inst, opp + 1, price, aggNow);
      if (b.head[li] === -1) this.levelEmptied(b, opp, best);
      if (leaves === 0) break;
    }
    this.oLeaves[t] = leaves;
    return alive;
  }

  /** Removes the head order `m` of level `li` (its aggregate share already taken) and frees it. */
  private dropHead(b: Book, m: number, li: number): void {
    const n = this.oNext[m]!;
    b.head[li] = n;
    if (n === -1) b.tail[li] = -1;
    else this.oPrev[n] = -1;
    b.agg[li] = b.agg[li]! - this.oShown[m]!;
    b.resting--;
    this.indexRemove(m);
    this.free(m);
  }

  private moveToBack(b: Book, m: number, li: number): void {
    const tail = b.tail[li]!;
    if (tail === m) return;
    const p = this.oPrev[m]!;
    const n = this.oNext[m]!;
    if (p === -1) b.head[li] = n;
    else this.oNext[p] = n;
    this.oPrev[n] = p; // n !== -1 because m is not the tail
    this.oPrev[m] = tail;
    this.oNext[m] = -1;
    this.oNext[tail] = m;
    b.tail[li] = m;
  }

  /** Unlinks a resting order from its level and removes its visible quantity (no events). */
  private unlinkResting(b: Book, s: number, li: number): void {
    const p = this.oPrev[s]!;
    const n = this.oNext[s]!;
    if (p === -1) b.head[li] = n;
    else this.oNext[p] = n;
    if (n === -1) b.tail[li] = p;
    else this.oPrev[n] = p;
    b.agg[li] = b.agg[li]! - this.oShown[s]!;
    b.resting--;
  }

  /** Level (side, rel) became empty: clear its bit and move the best price when needed. */
  private levelEmptied(b: Book, side: number, rel: number): void {
    const li = side * b.wSize + (rel - b.wBase);
    b.bits[li >> 5] = b.bits[li >> 5]! & ~(1 << (li & 31));
    b.levels[side] = b.levels[side]! - 1;
    if (side === BUY) {
      if (rel === b.bestBid) b.bestBid = b.scanDown(BUY, rel - 1);
    } else if (rel === b.bestAsk) b.bestAsk = b.scanUp(SELL, rel + 1);
  }

  /** Appends order `s` (status TAKER, not indexed) to the tail of its level. */
  private rest(b: Book, s: number): void {
    const rel = this.oRel[s]!;
    let cell = rel - b.wBase;
    if (cell < 0 || cell >= b.wSize) {
      b.recentre(rel);
      cell = rel - b.wBase;
    }
    const side = this.oSide[s]!;
    const li = side * b.wSize + cell;
    const tail = b.tail[li]!;
    this.oPrev[s] = tail;
    this.oNext[s] = -1;
    if (tail === -1) {
      b.head[li] = s;
      b.bits[li >> 5] = b.bits[li >> 5]! | (1 << (li & 31));
      b.levels[side] = b.levels[side]! + 1;
      if (side === BUY) {
        if (rel > b.bestBid) b.bestBid = rel;
      } else if (b.bestAsk < 0 || rel < b.bestAsk) b.bestAsk = rel;
    } else {
      this.oNext[tail] = s;
    }
    b.tail[li] = s;
    const agg = b.agg[li]! + this.oShown[s]!;
    b.agg[li] = agg;
    b.resting++;
    this.oStatus[s] = ST_RESTING;
    this.indexAdd(s);
    this.emitDelta(b.index, side + 1, this.oPrice[s]!, agg);
  }

  /** Ends a live order (resting or parked) with one event, plus its level's BOOK_DELTA. */
  private removeLive(b: Book, s: number, kind: number, reason: number): void {
    const leaves = this.oLeaves[s]!;
    const side = this.oSide[s]!;
    if (this.oStatus[s] === ST_STOP) {
      this.unlinkStop(b, s);
      this.emitOrder(kind, s, this.oPrice[s]!, leaves, 0, reason);
    } else {
      const rel = this.oRel[s]!;
      const li = side * b.wSize + (rel - b.wBase);
      this.unlinkResting(b, s, li);
      this.emitOrder(kind, s, this.oPrice[s]!, leaves, 0, reason);
      this.emitDelta(b.index, side + 1, this.oPrice[s]!, b.agg[li]!);
      if (b.head[li] === -1) this.levelEmptied(b, side, rel);
    }
    this.indexRemove(s);
    this.free(s);
  }

  private matchesFilter(s: number, filter: number, arg: number): boolean {
    switch (filter) {
      case FILTER_ACCOUNT:
        return this.oAccount[s] === arg;
      case FILTER_DAY:
        return this.oTif[s] === TimeInForce.DAY;
      case FILTER_GTD:
        return this.oTif[s] === TimeInForce.GTD && this.oExpire[s]! <= arg;
      default:
        return true;
    }
  }

  /**
   * Removes every live order of `b` on `sideFilter` (0 = both, 1 buy, 2 sell) that matches the
   * filter, in book order: bids best to worst, asks best to worst (FIFO within a level; one
   * BOOK_DELTA per changed level), then buy stops and sell stops in trigger order.
   */
  private removeWhere(b: Book, sideFilter: number, filter: number, arg: number, kind: number, reason: number): void {
    for (let side = 0; side < 2; side++) {
      if (sideFilter !== 0 && sideFilter !== side + 1) continue;
      let rel = side === BUY ? b.bestBid : b.bestAsk;
      while (rel >= 0) {
        const next = b.nextLevel(side, rel);
        const li = side * b.wSize + (rel - b.wBase);
        const before = b.agg[li]!;
        let s = b.head[li]!;
        while (s !== -1) {
          const n = this.oNext[s]!;
          if (this.matchesFilter(s, filter, arg)) {
            this.unlinkResting(b, s, li);
            this.emitOrder(kind, s, this.oPrice[s]!, this.oLeaves[s]!, 0, reason);
            this.indexRemove(s);
            this.free(s);
          }
          s = n;
        }
        const now = b.agg[li]!;
        if (now !== before) this.emitDelta(b.index, side + 1, b.relToPrice(rel), now);
        if (b.head[li] === -1) this.levelEmptied(b, side, rel);
        rel = next;
      }
    }
    for (let side = 0; side < 2; side++) {
      if (sideFilter !== 0 && sideFilter !== side + 1) continue;
      let s = b.stopHead[side]!;
      while (s !== -1) {
        const n = this.oNext[s]!;
        if (this.matchesFilter(s, filter, arg)) {
          this.unlinkStop(b, s);
          this.emitOrder(kind, s, this.oPrice[s]!, this.oLeaves[s]!, 0, reason);
          this.indexRemove(s);
          this.free(s);
        }
        s = n;
      }
    }
  }

  /** Whether a FOK taker could fill `qty` completely, self-trade prevention included. */
  private fokFillable(
    b: Book,
    side: number,
    limit: number,
    qty: number,
    account: number,
    group: number,
    stp: number,
  ): boolean {
    const opp = side ^ 1;
    let rel = opp === SELL ? b.bestAsk : b.bestBid;
    let need = qty;
    while (rel >= 0 && (side === BUY ? rel <= limit : rel >= limit)) {
      let m = b.head[opp * b.wSize + (rel - b.wBase)]!;
      while (m !== -1) {
        if (this.oAccount[m] === account || (group !== 0 && this.oGroup[m] === group)) {
          if (stp !== StpMode.CANCEL_RESTING) return false;
        } else {
          need -= this.oLeaves[m]!;
          if (need <= 0) return true;
        }
        m = this.oNext[m]!;
      }
      rel = b.nextLevel(opp, rel);
    }
    return false;
  }

  // ---------------------------------------------------------------- stops

  /** Parks a stop order in its side's trigger-ordered list. */
  private park(b: Book, s: number): void {
    const side = this.oSide[s]!;
    const stop = this.oStop[s]!;
    // Walk back from the tail to the last order that triggers no later than s.
    let p = b.stopTail[side]!;
    while (p !== -1 && (side === BUY ? this.oStop[p]! > stop : this.oStop[p]! < stop)) p = this.oPrev[p]!;
    const n = p === -1 ? b.stopHead[side]! : this.oNext[p]!;
    this.oPrev[s] = p;
    this.oNext[s] = n;
    if (p === -1) b.stopHead[side] = s;
    else this.oNext[p] = s;
    if (n === -1) b.stopTail[side] = s;
    else this.oPrev[n] = s;
    b.stopCount++;
    this.oStatus[s] = ST_STOP;
    this.indexAdd(s);
  }

  private unlinkStop(b: Book, s: number): void {
    const side = this.oSide[s]!;
    const p = this.oPrev[s]!;
    const n = this.oNext[s]!;
    if (p === -1) b.stopHead[side] = n;
    else this.oNext[p] = n;
    if (n === -1) b.stopTail[side] = p;
    else this.oPrev[n] = p;
    b.stopCount--;
  }

  /**
   * Triggers parked stops while the last trade price reaches one: buy stops at stop <= last,
   * sell stops at stop >= last, one at a time (buy: lowest stop first, sell: highest first, FIFO on
   * ties; between the two sides the earlier-accepted first). Each runs as a taker before the next
   * is chosen with the then last price. Only in continuous trading.
   */
  private triggerPass(b: Book): void {
    for (;;) {
      const last = b.lastPrice;
      const hb = b.stopHead[BUY]!;
      const hs = b.stopHead[SELL]!;
      const tb = hb !== -1 && this.oStop[hb]! <= last;
      const ts = hs !== -1 && this.oStop[hs]! >= last;
      let s: number;
      if (tb && ts) s = this.oPrio[hb]! < this.oPrio[hs]! ? hb : hs;
      else if (tb) s = hb;
      else if (ts) s = hs;
      else return;
      this.unlinkStop(b, s);
      this.indexRemove(s);
      this.oStatus[s] = ST_TAKER;
      this.emitOrder(EventKind.TRIGGERED, s, this.oStop[s]!, this.oLeaves[s]!, this.oLeaves[s]!, 0);
      this.oType[s] = this.oType[s] === OrderType.STOP_MARKET ? OrderType.MARKET : OrderType.LIMIT;
      this.oPrio[s] = ++this.prioCounter;
      this.execute(b, s);
    }
  }

  // ---------------------------------------------------------------- states and auction

  private transition(b: Book, state: number): void {
    b.state = state;
    this.emitState(b.index, state);
    if (state === InstrumentState.CONTINUOUS) {
      this.uncross(b);
      if (b.stopCount !== 0) this.triggerPass(b);
    } else if (state === InstrumentState.CLOSED) {
      this.removeWhere(b, 0, FILTER_DAY, 0, EventKind.EXPIRED, CancelReason.EXPIRY);
    } else if (state === InstrumentState.HALTED && b.cfg.cancelOnHalt) {
      this.removeWhere(b, 0, FILTER_ALL, 0, EventKind.CANCELLED, CancelReason.HALT);
    }
  }

  /**
   * The call-auction uncross: one price that maximises executed volume; ties by least imbalance,
   * then nearest the reference price (the reference price itself when two candidates are equally
   * near). Orders trade with their whole leaves (hidden included) in price-time priority; the
   * earlier order of each pair is reported as maker.
   */
  private uncross(b: Book): void {
    if (b.bestBid < 0 || b.bestAsk < 0 || b.bestBid < b.bestAsk) return;
    const lo = b.bestAsk;
    const hi = b.bestBid;
    // Total (visible + hidden) quantity per level inside [lo, hi].
    const bidRels: number[] = [];
    const bidQty: number[] = [];
    for (let rel = hi; rel >= lo && rel >= 0; rel = b.nextLevel(BUY, rel)) {
      bidRels.push(rel);
      bidQty.push(this.levelTotal(b, BUY, rel));
    }
    const askRels: number[] = [];
    const askQty: number[] = [];
    for (let rel = lo; rel >= 0 && rel <= hi; rel = b.nextLevel(SELL, rel)) {
      askRels.push(rel);
      askQty.push(this.levelTotal(b, SELL, rel));
    }
    const candidates = [...new Set([...bidRels, ...askRels])].sort((x, y) => x - y);
    let bestV = 0;
    let bestImb = 0;
    let tied: number[] = [];
    for (const p of candidates) {
      let d = 0;
      for (let i = 0; i < bidRels.length; i++) if (bidRels[i]! >= p) d += bidQty[i]!;
      let s = 0;
      for (let i = 0; i < askRels.length; i++) if (askRels[i]! <= p) s += askQty[i]!;
      const v = Math.min(d, s);
      const imb = Math.abs(d - s);
      if (v > bestV || (v === bestV && imb < bestImb)) {
        bestV = v;
        bestImb = imb;
        tied = [p];
      } else if (v === bestV && imb === bestImb) tied.push(p);
    }
    if (bestV === 0) return;
    const ref = b.cfg.referencePrice;
    let minDist = Infinity;
    for (const p of tied) minDist = Math.min(minDist, Math.abs(b.relToPrice(p) - ref));
    const near = tied.filter((p) => Math.abs(b.relToPrice(p) - ref) === minDist);
    const pr = near.length > 1 ? b.refRel : near[0]!;
    const price = b.relToPrice(pr);

    const touchedBid: number[] = [];
    const touchedBidAgg: number[] = [];
    const touchedAsk: number[] = [];
    const touchedAskAgg: number[] = [];
    const inst = b.index;
    while (b.bestBid >= 0 && b.bestAsk >= 0 && b.bestBid >= pr && b.bestAsk <= pr) {
      const bRel = b.bestBid;
      const aRel = b.bestAsk;
      const bli = BUY * b.wSize + (bRel - b.wBase);
      const ali = SELL * b.wSize + (aRel - b.wBase);
      if (touchedBid[touchedBid.length - 1] !== bRel) {
        touchedBid.push(bRel);
        touchedBidAgg.push(b.agg[bli]!);
      }
      if (touchedAsk[touchedAsk.length - 1] !== aRel) {
        touchedAsk.push(aRel);
        touchedAskAgg.push(b.agg[ali]!);
      }
      const bo = b.head[bli]!;
      const ao = b.head[ali]!;
      const fill = Math.min(this.oLeaves[bo]!, this.oLeaves[ao]!);
      this.auctionFill(b, bo, bli, fill);
      this.auctionFill(b, ao, ali, fill);
      const bidIsMaker = this.oPrio[bo]! < this.oPrio[ao]!;
      const maker = bidIsMaker ? bo : ao;
      const taker = bidIsMaker ? ao : bo;
      this.emitTrade(
        inst,
        this.oSide[taker]! + 1,
        price,
        fill,
        this.oId[maker]!,
        this.oId[taker]!,
        this.oLeaves[maker]!,
        this.oLeaves[taker]!,
      );
      b.lastPrice = price;
      if (this.oLeaves[bo] === 0) {
        this.dropHead(b, bo, bli);
        if (b.head[bli] === -1) this.levelEmptied(b, BUY, bRel);
      }
      if (this.oLeaves[ao] === 0) {
        this.dropHead(b, ao, ali);
        if (b.head[ali] === -1) this.levelEmptied(b, SELL, aRel);
      }
    }
    // At most one order is left partially filled; an iceberg whose shown part went refills at the back.
    for (let side = 0; side < 2; side++) {
      const rels = side === BUY ? touchedBid : touchedAsk;
      const rel = rels[rels.length - 1]!;
      const li = side * b.wSize + (rel - b.wBase);
      const h = b.head[li]!;
      if (h !== -1 && this.oShown[h] === 0) {
        const d = this.oDisplay[h]!;
        const l = this.oLeaves[h]!;
        const ns = l < d ? l : d;
        this.oShown[h] = ns;
        b.agg[li] = b.agg[li]! + ns;
        this.moveToBack(b, h, li);
        this.oPrio[h] = ++this.prioCounter;
      }
    }
    for (let side = 0; side < 2; side++) {
      const rels = side === BUY ? touchedBid : touchedAsk;
      const aggs = side === BUY ? touchedBidAgg : touchedAskAgg;
      for (let i = 0; i < rels.length; i++) {
        const rel = rels[i]!;
        const now = b.head[side * b.wSize + (rel - b.wBase)] === -1 ? 0 : b.agg[side * b.wSize + (rel - b.wBase)]!;
        if (now !== aggs[i]) this.emitDelta(inst, side + 1, b.relToPrice(rel), now);
      }
    }
  }

  /** Applies an auction fill to a head order: leaves down, the shown part down by at most its size. */
  private auctionFill(b: Book, s: number, li: number, fill: number): void {
    this.oLeaves[s] = this.oLeaves[s]! - fill;
    const shown = this.oShown[s]!;
    const dec = fill < shown ? fill : shown;
    this.oShown[s] = shown - dec;
    b.agg[li] = b.agg[li]! - dec;
  }

  private levelTotal(b: Book, side: number, rel: number): number {
    let total = 0;
    for (let s = b.head[side * b.wSize + (rel - b.wBase)]!; s !== -1; s = this.oNext[s]!) total += this.oLeaves[s]!;
    return total;
  }

  // ---------------------------------------------------------------- queries

  /** Aggregated levels of one instrument, best first, at most `depth` per side (allocates). */
  book(instrument: number, depth = 10): BookView {
    const b = this.books[instrument];
    if (b === undefined) throw new RangeError(`unknown instrument ${instrument}`);
    const side = (sd: number): BookLevel[] => {
      const out: BookLevel[] = [];
      let rel = sd === BUY ? b.bestBid : b.bestAsk;
      while (rel >= 0 && out.length < depth) {
        const li = sd * b.wSize + (rel - b.wBase);
        let orders = 0;
        let total = 0;
        for (let s = b.head[li]!; s !== -1; s = this.oNext[s]!) {
          orders++;
          total += this.oLeaves[s]!;
        }
        out.push({ price: b.relToPrice(rel), qty: b.agg[li]!, totalQty: total, orders });
        rel = b.nextLevel(sd, rel);
      }
      return out;
    };
    return {
      instrument,
      symbol: b.cfg.symbol,
      state: b.state as InstrumentState,
      lastPrice: b.lastPrice,
      bids: side(BUY),
      asks: side(SELL),
      stopOrders: b.stopCount,
    };
  }

  stats(): EngineStats {
    let resting = 0;
    let stops = 0;
    let levels = 0;
    for (const b of this.books) {
      resting += b.resting;
      stops += b.stopCount;
      levels += b.levels[0]! + b.levels[1]!;
    }
    return {
      instruments: this.books.length,
      liveOrders: this.index.size,
      restingOrders: resting,
      stopOrders: stops,
      gtdOrders: this.gtdLive,
      priceLevels: levels,
      orderCapacity: this.capacity,
      maxOrders: this.config.maxOrders,
      eventCapacity: this.events.capacity,
      lastSeq: this.lastSeq,
    };
  }

  // ---------------------------------------------------------------- state, digest, snapshot

  /**
   * Canonical serialisation of the whole state: config, lastSeq, priority counter, and per
   * instrument its state, last price and live orders in book order. Independent of slot numbers,
   * hash layout and ladder window, so equal states give equal bytes.
   */
  private writeState(w: ByteWriter): void {
    w.string(JSON.stringify(this.config));
    w.f64(this.lastSeq);
    w.f64(this.prioCounter);
    for (const b of this.books) {
      w.u8(b.state);
      w.f64(b.lastPrice);
      w.u32(b.resting);
      for (let side = 0; side < 2; side++) {
        for (let rel = side === BUY ? b.bestBid : b.bestAsk; rel >= 0; rel = b.nextLevel(side, rel)) {
          for (let s = b.head[side * b.wSize + (rel - b.wBase)]!; s !== -1; s = this.oNext[s]!) this.writeOrder(w, s);
        }
      }
      w.u32(b.stopCount);
      for (let side = 0; side < 2; side++) {
        for (let s = b.stopHead[side]!; s !== -1; s = this.oNext[s]!) this.writeOrder(w, s);
      }
    }
  }

  private writeOrder(w: ByteWriter, s: number): void {
    w.f64(this.oId[s]!);
    w.u8(this.oSide[s]!);
    w.u8(this.oType[s]!);
    w.u8(this.oTif[s]!);
    w.u8(this.oFlags[s]!);
    w.u8(this.oStp[s]!);
    w.i32(this.oAccount[s]!);
    w.i32(this.oGroup[s]!);
    w.f64(this.oPrice[s]!);
    w.f64(this.oStop[s]!);
    w.f64(this.oQty[s]!);
    w.f64(this.oLeaves[s]!);
    w.f64(this.oShown[s]!);
    w.f64(this.oDisplay[s]!);
    w.f64(this.oExpire[s]!);
    w.f64(this.oPrio[s]!);
  }

  /** sha256 (hex) of the canonical state. */
  digest(): string {
    const w = new ByteWriter();
    this.writeState(w);
    return createHash("sha256").update(w.view8()).digest("hex");
  }

  /** The whole state as bytes: header (magic, version, length, sha256 of the body) and body. */
  snapshot(): Uint8Array {
    const body = new ByteWriter();
    this.writeState(body);
    const bytes = body.view8();
    const out = new ByteWriter(HEADER_BYTES + bytes.length);
    out.u32(SNAPSHOT_MAGIC);
    out.u32(SNAPSHOT_VERSION);
    out.u32(bytes.length);
    out.bytes(createHash("sha256").update(bytes).digest());
    out.bytes(bytes);
    return out.view8().slice();
  }

  /** @internal Restores the body of a snapshot into this fresh engine. */
  static fromSnapshot(bytes: Uint8Array): MatchingEngine {
    if (!(bytes instanceof Uint8Array)) throw new SnapshotError("snapshot must be a Uint8Array");
    if (bytes.length < HEADER_BYTES) throw new SnapshotError("snapshot is truncated");
    const r = new ByteReader(bytes);
    if (r.u32() !== SNAPSHOT_MAGIC) throw new SnapshotError("not a matching-engine snapshot (bad magic)");
    const version = r.u32();
    if (version !== SNAPSHOT_VERSION) throw new SnapshotError(`unsupported snapshot version ${version}`);
    const len = r.u32();
    const sum = r.bytes(32);
    if (r.remaining !== len) throw new SnapshotError("snapshot length does not match its header");
    const body = r.bytes(len);
    const actual = createHash("sha256").update(body).digest();
    if (!actual.equals(sum)) throw new SnapshotError("snapshot checksum mismatch");
    try {
      return MatchingEngine.readState(new ByteReader(body));
    } catch (e) {
      if (e instanceof SnapshotError) throw e;
      throw new SnapshotError(`snapshot body is invalid: ${(e as Error).message}`, { cause: e });
    }
  }

  private static readState(r: ByteReader): MatchingEngine {
    const raw = JSON.parse(r.string()) as NormalizedConfig;
    const { config, issues } = validateEngineConfig({
      instruments: raw.instruments.map((i) => ({
        symbol: i.symbol,
        tickSlabs: i.slabs,
        lotSize: i.lotSize,
        minQty: i.minQty,
        maxQty: i.maxQty,
        maxOrderValue: i.maxOrderValue,
        referencePrice: i.referencePrice,
        bandPercent: i.bandPercent,
        maxTicksFromReference: i.maxTicksFromReference,
        initialState: i.initialState,
        cancelOnHalt: i.cancelOnHalt,
      })),
      capacity: { maxOrders: raw.maxOrders, initialOrders: raw.initialOrders, initialEvents: raw.initialEvents },
    });
    if (config === undefined) throw new SnapshotError(`snapshot config is invalid: ${issues.join("; ")}`);
    const e = new MatchingEngine({
      instruments: config.instruments.map((i) => ({
        symbol: i.symbol,
        tickSlabs: i.slabs,
        lotSize: i.lotSize,
        minQty: i.minQty,
        maxQty: i.maxQty,
        maxOrderValue: i.maxOrderValue,
        referencePrice: i.referencePrice,
        bandPercent: i.bandPercent,
        maxTicksFromReference: i.maxTicksFromReference,
        initialState: i.initialState,
        cancelOnHalt: i.cancelOnHalt,
      })),
      capacity: { maxOrders: config.maxOrders, initialOrders: config.initialOrders, initialEvents: config.initialEvents },
    });
    e.lastSeq = r.f64();
    e.prioCounter = r.f64();
    if (!Number.isSafeInteger(e.lastSeq) || e.lastSeq < 0 || !Number.isSafeInteger(e.prioCounter))
      throw new SnapshotError("snapshot counters are invalid");
    for (const b of e.books) {
      const state = r.u8();
      if (state < InstrumentState.PRE_OPEN || state > InstrumentState.CLOSED) throw new SnapshotError("bad state");
      b.state = state;
      b.lastPrice = r.f64();
      const resting = r.u32();
      for (let i = 0; i < resting; i++) {
        const s = e.readOrder(r, b);
        e.rest(b, s);
      }
      const stops = r.u32();
      for (let i = 0; i < stops; i++) {
        const s = e.readOrder(r, b);
        if (e.oType[s]! < OrderType.STOP_MARKET) throw new SnapshotError("parked order is not a stop order");
        // Appending keeps the written trigger order.
        const side = e.oSide[s]!;
        const tail = b.stopTail[side]!;
        e.oPrev[s] = tail;
        e.oNext[s] = -1;
        if (tail === -1) b.stopHead[side] = s;
        else e.oNext[tail] = s;
        b.stopTail[side] = s;
        b.stopCount++;
        e.oStatus[s] = ST_STOP;
        e.indexAdd(s);
      }
    }
    if (r.remaining !== 0) throw new SnapshotError("trailing bytes after the snapshot body");
    e.begin(e.lastSeq);
    return e;
  }

  private readOrder(r: ByteReader, b: Book): number {
    const id = r.f64();
    const side = r.u8();
    const type = r.u8();
    const tif = r.u8();
    const flags = r.u8();
    const stp = r.u8();
    const account = r.i32();
    const group = r.i32();
    const price = r.f64();
    const stop = r.f64();
    const qty = r.f64();
    const leaves = r.f64();
    const shown = r.f64();
    const display = r.f64();
    const expire = r.f64();
    const prio = r.f64();
    const ok =
      Number.isSafeInteger(id) &&
      id > 0 &&
      side <= SELL &&
      type >= OrderType.LIMIT &&
      type <= OrderType.STOP_LIMIT &&
      tif >= TimeInForce.DAY &&
      tif <= TimeInForce.FOK &&
      stp <= StpMode.DECREMENT &&
      Number.isSafeInteger(qty) &&
      Number.isSafeInteger(leaves) &&
      leaves > 0 &&
      leaves <= qty &&
      shown > 0 &&
      shown <= leaves &&
      Number.isSafeInteger(prio);
    if (!ok) throw new SnapshotError("snapshot order record is invalid");
    if (this.index.get(id) !== -1) throw new SnapshotError("snapshot has a duplicate order id");
    let rel: number;
    if (price === 0) rel = side === BUY ? b.span - 1 : 0;
    else {
      rel = b.priceToRel(price);
      if (!(rel >= 0 && rel < b.span)) throw new SnapshotError("snapshot order price is invalid");
    }
    const s = this.alloc();
    if (s === -1) throw new SnapshotError("snapshot holds more orders than maxOrders");
    this.oId[s] = id;
    this.oSide[s] = side;
    this.oType[s] = type;
    this.oTif[s] = tif;
    this.oFlags[s] = flags;
    this.oStp[s] = stp;
    this.oAccount[s] = account;
    this.oGroup[s] = group;
    this.oPrice[s] = price;
    this.oStop[s] = stop;
    this.oQty[s] = qty;
    this.oLeaves[s] = leaves;
    this.oShown[s] = shown;
    this.oDisplay[s] = display;
    this.oExpire[s] = expire;
    this.oPrio[s] = prio;
    this.oRel[s] = rel;
    this.oInst[s] = b.index;
    this.oStatus[s] = ST_TAKER;
    return s;
  }

  // ---------------------------------------------------------------- self check

  /**
   * Checks the internal structures against each other (links, aggregates, bitmaps, best prices,
   * id index, counters) and the book-level invariants. Returns the problems found; [] when sound.
   * O(state): for tests and diagnostics.
   */
  selfCheck(): string[] {
    const problems: string[] = [];
    let live = 0;
    let gtd = 0;
    const seen = new Set<number>();
    for (const b of this.books) {
      let resting = 0;
      for (let side = 0; side < 2; side++) {
        let levels = 0;
        let best = -1;
        for (let cell = 0; cell < b.wSize; cell++) {
          const li = side * b.wSize + cell;
          const bit = (b.bits[li >> 5]! >>> (li & 31)) & 1;
          const h = b.head[li]!;
          if ((h !== -1) !== (bit === 1)) problems.push(`${b.cfg.symbol}: bitmap disagrees at side ${side} cell ${cell}`);
          if (h === -1) {
            if (b.tail[li] !== -1 || b.agg[li] !== 0) problems.push(`${b.cfg.symbol}: empty level with tail/agg`);
            continue;
          }
          levels++;
          const rel = b.wBase + cell;
          if (side === BUY ? rel > best : best === -1) best = rel;
          let agg = 0;
          let prev = -1;
          let lastPrio = -Infinity;
          for (let s = h; s !== -1; s = this.oNext[s]!) {
            if (this.oPrev[s] !== prev) problems.push(`order ${this.oId[s]}: broken prev link`);
            if (this.oStatus[s] !== ST_RESTING) problems.push(`order ${this.oId[s]}: in a level but not resting`);
            if (this.oRel[s] !== rel || this.oSide[s] !== side || this.oInst[s] !== b.index)
              problems.push(`order ${this.oId[s]}: in the wrong level`);
            if (this.oPrio[s]! <= lastPrio) problems.push(`order ${this.oId[s]}: FIFO order broken`);
            lastPrio = this.oPrio[s]!;
            const leaves = this.oLeaves[s]!;
            const shown = this.oShown[s]!;
            const d = this.oDisplay[s]!;
            if (!(leaves > 0 && shown > 0 && shown <= leaves && (d === 0 ? shown === leaves : shown <= d)))
              problems.push(`order ${this.oId[s]}: bad quantities leaves=${leaves} shown=${shown}`);
            if (leaves > this.oQty[s]!) problems.push(`order ${this.oId[s]}: leaves exceed qty`);
            if (this.index.get(this.oId[s]!) !== s) problems.push(`order ${this.oId[s]}: not indexed`);
            if (seen.has(s)) problems.push(`slot ${s} linked twice`);
            seen.add(s);
            agg += shown;
            resting++;
            live++;
            if (this.oTif[s] === TimeInForce.GTD) gtd++;
            prev = s;
          }
          if (b.tail[li] !== prev) problems.push(`${b.cfg.symbol}: tail mismatch`);
          if (b.agg[li] !== agg) problems.push(`${b.cfg.symbol}: aggregate mismatch at ${b.relToPrice(rel)}`);
        }
        if (levels !== b.levels[side]) problems.push(`${b.cfg.symbol}: level count mismatch`);
        if ((side === BUY ? b.bestBid : b.bestAsk) !== best) problems.push(`${b.cfg.symbol}: best price mismatch`);
      }
      if (resting !== b.resting) problems.push(`${b.cfg.symbol}: resting count mismatch`);
      if (b.state === InstrumentState.CONTINUOUS && b.bestBid >= 0 && b.bestAsk >= 0 && b.bestBid >= b.bestAsk)
        problems.push(`${b.cfg.symbol}: book crossed in continuous trading`);
      let stops = 0;
      for (let side = 0; side < 2; side++) {
        let prev = -1;
        for (let s = b.stopHead[side]!; s !== -1; s = this.oNext[s]!) {
          if (this.oPrev[s] !== prev) problems.push(`stop ${this.oId[s]}: broken prev link`);
          if (this.oStatus[s] !== ST_STOP) problems.push(`stop ${this.oId[s]}: status`);
          if (prev !== -1 && (side === BUY ? this.oStop[s]! < this.oStop[prev]! : this.oStop[s]! > this.oStop[prev]!))
            problems.push(`stop ${this.oId[s]}: out of trigger order`);
          if (this.index.get(this.oId[s]!) !== s) problems.push(`stop ${this.oId[s]}: not indexed`);
          if (seen.has(s)) problems.push(`slot ${s} linked twice`);
          seen.add(s);
          stops++;
          live++;
          if (this.oTif[s] === TimeInForce.GTD) gtd++;
          prev = s;
        }
        if (b.stopTail[side] !== prev) problems.push(`${b.cfg.symbol}: stop tail mismatch`);
      }
      if (stops !== b.stopCount) problems.push(`${b.cfg.symbol}: stop count mismatch`);
      if (b.state === InstrumentState.CONTINUOUS) {
        const hb = b.stopHead[BUY]!;
        const hs = b.stopHead[SELL]!;
        if ((hb !== -1 && this.oStop[hb]! <= b.lastPrice) || (hs !== -1 && this.oStop[hs]! >= b.lastPrice))
          problems.push(`${b.cfg.symbol}: a parked stop is already triggered`);
      }
    }
    if (live !== this.index.size) problems.push(`index holds ${this.index.size} ids, ${live} live orders`);
    if (gtd !== this.gtdLive) problems.push(`gtd count ${this.gtdLive}, found ${gtd}`);
    let free = 0;
    for (let s = this.freeHead; s !== -1 && free <= this.capacity; s = this.oNext[s]!) {
      if (this.oStatus[s] !== ST_FREE) problems.push(`slot ${s} on the free list but in use`);
      free++;
    }
    if (free + live !== this.capacity) problems.push(`slots leak: ${free} free + ${live} live != ${this.capacity}`);
    return problems;
  }
}

/** Allowed state changes; the same state and CLOSED -> HALTED are not. */
function transitionAllowed(from: number, to: number): boolean {
  if (from === to) return false;
  return !(from === InstrumentState.CLOSED && to === InstrumentState.HALTED);
}

export function createEngine(config: EngineConfig): MatchingEngine {
  return new MatchingEngine(config);
}

/** Reads a snapshot back; throws SnapshotError on bytes that are corrupt or of another format. */
export function restoreEngine(bytes: Uint8Array): MatchingEngine {
  return MatchingEngine.fromSnapshot(bytes);
}
