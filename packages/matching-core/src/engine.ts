import { applyBlock, applyFence, admitChecked } from "./account-controls.ts";
import type { Book } from "./book.ts";
import { ByteWriter } from "./codec.ts";
import type { EngineConfig } from "./config.ts";
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
import { checkEngineState } from "./engine-self-check.ts";
import {
  copyOfSource,
  drain,
  ORDERS_PER_STEP,
  readSnapshot,
  type SnapshotSource,
  snapshotSizeHint,
  stateDigest,
  writeSnapshotSteps,
} from "./engine-snapshot.ts";
import { EngineState } from "./engine-state.ts";
import { type BookView, type EngineStats, type LiveOrder, bookView, engineStats, liveOrders } from "./engine-views.ts";
import { crossesOwn, fokFillable } from "./entry-checks.ts";
import { setInstrumentState } from "./instrument-states.ts";
import { ORDER_RECORD } from "./order-record.ts";
import type { OrderExtras } from "./order-extras.ts";
import { expireOrders, massCancelOrders } from "./order-removal.ts";
import { triggerPass } from "./stop-triggers.ts";

// Local consts, not the imported object's fields: see ORDER_RECORD.
const { BUY, SELL, ST_FREE, ST_RESTING, ST_TAKER, F_ID, F_PRICE, F_PRIO, I_LEAVES, I_SHOWN, I_QTY } = ORDER_RECORD;
const { I_REL, I_ACCOUNT, I_GROUP, I_PREV, I_NEXT, H_INST, B_FLAGS, B_STP, B_SIDE, B_STATUS, B_TYPE, B_TIF } =
  ORDER_RECORD;
const { FLAG_ICEBERG } = ORDER_RECORD;

/**
 * The matching core: one single-threaded, deterministic state machine for all configured
 * instruments. Commands are methods with numeric arguments; each returns 0 when the command was
 * applied or the RejectReason of its REJECTED event, and leaves its complete output in `events`.
 * Nothing on the command path allocates in steady state: orders live in fixed 64-byte records of
 * one ArrayBuffer with a free list, books are tick ladders with intrusive FIFO lists, and the
 * id index is an open-addressing table over a Float64Array.
 *
 * The numeric methods take numbers: NaN, infinities, fractions, negatives and out-of-range
 * values are rejected with a reason, never thrown. (Values that are not numbers at all belong
 * to `applyCommand`, which maps them to NaN first.)
 *
 * This class holds the command path (`submit`, `cancel`, `replace`, the matching loop), written
 * out as methods so that nothing sits between a command and the records; its state and the
 * primitives on it are in `EngineState`, and the cold groups (state changes and the call
 * auction, stop triggers, mass removal, account controls, views, snapshots, the self check) in
 * modules of their own that the methods below call (see the package README).
 */
export class MatchingEngine extends EngineState {
  /** The order records as of the last `snapshotSource()` (kept: see there). */
  private recordsCopy: ArrayBuffer | undefined;

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
    const ev = this.events;
    ev.count = 0;
    ev.seq = seq;
    const books = this.books;
    const inst = instrument >>> 0 === instrument && instrument < books.length ? instrument : -1;
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq))
      return this.reject(RejectReason.INVALID_SEQUENCE, orderId, inst);
    this.lastSeq = seq;
    if (!Number.isInteger(timeNs) || timeNs < 0) return this.reject(RejectReason.INVALID_TIME, orderId, inst);
    if (!(orderId > 0) || !Number.isSafeInteger(orderId))
      return this.reject(RejectReason.INVALID_ORDER_ID, orderId, inst);
    if (inst < 0) return this.reject(RejectReason.UNKNOWN_INSTRUMENT, orderId, -1);
    if ((account | 0) !== account || account < 0) return this.reject(RejectReason.INVALID_ACCOUNT, orderId, inst);
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
      if ((group | 0) !== group || group < 0) return this.reject(RejectReason.INVALID_ACCOUNT, orderId, inst);
      if ((flags !== 0 && flags !== OrderFlags.POST_ONLY) || stp >>> 0 !== stp || stp > StpMode.DECREMENT)
        return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    }
    if (
      (side !== 1 && side !== 2) ||
      type >>> 0 !== type ||
      type < 1 ||
      type > 4 ||
      tif >>> 0 !== tif ||
      tif < 1 ||
      tif > 5
    )
      return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    const resting = tif <= TimeInForce.GTD; // DAY, GTC, GTD
    if (type !== OrderType.LIMIT) {
      if (
        (type === OrderType.MARKET && resting) ||
        (type === OrderType.STOP_MARKET && !resting) ||
        (type === OrderType.STOP_LIMIT && tif === TimeInForce.FOK) ||
        flags !== 0
      )
        return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    } else if (flags !== 0 && !resting) return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (display !== 0 && ((type !== OrderType.LIMIT && type !== OrderType.STOP_LIMIT) || !resting))
      return this.reject(RejectReason.INVALID_DISPLAY_QTY, orderId, inst);
    const b = books[inst]!;
    const state = b.state;
    if (state !== InstrumentState.CONTINUOUS) {
      if (state === InstrumentState.CLOSED) return this.reject(RejectReason.MARKET_CLOSED, orderId, inst);
      if (state === InstrumentState.HALTED) return this.reject(RejectReason.INSTRUMENT_HALTED, orderId, inst);
      if (type === OrderType.MARKET || !resting || flags !== 0)
        return this.reject(RejectReason.ORDER_TYPE_NOT_ALLOWED, orderId, inst);
    }
    if ((qty | 0) !== qty || qty <= 0) return this.reject(RejectReason.INVALID_QTY, orderId, inst);
    const lot = b.lotSize;
    if (lot !== 1 && qty % lot !== 0) return this.reject(RejectReason.OFF_LOT, orderId, inst);
    if (qty < b.minQty || qty > b.maxQty) return this.reject(RejectReason.QTY_OUT_OF_RANGE, orderId, inst);
    if (display !== 0) {
      if ((display | 0) !== display || display <= 0 || display % lot !== 0 || display > qty)
        return this.reject(RejectReason.INVALID_DISPLAY_QTY, orderId, inst);
      if (display === qty) display = 0;
    }
    const isBuy = side === 1;
    let rel: number;
    if (price !== 0 || type === OrderType.LIMIT || type === OrderType.STOP_LIMIT) {
      if (!(price > 0) || !Number.isSafeInteger(price)) return this.reject(RejectReason.INVALID_PRICE, orderId, inst);
      rel = b.priceToRel(price);
      if (rel !== rel) return this.reject(RejectReason.OFF_TICK, orderId, inst);
      if (rel < 0 || rel >= b.span) return this.reject(RejectReason.OUTSIDE_PRICE_BAND, orderId, inst);
    } else {
      rel = isBuy ? b.span - 1 : 0;
    }
    const isStop = type >= OrderType.STOP_MARKET;
    if (isStop) {
      if (!(stopPrice > 0) || !Number.isSafeInteger(stopPrice))
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
    const index = this.index;
    if (index.get(orderId) !== -1) return this.reject(RejectReason.DUPLICATE_ORDER_ID, orderId, inst);
    if (index.size >= this.config.maxOrders) return this.reject(RejectReason.CAPACITY_EXCEEDED, orderId, inst);
    // Does it cross on entry? (Stops and the call phase never match on entry.)
    const crosses =
      state === InstrumentState.CONTINUOUS &&
      !isStop &&
      (isBuy ? b.bestAsk >= 0 && b.bestAsk <= rel : b.bestBid >= 0 && b.bestBid >= rel);
    if (crosses && flags !== 0) return this.reject(RejectReason.POST_ONLY_WOULD_TAKE, orderId, inst);
    // The call auction's self-trade prevention is at entry (NSE): refuse an order that crosses its owner's.
    if (state === InstrumentState.PRE_OPEN && !isStop && crossesOwn(this, b, isBuy ? BUY : SELL, rel, account, group))
      return this.reject(RejectReason.SELF_TRADE, orderId, inst);
    if (
      tif === TimeInForce.FOK &&
      !(crosses && fokFillable(this, b, isBuy ? BUY : SELL, rel, qty, account, group, stp))
    )
      return this.reject(RejectReason.FOK_NOT_FILLABLE, orderId, inst);
    const s = this.alloc();
    if (s === -1) return this.reject(RejectReason.CAPACITY_EXCEEDED, orderId, inst);
    const sideIdx = isBuy ? BUY : SELL;
    const f8 = s << 3;
    const i4 = s << 4;
    const b6 = s << 6;
    const of = this.of;
    const oi = this.oi;
    const ob = this.ob;
    of[f8 + F_ID] = orderId;
    of[f8 + F_PRICE] = price;
    of[f8 + F_PRIO] = ++this.prioCounter;
    const shown = display !== 0 ? display : qty;
    oi[i4 + I_LEAVES] = qty;
    oi[i4 + I_SHOWN] = shown;
    oi[i4 + I_QTY] = qty;
    oi[i4 + I_REL] = rel;
    oi[i4 + I_ACCOUNT] = account;
    oi[i4 + I_GROUP] = group;
    this.oh[(s << 5) + H_INST] = inst;
    ob[b6 + B_FLAGS] = display !== 0 ? flags | FLAG_ICEBERG : flags;
    ob[b6 + B_STP] = stp;
    ob[b6 + B_SIDE] = sideIdx;
    ob[b6 + B_STATUS] = ST_TAKER;
    ob[b6 + B_TYPE] = type;
    ob[b6 + B_TIF] = tif;
    // Cold fields: written only for the orders that will read them.
    if (display !== 0 || isStop || expire !== 0) this.writeCold(s, stopPrice, expire, display);
    // ACCEPTED
    let n = ev.count;
    if (n === ev.capacity) {
      ev.grow();
    }
    ev.kind[n] = EventKind.ACCEPTED;
    ev.orderId[n] = orderId;
    ev.instrument[n] = inst;
    ev.side[n] = side;
    ev.price[n] = price;
    ev.qty[n] = qty;
    ev.account[n] = account;
    ev.count = ++n;
    if (!crosses) {
      if (isStop) {
        this.park(b, s);
        if (state === InstrumentState.CONTINUOUS) triggerPass(this, b);
      } else if (type === OrderType.MARKET || tif >= TimeInForce.IOC) {
        this.emitOrder(EventKind.CANCELLED, s, price, qty, 0, CancelReason.IOC_REMAINDER);
        this.free(s);
      } else {
        // Rests without trading: the common case, written out here rather than calling rest().
        let cell = rel - b.wBase;
        if (cell < 0 || cell >= b.wSize) {
          b.recentre(rel);
          cell = rel - b.wBase;
        }
        const li = sideIdx * b.wSize + cell;
        const tail = b.tail[li]!;
        oi[i4 + I_PREV] = tail;
        oi[i4 + I_NEXT] = -1;
        if (tail === -1) {
          b.head[li] = s;
          b.bits[li >> 5] = b.bits[li >> 5]! | (1 << (li & 31));
          b.levels[sideIdx] = b.levels[sideIdx]! + 1;
          if (isBuy) {
            if (rel > b.bestBid) b.bestBid = rel;
          } else if (b.bestAsk < 0 || rel < b.bestAsk) b.bestAsk = rel;
        } else {
          oi[(tail << 4) + I_NEXT] = s;
        }
        b.tail[li] = s;
        const agg = b.agg[li]! + shown;
        b.agg[li] = agg;
        b.resting++;
        ob[b6 + B_STATUS] = ST_RESTING;
        index.set(orderId, s);
        if (tif === TimeInForce.GTD) this.gtdLive++;
        if (n === ev.capacity) ev.grow();
        ev.kind[n] = EventKind.BOOK_DELTA;
        ev.instrument[n] = inst;
        ev.side[n] = side;
        ev.price[n] = price;
        ev.qty[n] = agg;
        ev.count = n + 1;
      }
    } else {
      this.execute(b, s);
      if (b.stopCount !== 0) triggerPass(this, b);
    }
    return 0;
  }

  /** Cancels a live order (resting or parked stop) of `account`. Allowed in every state. */
  cancel(seq: number, orderId: number, account: number): number {
    const ev = this.events;
    ev.count = 0;
    ev.seq = seq;
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq))
      return this.reject(RejectReason.INVALID_SEQUENCE, orderId, -1);
    this.lastSeq = seq;
    if (!(orderId > 0) || !Number.isSafeInteger(orderId))
      return this.reject(RejectReason.INVALID_ORDER_ID, orderId, -1);
    const s = this.index.get(orderId);
    if (s === -1) return this.reject(RejectReason.UNKNOWN_ORDER, orderId, -1);
    const b = this.books[this.oh[(s << 5) + H_INST]!]!;
    const oi = this.oi;
    const s4 = s << 4;
    // Refused like an unknown id (no instrument): the reject must not tell whose order it is, or where.
    if (account !== oi[s4 + I_ACCOUNT]) return this.reject(RejectReason.NOT_OWNER, orderId, -1);
    const ob = this.ob;
    const b6 = s << 6;
    if (ob[b6 + B_STATUS] !== ST_RESTING) {
      this.removeLive(b, s, EventKind.CANCELLED, CancelReason.USER);
      return 0;
    }
    // A resting order, written out (the common cancel): unlink, two events, release.
    const side = ob[b6 + B_SIDE]!;
    const rel = oi[s4 + I_REL]!;
    const li = side * b.wSize + (rel - b.wBase);
    const p = oi[s4 + I_PREV]!;
    const n = oi[s4 + I_NEXT]!;
    const head = b.head;
    if (p === -1) head[li] = n;
    else oi[(p << 4) + I_NEXT] = n;
    if (n === -1) b.tail[li] = p;
    else oi[(n << 4) + I_PREV] = p;
    const agg = b.agg[li]! - oi[s4 + I_SHOWN]!;
    b.agg[li] = agg;
    b.resting--;
    const price = this.of[(s << 3) + F_PRICE]!;
    while (ev.capacity < 2) ev.grow();
    const inst = b.index;
    ev.kind[0] = EventKind.CANCELLED;
    ev.orderId[0] = orderId;
    ev.instrument[0] = inst;
    ev.side[0] = side + 1;
    ev.price[0] = price;
    ev.qty[0] = oi[s4 + I_LEAVES]!;
    ev.leaves[0] = 0;
    ev.reason[0] = CancelReason.USER;
    ev.account[0] = account;
    ev.kind[1] = EventKind.BOOK_DELTA;
    ev.instrument[1] = inst;
    ev.side[1] = side + 1;
    ev.price[1] = price;
    ev.qty[1] = agg;
    ev.count = 2;
    if (head[li] === -1) this.levelEmptied(b, side, rel);
    this.index.delete(orderId);
    if (ob[b6 + B_TIF] === TimeInForce.GTD) this.gtdLive--;
    ob[b6 + B_STATUS] = ST_FREE;
    oi[s4 + I_NEXT] = this.freeHead;
    this.freeHead = s;
    return 0;
  }

  /**
   * Replace: `newQty` is the new total order quantity (already executed quantity counts against
   * it, so a replace never overfills). A pure quantity decrease keeps time priority; a price change
   * or a quantity increase re-enters the order at the back (and may trade in continuous trading).
   */
  replace(seq: number, orderId: number, account: number, newPrice: number, newQty: number): number {
    this.begin(seq);
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq))
      return this.reject(RejectReason.INVALID_SEQUENCE, orderId, -1);
    this.lastSeq = seq;
    if (!(orderId > 0) || !Number.isSafeInteger(orderId))
      return this.reject(RejectReason.INVALID_ORDER_ID, orderId, -1);
    const s = this.index.get(orderId);
    if (s === -1) return this.reject(RejectReason.UNKNOWN_ORDER, orderId, -1);
    const oi = this.oi;
    const of = this.of;
    const i4 = s << 4;
    const f8 = s << 3;
    const b = this.books[this.oh[(s << 5) + H_INST]!]!;
    const inst = b.index;
    if (account !== oi[i4 + I_ACCOUNT]) return this.reject(RejectReason.NOT_OWNER, orderId, -1);
    if (b.state === InstrumentState.CLOSED) return this.reject(RejectReason.MARKET_CLOSED, orderId, inst);
    if (b.state === InstrumentState.HALTED) return this.reject(RejectReason.INSTRUMENT_HALTED, orderId, inst);
    if (this.ob[(s << 6) + B_STATUS] !== ST_RESTING)
      return this.reject(RejectReason.ORDER_TYPE_NOT_ALLOWED, orderId, inst);
    if ((newQty | 0) !== newQty || newQty <= 0) return this.reject(RejectReason.INVALID_QTY, orderId, inst);
    if (b.lotSize !== 1 && newQty % b.lotSize !== 0) return this.reject(RejectReason.OFF_LOT, orderId, inst);
    if (newQty < b.minQty || newQty > b.maxQty) return this.reject(RejectReason.QTY_OUT_OF_RANGE, orderId, inst);
    if (!(newPrice > 0) || !Number.isSafeInteger(newPrice))
      return this.reject(RejectReason.INVALID_PRICE, orderId, inst);
    const rel = b.priceToRel(newPrice);
    if (rel !== rel) return this.reject(RejectReason.OFF_TICK, orderId, inst);
    if (rel < 0 || rel >= b.span) return this.reject(RejectReason.OUTSIDE_PRICE_BAND, orderId, inst);
    if (b.maxOrderValue > 0 && newQty * newPrice > b.maxOrderValue)
      return this.reject(RejectReason.MAX_ORDER_VALUE, orderId, inst);
    const side = this.ob[(s << 6) + B_SIDE]!;
    if (
      b.state === InstrumentState.CONTINUOUS &&
      (this.ob[(s << 6) + B_FLAGS]! & OrderFlags.POST_ONLY) !== 0 &&
      (side === BUY ? b.bestAsk >= 0 && b.bestAsk <= rel : b.bestBid >= 0 && b.bestBid >= rel)
    )
      return this.reject(RejectReason.POST_ONLY_WOULD_TAKE, orderId, inst);
    if (
      b.state === InstrumentState.PRE_OPEN &&
      newQty > oi[i4 + I_QTY]! - oi[i4 + I_LEAVES]! &&
      crossesOwn(this, b, side, rel, account, oi[i4 + I_GROUP]!)
    )
      return this.reject(RejectReason.SELF_TRADE, orderId, inst);

    const oldRel = oi[i4 + I_REL]!;
    const leaves = oi[i4 + I_LEAVES]!;
    const newLeaves = newQty - (oi[i4 + I_QTY]! - leaves);
    const li = side * b.wSize + (oldRel - b.wBase);
    const oldPrice = of[f8 + F_PRICE]!;
    if (newLeaves <= 0) {
      // Already executed at least the new quantity: the order is done.
      oi[i4 + I_QTY] = newQty;
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
      oi[i4 + I_QTY] = newQty;
      oi[i4 + I_LEAVES] = newLeaves;
      const shown = oi[i4 + I_SHOWN]!;
      this.emitOrder(EventKind.REPLACED, s, newPrice, newQty, newLeaves, 0);
      if (shown > newLeaves) {
        oi[i4 + I_SHOWN] = newLeaves;
        b.agg[li] = b.agg[li]! - (shown - newLeaves);
        this.emitDelta(inst, side + 1, newPrice, b.agg[li]!);
      }
      return 0;
    }
    // Loses priority: leaves its level, then enters as a new order at the new price.
    this.unlinkResting(b, s, li);
    this.indexRemove(s);
    this.ob[(s << 6) + B_STATUS] = ST_TAKER;
    of[f8 + F_PRICE] = newPrice;
    of[f8 + F_PRIO] = ++this.prioCounter;
    oi[i4 + I_REL] = rel;
    oi[i4 + I_QTY] = newQty;
    oi[i4 + I_LEAVES] = newLeaves;
    const display = this.displayOf(s);
    oi[i4 + I_SHOWN] = display !== 0 && display < newLeaves ? display : newLeaves;
    this.emitOrder(EventKind.REPLACED, s, newPrice, newQty, newLeaves, 0);
    this.emitDelta(inst, side + 1, oldPrice, b.agg[li]!);
    if (b.head[li] === -1) this.levelEmptied(b, side, oldRel);
    if (b.state === InstrumentState.PRE_OPEN) {
      this.rest(b, s);
    } else {
      this.execute(b, s);
      if (b.stopCount !== 0) triggerPass(this, b);
    }
    return 0;
  }

  /**
   * Cancels every live order matching the filters: `account` (-1 = every account), `instrument`
   * (-1 = all), `side` (0 = both, else Side). Order of events: instrument, bids best to worst,
   * asks best to worst (FIFO within a level), then parked buy stops and sell stops in trigger order.
   */
  massCancel(seq: number, account: number, instrument: number, side: number): number {
    return massCancelOrders(this, seq, account, instrument, side);
  }

  /**
   * Moves one instrument (or all, -1) to `state`. Entering CONTINUOUS uncrosses a crossed book
   * with the call-auction algorithm; entering CLOSED expires DAY orders; entering HALTED cancels
   * the book when the instrument has cancelOnHalt. With -1, instruments already in the state are
   * skipped and a forbidden transition gives a REJECTED event for that instrument.
   */
  setState(seq: number, timeNs: number, instrument: number, state: number, referencePrice = 0): number {
    return setInstrumentState(this, seq, timeNs, instrument, state, referencePrice);
  }

  /** Expires every GTD order whose expiry time is at or before `timeNs` (EXPIRED events). */
  expire(seq: number, timeNs: number): number {
    return expireOrders(this, seq, timeNs);
  }

  /**
   * The account-ownership and kill-switch checks (ADR 0003) of a command of `account` written
   * with `ownerEpoch`, made before the command's own method: returns 0, having emitted nothing,
   * when the command may go on to it with the same seq; otherwise the command is refused as a
   * whole (FENCED when `ownerEpoch` is below the account's fence, else KILL_SWITCH when
   * `entry`, a new order or a replace, is of a blocked account), consuming seq, and the reason
   * is returned. `orderId` and `instrument` go into the rejection as the command's own method
   * would put them. Costs two size checks while no account is fenced or blocked.
   */
  admit(seq: number, account: number, ownerEpoch: number, entry: boolean, orderId = 0, instrument = -1): number {
    if (this.fences.size === 0 && this.blocked.size === 0 && !this.allBlocked) return 0;
    return admitChecked(this, seq, account, ownerEpoch, entry, orderId, instrument);
  }

  /**
   * Raises `account`'s fence to `epoch` (a fence at or below the current one changes nothing):
   * one ACCOUNT_FENCED event with the fence after it. Checked against the fence by `admit`
   * first, like any command of the account.
   */
  fence(seq: number, account: number, epoch: number): number {
    return applyFence(this, seq, account, epoch);
  }

  /**
   * Sets or lifts the kill-switch block of `account` (-1: the venue's switch, every account;
   * it and the accounts' own blocks are independent): one ACCOUNT_BLOCK_CHANGED event. Never
   * fenced: a kill switch binds whichever gateway replica saw it first.
   */
  block(seq: number, account: number, blocked: boolean): number {
    return applyBlock(this, seq, account, blocked);
  }

  /** Whether a kill switch blocks `account` (its own or the venue's). */
  isBlocked(account: number): boolean {
    return this.allBlocked || this.blocked.has(account);
  }

  /** The fence of `account` (0: none). */
  fenceOf(account: number): number {
    return this.fences.get(account) ?? 0;
  }

  /** A command the caller could not decode: REJECTED with INVALID_COMMAND (consumes seq when valid). */
  rejectCommand(seq: number): number {
    this.begin(seq);
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
    this.lastSeq = seq;
    return this.reject(RejectReason.INVALID_COMMAND, 0, -1);
  }

  // ---------------------------------------------------------------- matching

  /** @internal Runs a taker (new order, replaced order or triggered stop) and rests or ends its remainder. */
  execute(b: Book, t: number): void {
    const alive = this.sweep(b, t);
    if (!alive) {
      this.free(t);
      return;
    }
    const i4 = t << 4;
    const leaves = this.oi[i4 + I_LEAVES]!;
    if (leaves === 0) {
      this.free(t);
    } else if (this.ob[(t << 6) + B_TYPE] === OrderType.MARKET || this.ob[(t << 6) + B_TIF]! >= TimeInForce.IOC) {
      this.emitOrder(EventKind.CANCELLED, t, this.of[(t << 3) + F_PRICE]!, leaves, 0, CancelReason.IOC_REMAINDER);
      this.free(t);
    } else {
      const d = this.displayOf(t);
      this.oi[i4 + I_SHOWN] = d !== 0 && d < leaves ? d : leaves;
      this.rest(b, t);
    }
  }

  /**
   * Matches taker `t` against the opposite side while it crosses. Returns false when self-trade
   * prevention ended the taker. Trades print at the maker's price; one BOOK_DELTA per level left.
   */
  private sweep(b: Book, t: number): boolean {
    const oi = this.oi;
    const of = this.of;
    const t4 = t << 4;
    const side = this.ob[(t << 6) + B_SIDE]!;
    const opp = side ^ 1;
    const limit = oi[t4 + I_REL]!;
    const takerId = of[t << 3]!;
    const takerAcc = oi[t4 + I_ACCOUNT]!;
    const takerGroup = oi[t4 + I_GROUP]!;
    const ob = this.ob;
    const index = this.index;
    const stp = ob[(t << 6) + B_STP]!;
    const inst = b.index;
    const takerSide = side + 1;
    let leaves = oi[t4 + I_LEAVES]!;
    let alive = true;
    for (;;) {
      const best = opp === SELL ? b.bestAsk : b.bestBid;
      if (best < 0 || (side === BUY ? best > limit : best < limit)) break;
      const li = opp * b.wSize + (best - b.wBase);
      const agg = b.agg;
      const head = b.head;
      const aggBefore = agg[li]!;
      const price = b.relToPrice(best);
      while (leaves > 0) {
        const m = head[li]!;
        if (m === -1) break;
        const m4 = m << 4;
        if (oi[m4 + I_ACCOUNT] === takerAcc || (takerGroup !== 0 && oi[m4 + I_GROUP] === takerGroup)) {
          const ml = oi[m4 + I_LEAVES]!;
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
              const left = ml - dec;
              oi[m4 + I_LEAVES] = left;
              const shown = oi[m4 + I_SHOWN]!;
              if (shown > left) {
                oi[m4 + I_SHOWN] = left;
                agg[li] = agg[li]! - (shown - left);
              }
              this.emitOrder(EventKind.CANCELLED, m, price, dec, left, CancelReason.STP);
            }
            leaves -= dec;
            this.emitOrder(EventKind.CANCELLED, t, of[(t << 3) + F_PRICE]!, dec, leaves, CancelReason.STP);
            if (leaves === 0) alive = false;
            continue;
          }
          if (stp === StpMode.CANCEL_BOTH) {
            this.emitOrder(EventKind.CANCELLED, m, price, ml, 0, CancelReason.STP);
            this.dropHead(b, m, li);
          }
          this.emitOrder(EventKind.CANCELLED, t, of[(t << 3) + F_PRICE]!, leaves, 0, CancelReason.STP);
          leaves = 0;
          alive = false;
          break;
        }
        const shown = oi[m4 + I_SHOWN]!;
        const fill = leaves < shown ? leaves : shown;
        leaves -= fill;
        const ml = oi[m4 + I_LEAVES]! - fill;
        oi[m4 + I_LEAVES] = ml;
        agg[li] = agg[li]! - fill;
        this.emitTrade(inst, takerSide, price, fill, of[m << 3]!, takerId, ml, leaves);
        if (ml === 0) {
          // Maker filled: unlink the head and release it (its shown part is already out of agg).
          const nx = oi[m4 + I_NEXT]!;
          head[li] = nx;
          if (nx === -1) b.tail[li] = -1;
          else oi[(nx << 4) + I_PREV] = -1;
          b.resting--;
          index.delete(of[m << 3]!);
          const m6 = m << 6;
          if (ob[m6 + B_TIF] === TimeInForce.GTD) this.gtdLive--;
          ob[m6 + B_STATUS] = ST_FREE;
          oi[m4 + I_NEXT] = this.freeHead;
          this.freeHead = m;
        } else if (fill === shown) {
          // Iceberg: the shown part is gone; refill from the hidden part and go to the back.
          const d = this.oDisplay[m]!; // fill === shown < leaves happens only to icebergs
          const ns = ml < d ? ml : d;
          oi[m4 + I_SHOWN] = ns;
          agg[li] = agg[li]! + ns;
          this.moveToBack(b, m, li);
          of[(m << 3) + F_PRIO] = ++this.prioCounter;
        } else {
          oi[m4 + I_SHOWN] = shown - fill;
        }
        b.lastPrice = price;
      }
      const aggNow = agg[li]!;
      if (aggNow !== aggBefore) this.emitDelta(inst, opp + 1, price, aggNow);
      if (head[li] === -1) this.levelEmptied(b, opp, best);
      if (leaves === 0) break;
    }
    oi[t4 + I_LEAVES] = leaves;
    return alive;
  }

  // ---------------------------------------------------------------- queries

  /** Aggregated levels of one instrument, best first, at most `depth` per side (allocates). */
  book(instrument: number, depth = 10): BookView {
    return bookView(this, instrument, depth);
  }

  /**
   * Price and visible quantity of the best `depth` levels of one side (`side` 0 buys, 1
   * sells), best first, written into `prices` and `qtys` (at most their length); returns how
   * many. What
   * `book` gives without allocating or walking each level's orders to count them: a
   * backtest's strategy reads the top of the book after nearly every command.
   */
  topLevels(instrument: number, side: number, depth: number, prices: Float64Array, qtys: Float64Array): number {
    const b = this.books[instrument];
    if (b === undefined) throw new RangeError(`unknown instrument ${instrument}`);
    depth = Math.min(depth, prices.length, qtys.length);
    let n = 0;
    let rel = side === BUY ? b.bestBid : b.bestAsk;
    while (rel >= 0 && n < depth) {
      prices[n] = b.relToPrice(rel);
      qtys[n] = b.agg[side * b.wSize + (rel - b.wBase)]!;
      n++;
      rel = b.nextLevel(side, rel);
    }
    return n;
  }

  /**
   * Live orders of one instrument in book order (bids best to worst, asks best to worst, FIFO
   * within a level, then parked buy and sell stops in trigger order), as plain objects. Allocates:
   * for tests, diagnostics and admin views.
   */
  orders(instrument: number): LiveOrder[] {
    return liveOrders(this, instrument);
  }

  stats(): EngineStats {
    return engineStats(this);
  }

  // ---------------------------------------------------------------- state, digest, snapshot

  /** sha256 (hex) of the canonical state. */
  digest(): string {
    return stateDigest(this);
  }

  /** The whole state as bytes: header (magic, version, length, sha256 of the body) and body. */
  snapshot(): Uint8Array {
    const w = new ByteWriter(snapshotSizeHint(this));
    this.snapshotInto(w);
    return w.view8();
  }

  /**
   * Writes the snapshot (header and body) at the writer's end, in place: a snapshot of a
   * large book is written once, with no copies, because the engine loop waits for it.
   */
  snapshotInto(w: ByteWriter): void {
    drain(MatchingEngine.snapshotSteps(this, w));
  }

  /**
   * A copy of what a snapshot reads (the order records, the books' ladders, the counters),
   * taken in one go: the order records are one buffer, so this is about a memory copy. A
   * snapshot of the copy can then be written in steps (`snapshotSteps`) while the engine
   * goes on applying commands. The copy of the records is reused by the next call: one
   * snapshot at a time.
   */
  snapshotSource(): SnapshotSource {
    // Into a buffer kept for it: copying into fresh memory costs a page fault per 4 KB, 50x
    // the copy itself on the machine we measured (100 ms against 2 ms for 32 MB).
    if (this.recordsCopy?.byteLength !== this.ob.byteLength) this.recordsCopy = new ArrayBuffer(this.ob.byteLength);
    return copyOfSource(this, this.recordsCopy);
  }

  /** The fenced accounts and their fences, by account (a copy: for snapshots, the digest and views). */
  get accountFences(): [number, number][] {
    return [...this.fences].sort((a, b) => a[0] - b[0]);
  }

  /** The accounts blocked by their own kill switch, ascending (a copy). */
  get blockedAccounts(): number[] {
    return [...this.blocked].sort((a, b) => a - b);
  }

  /**
   * Writes the snapshot of `src` (this engine, or a `snapshotSource()` copy) at the writer's
   * end, yielding every `ordersPerStep` orders; the bytes equal `snapshot()`'s for the same
   * state.
   */
  static snapshotSteps(
    src: SnapshotSource,
    w: ByteWriter,
    ordersPerStep = ORDERS_PER_STEP,
  ): Generator<void, void, void> {
    return writeSnapshotSteps(src, w, ordersPerStep);
  }

  /** @internal Restores a snapshot into a fresh engine. */
  static fromSnapshot(bytes: Uint8Array): MatchingEngine {
    return readSnapshot(bytes, MatchingEngine);
  }

  // ---------------------------------------------------------------- self check

  /**
   * Checks the internal structures against each other (links, aggregates, bitmaps, best prices,
   * id index, counters) and the book-level invariants. Returns the problems found; [] when sound.
   * O(state): for tests and diagnostics.
   */
  selfCheck(): string[] {
    return checkEngineState(this);
  }
}

export function createEngine(config: EngineConfig): MatchingEngine {
  return new MatchingEngine(config);
}

/** Reads a snapshot back; throws SnapshotError on bytes that are corrupt or of another format. */
export function restoreEngine(bytes: Uint8Array): MatchingEngine {
  return MatchingEngine.fromSnapshot(bytes);
}
