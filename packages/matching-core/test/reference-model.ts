/**
 * The naive reference for the matching core: plain objects in one array, sorted whenever an
 * order of priority is needed, every rule written out once in the most direct form. It knows
 * nothing of ladders, slots, hash tables or bitmaps; property tests run it beside the engine and
 * demand the very same events and live orders after every command.
 */
import {
  CancelReason,
  EventKind,
  InstrumentState,
  OrderFlags,
  OrderType,
  RejectReason,
  StpMode,
  TimeInForce,
  type EngineConfig,
  type EngineEvent,
  type LiveOrder,
  type OrderExtras,
  type TickSlab,
} from "../src/index.ts";
import { onTick, priceOfTick, tickIndex } from "./reference-ticks.ts";

interface Order {
  id: number;
  inst: number;
  account: number;
  group: number;
  side: number; // 1 buy, 2 sell
  type: number;
  tif: number;
  postOnly: boolean;
  stp: number;
  price: number; // limit price, or protection price (0 = none) for market types
  stop: number;
  qty: number;
  leaves: number;
  shown: number;
  display: number;
  expire: number;
  prio: number;
  parked: boolean;
}

interface Instrument {
  slabs: TickSlab[];
  lot: number;
  minQty: number;
  maxQty: number;
  maxValue: number;
  ref: number;
  low: number; // lowest allowed price
  high: number; // highest allowed price
  state: number;
  lastPrice: number;
  cancelOnHalt: boolean;
}

const MAX_INT32 = 0x7fffffff;
const isInt32NonNeg = (v: number) => Number.isInteger(v) && v >= 0 && v <= MAX_INT32;
const isPosInt32 = (v: number) => Number.isInteger(v) && v > 0 && v <= MAX_INT32;

export class ReferenceModel {
  lastSeq = 0;
  private prio = 0;
  private readonly ins: Instrument[];
  /** Per instrument: its price band around a reference price. */
  private readonly bands: ((reference: number) => { low: number; high: number })[];
  private orders: Order[] = [];
  private readonly maxOrders: number;
  events: EngineEvent[] = [];
  private seq = 0;
  /** ADR 0003: each fenced account's fence, the accounts a kill switch blocks, the venue's switch. */
  private readonly fences = new Map<number, number>();
  private readonly blocked = new Set<number>();
  allBlocked = false;

  constructor(config: EngineConfig) {
    this.maxOrders = config.capacity?.maxOrders ?? 1 << 21;
    this.bands = config.instruments.map((c) => {
      const slabs = c.tickSlabs ? [...c.tickSlabs] : [{ fromPrice: 0, tickSize: c.tickSize! }];
      return (reference: number) => {
        let low: number;
        let high: number;
        if (c.bandPercent > 0) {
          low = Math.ceil((reference * (100 - c.bandPercent)) / 100);
          while (!onTick(slabs, low)) low++;
          high = Math.floor((reference * (100 + c.bandPercent)) / 100);
          while (!onTick(slabs, high)) high--;
          if (low < slabs[0]!.tickSize) low = slabs[0]!.tickSize;
        } else {
          const m = c.maxTicksFromReference ?? 1 << 19;
          const refTick = tickIndex(slabs, reference);
          low = priceOfTick(slabs, Math.max(1, refTick - m));
          high = priceOfTick(slabs, refTick + m);
        }
        return { low, high };
      };
    });
    this.ins = config.instruments.map((c, i) => {
      const slabs = c.tickSlabs ? [...c.tickSlabs] : [{ fromPrice: 0, tickSize: c.tickSize! }];
      const { low, high } = this.bands[i]!(c.referencePrice);
      return {
        slabs,
        lot: c.lotSize,
        minQty: c.minQty,
        maxQty: c.maxQty,
        maxValue: c.maxOrderValue,
        ref: c.referencePrice,
        low,
        high,
        state: c.initialState ?? InstrumentState.CONTINUOUS,
        lastPrice: c.referencePrice,
        cancelOnHalt: c.cancelOnHalt ?? false,
      };
    });
  }

  // ------------------------------------------------------------ events

  private emit(e: Record<string, number>): void {
    this.events.push({ ...e, seq: this.seq, index: this.events.length } as unknown as EngineEvent);
  }

  private reject(reason: number, orderId: unknown, instrument: number): number {
    this.emit({
      kind: EventKind.REJECTED,
      orderId: typeof orderId === "number" ? orderId : NaN,
      instrument,
      reason,
    });
    return reason;
  }

  private orderEvent(kind: number, o: Order, price: number, qty: number, leaves: number, reason: number): void {
    if (kind === EventKind.REPLACED)
      this.emit({ kind, orderId: o.id, instrument: o.inst, side: o.side, price, qty, leaves, account: o.account });
    else if (kind === EventKind.TRIGGERED)
      this.emit({ kind, orderId: o.id, instrument: o.inst, side: o.side, price, qty, account: o.account });
    else
      this.emit({
        kind,
        orderId: o.id,
        instrument: o.inst,
        side: o.side,
        price,
        qty,
        leaves,
        reason,
        account: o.account,
      });
  }

  private delta(inst: number, side: number, price: number): void {
    this.emit({ kind: EventKind.BOOK_DELTA, instrument: inst, side, price, qty: this.visibleAt(inst, side, price) });
  }

  private start(seq: number): boolean {
    this.events = [];
    this.seq = seq;
    if (!(seq > this.lastSeq) || !Number.isSafeInteger(seq)) return false;
    this.lastSeq = seq;
    return true;
  }

  // ------------------------------------------------------------ book views

  /** Resting orders of one side in priority order: best price first, then oldest first. */
  private side(inst: number, side: number): Order[] {
    return this.orders
      .filter((o) => o.inst === inst && o.side === side && !o.parked)
      .sort((a, b) => (a.price !== b.price ? (side === 1 ? b.price - a.price : a.price - b.price) : a.prio - b.prio));
  }

  private stops(inst: number, side: number): Order[] {
    return this.orders
      .filter((o) => o.inst === inst && o.side === side && o.parked)
      .sort((a, b) => (a.stop !== b.stop ? (side === 1 ? a.stop - b.stop : b.stop - a.stop) : a.prio - b.prio));
  }

  private visibleAt(inst: number, side: number, price: number): number {
    let v = 0;
    for (const o of this.orders) if (o.inst === inst && o.side === side && !o.parked && o.price === price) v += o.shown;
    return v;
  }

  private levelPrices(inst: number, side: number): number[] {
    return [...new Set(this.side(inst, side).map((o) => o.price))];
  }

  private remove(o: Order): void {
    this.orders = this.orders.filter((x) => x !== o);
  }

  private inRange(ins: Instrument, price: number): boolean {
    return price >= ins.low && price <= ins.high;
  }

  // ------------------------------------------------------------ commands

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
    const inst = Number.isInteger(instrument) && instrument >= 0 && instrument < this.ins.length ? instrument : -1;
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, orderId, inst);
    if (!Number.isInteger(timeNs) || timeNs < 0) return this.reject(RejectReason.INVALID_TIME, orderId, inst);
    if (!Number.isSafeInteger(orderId) || orderId <= 0)
      return this.reject(RejectReason.INVALID_ORDER_ID, orderId, inst);
    if (inst < 0) return this.reject(RejectReason.UNKNOWN_INSTRUMENT, orderId, -1);
    if (!isInt32NonNeg(account)) return this.reject(RejectReason.INVALID_ACCOUNT, orderId, inst);
    const flags = extras?.flags ?? 0;
    let stop = extras?.stopPrice ?? 0;
    let display = extras?.displayQty ?? 0;
    const group = extras?.stpGroup ?? 0;
    const stp = extras?.stpMode ?? 0;
    let expire = extras?.expireTimeNs ?? 0;
    if (!isInt32NonNeg(group)) return this.reject(RejectReason.INVALID_ACCOUNT, orderId, inst);
    if (flags !== 0 && flags !== OrderFlags.POST_ONLY) return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (!Number.isInteger(stp) || stp < 0 || stp > 3) return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (side !== 1 && side !== 2) return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (!Number.isInteger(type) || type < 1 || type > 4)
      return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (!Number.isInteger(tif) || tif < 1 || tif > 5) return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    const resting = tif === TimeInForce.DAY || tif === TimeInForce.GTC || tif === TimeInForce.GTD;
    if (type === OrderType.MARKET && resting) return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (type === OrderType.STOP_MARKET && !resting) return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (type === OrderType.STOP_LIMIT && tif === TimeInForce.FOK)
      return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (flags !== 0 && (type !== OrderType.LIMIT || !resting))
      return this.reject(RejectReason.INVALID_COMMAND, orderId, inst);
    if (display !== 0 && ((type !== OrderType.LIMIT && type !== OrderType.STOP_LIMIT) || !resting))
      return this.reject(RejectReason.INVALID_DISPLAY_QTY, orderId, inst);
    const ins = this.ins[inst]!;
    if (ins.state === InstrumentState.CLOSED) return this.reject(RejectReason.MARKET_CLOSED, orderId, inst);
    if (ins.state === InstrumentState.HALTED) return this.reject(RejectReason.INSTRUMENT_HALTED, orderId, inst);
    if (ins.state === InstrumentState.PRE_OPEN && (type === OrderType.MARKET || !resting || flags !== 0))
      return this.reject(RejectReason.ORDER_TYPE_NOT_ALLOWED, orderId, inst);
    if (!isPosInt32(qty)) return this.reject(RejectReason.INVALID_QTY, orderId, inst);
    if (qty % ins.lot !== 0) return this.reject(RejectReason.OFF_LOT, orderId, inst);
    if (qty < ins.minQty || qty > ins.maxQty) return this.reject(RejectReason.QTY_OUT_OF_RANGE, orderId, inst);
    if (display !== 0) {
      if (!isPosInt32(display) || display % ins.lot !== 0 || display > qty)
        return this.reject(RejectReason.INVALID_DISPLAY_QTY, orderId, inst);
      if (display === qty) display = 0;
    }
    if (price !== 0 || type === OrderType.LIMIT || type === OrderType.STOP_LIMIT) {
      if (!Number.isSafeInteger(price) || price <= 0) return this.reject(RejectReason.INVALID_PRICE, orderId, inst);
      if (!onTick(ins.slabs, price)) return this.reject(RejectReason.OFF_TICK, orderId, inst);
      if (!this.inRange(ins, price)) return this.reject(RejectReason.OUTSIDE_PRICE_BAND, orderId, inst);
    }
    const isStop = type === OrderType.STOP_MARKET || type === OrderType.STOP_LIMIT;
    if (isStop) {
      if (!Number.isSafeInteger(stop) || stop <= 0) return this.reject(RejectReason.INVALID_STOP_PRICE, orderId, inst);
      if (!onTick(ins.slabs, stop)) return this.reject(RejectReason.OFF_TICK, orderId, inst);
      if (!this.inRange(ins, stop)) return this.reject(RejectReason.OUTSIDE_PRICE_BAND, orderId, inst);
    } else stop = 0;
    if (tif === TimeInForce.GTD) {
      if (!Number.isInteger(expire) || expire <= timeNs) return this.reject(RejectReason.INVALID_EXPIRY, orderId, inst);
    } else expire = 0;
    if (ins.maxValue > 0) {
      const vp = price !== 0 ? price : type === OrderType.STOP_MARKET ? stop : ins.lastPrice;
      if (qty * vp > ins.maxValue) return this.reject(RejectReason.MAX_ORDER_VALUE, orderId, inst);
    }
    if (this.orders.some((o) => o.id === orderId)) return this.reject(RejectReason.DUPLICATE_ORDER_ID, orderId, inst);
    if (this.orders.length >= this.maxOrders) return this.reject(RejectReason.CAPACITY_EXCEEDED, orderId, inst);
    const o: Order = {
      id: orderId,
      inst,
      account,
      group,
      side,
      type,
      tif,
      postOnly: flags !== 0,
      stp,
      price,
      stop,
      qty,
      leaves: qty,
      shown: display !== 0 ? display : qty,
      display,
      expire,
      prio: 0,
      parked: false,
    };
    const crosses = ins.state === InstrumentState.CONTINUOUS && !isStop && this.crossesOnEntry(o);
    if (crosses && o.postOnly) return this.reject(RejectReason.POST_ONLY_WOULD_TAKE, orderId, inst);
    if (ins.state === InstrumentState.PRE_OPEN && !isStop && this.crossesOwn(o, this.limitOf(o)))
      return this.reject(RejectReason.SELF_TRADE, orderId, inst);
    if (tif === TimeInForce.FOK && !(crosses && this.fokFillable(o)))
      return this.reject(RejectReason.FOK_NOT_FILLABLE, orderId, inst);
    o.prio = ++this.prio;
    this.emit({ kind: EventKind.ACCEPTED, orderId, instrument: inst, side, price, qty, account });
    if (isStop) {
      o.parked = true;
      this.orders.push(o);
      if (ins.state === InstrumentState.CONTINUOUS) this.triggerPass(inst);
      return 0;
    }
    if (ins.state === InstrumentState.PRE_OPEN) {
      this.rest(o);
      return 0;
    }
    this.execute(o);
    this.triggerPass(inst);
    return 0;
  }

  cancel(seq: number, orderId: number, account: number): number {
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, orderId, -1);
    if (!Number.isSafeInteger(orderId) || orderId <= 0) return this.reject(RejectReason.INVALID_ORDER_ID, orderId, -1);
    const o = this.orders.find((x) => x.id === orderId);
    if (o === undefined) return this.reject(RejectReason.UNKNOWN_ORDER, orderId, -1);
    if (account !== o.account) return this.reject(RejectReason.NOT_OWNER, orderId, -1);
    this.remove(o);
    this.orderEvent(EventKind.CANCELLED, o, o.price, o.leaves, 0, CancelReason.USER);
    if (!o.parked) this.delta(o.inst, o.side, o.price);
    return 0;
  }

  replace(seq: number, orderId: number, account: number, newPrice: number, newQty: number): number {
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, orderId, -1);
    if (!Number.isSafeInteger(orderId) || orderId <= 0) return this.reject(RejectReason.INVALID_ORDER_ID, orderId, -1);
    const o = this.orders.find((x) => x.id === orderId);
    if (o === undefined) return this.reject(RejectReason.UNKNOWN_ORDER, orderId, -1);
    if (account !== o.account) return this.reject(RejectReason.NOT_OWNER, orderId, -1);
    const ins = this.ins[o.inst]!;
    if (ins.state === InstrumentState.CLOSED) return this.reject(RejectReason.MARKET_CLOSED, orderId, o.inst);
    if (ins.state === InstrumentState.HALTED) return this.reject(RejectReason.INSTRUMENT_HALTED, orderId, o.inst);
    if (o.parked) return this.reject(RejectReason.ORDER_TYPE_NOT_ALLOWED, orderId, o.inst);
    if (!isPosInt32(newQty)) return this.reject(RejectReason.INVALID_QTY, orderId, o.inst);
    if (newQty % ins.lot !== 0) return this.reject(RejectReason.OFF_LOT, orderId, o.inst);
    if (newQty < ins.minQty || newQty > ins.maxQty) return this.reject(RejectReason.QTY_OUT_OF_RANGE, orderId, o.inst);
    if (!Number.isSafeInteger(newPrice) || newPrice <= 0)
      return this.reject(RejectReason.INVALID_PRICE, orderId, o.inst);
    if (!onTick(ins.slabs, newPrice)) return this.reject(RejectReason.OFF_TICK, orderId, o.inst);
    if (!this.inRange(ins, newPrice)) return this.reject(RejectReason.OUTSIDE_PRICE_BAND, orderId, o.inst);
    if (ins.maxValue > 0 && newQty * newPrice > ins.maxValue)
      return this.reject(RejectReason.MAX_ORDER_VALUE, orderId, o.inst);
    if (ins.state === InstrumentState.CONTINUOUS && o.postOnly && this.crosses(o.inst, o.side, newPrice))
      return this.reject(RejectReason.POST_ONLY_WOULD_TAKE, orderId, o.inst);
    if (ins.state === InstrumentState.PRE_OPEN && newQty > o.qty - o.leaves && this.crossesOwn(o, newPrice))
      return this.reject(RejectReason.SELF_TRADE, orderId, o.inst);
    const newLeaves = newQty - (o.qty - o.leaves);
    const oldPrice = o.price;
    if (newLeaves <= 0) {
      o.qty = newQty;
      this.orderEvent(EventKind.REPLACED, o, newPrice, newQty, 0, 0);
      this.remove(o);
      this.delta(o.inst, o.side, oldPrice);
      return 0;
    }
    if (newPrice === oldPrice && newLeaves <= o.leaves) {
      o.qty = newQty;
      o.leaves = newLeaves;
      this.orderEvent(EventKind.REPLACED, o, newPrice, newQty, newLeaves, 0);
      if (o.shown > newLeaves) {
        o.shown = newLeaves;
        this.delta(o.inst, o.side, oldPrice);
      }
      return 0;
    }
    this.remove(o);
    o.price = newPrice;
    o.qty = newQty;
    o.leaves = newLeaves;
    o.shown = o.display !== 0 ? Math.min(o.display, newLeaves) : newLeaves;
    o.prio = ++this.prio;
    this.orderEvent(EventKind.REPLACED, o, newPrice, newQty, newLeaves, 0);
    this.delta(o.inst, o.side, oldPrice);
    if (ins.state === InstrumentState.PRE_OPEN) this.rest(o);
    else {
      this.execute(o);
      this.triggerPass(o.inst);
    }
    return 0;
  }

  massCancel(seq: number, account: number, instrument: number, side: number): number {
    const inst = Number.isInteger(instrument) && instrument >= 0 && instrument < this.ins.length ? instrument : -1;
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, inst);
    if (account !== -1 && !isInt32NonNeg(account)) return this.reject(RejectReason.INVALID_ACCOUNT, 0, inst);
    if (instrument !== -1 && inst === -1) return this.reject(RejectReason.UNKNOWN_INSTRUMENT, 0, -1);
    if (side !== 0 && side !== 1 && side !== 2) return this.reject(RejectReason.INVALID_COMMAND, 0, inst);
    for (let i = 0; i < this.ins.length; i++) {
      if (inst !== -1 && i !== inst) continue;
      this.removeWhere(
        i,
        side,
        (o) => account === -1 || o.account === account,
        EventKind.CANCELLED,
        CancelReason.MASS_CANCEL,
      );
    }
    return 0;
  }

  setState(seq: number, timeNs: number, instrument: number, state: number, referencePrice = 0): number {
    const inst = Number.isInteger(instrument) && instrument >= 0 && instrument < this.ins.length ? instrument : -1;
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, inst);
    if (!Number.isInteger(timeNs) || timeNs < 0) return this.reject(RejectReason.INVALID_TIME, 0, inst);
    if (instrument !== -1 && inst === -1) return this.reject(RejectReason.UNKNOWN_INSTRUMENT, 0, -1);
    if (!Number.isInteger(state) || state < 1 || state > 4) return this.reject(RejectReason.INVALID_COMMAND, 0, inst);
    if (referencePrice !== 0 && inst === -1) return this.reject(RejectReason.INVALID_COMMAND, 0, inst);
    const allowed = (from: number) =>
      from !== state && !(from === InstrumentState.CLOSED && state === InstrumentState.HALTED);
    if (inst !== -1) {
      if (!allowed(this.ins[inst]!.state)) return this.reject(RejectReason.INVALID_STATE_TRANSITION, 0, inst);
      if (referencePrice !== 0) {
        const ins = this.ins[inst]!;
        if (!Number.isSafeInteger(referencePrice) || referencePrice <= 0)
          return this.reject(RejectReason.INVALID_PRICE, 0, inst);
        if (this.orders.some((o) => o.inst === inst))
          return this.reject(RejectReason.INVALID_STATE_TRANSITION, 0, inst);
        if (!onTick(ins.slabs, referencePrice)) return this.reject(RejectReason.OFF_TICK, 0, inst);
        Object.assign(ins, { ref: referencePrice, lastPrice: referencePrice }, this.bands[inst]!(referencePrice));
      }
      this.transition(inst, state);
      return 0;
    }
    let result = 0;
    for (let i = 0; i < this.ins.length; i++) {
      const from = this.ins[i]!.state;
      if (from === state) continue;
      if (!allowed(from)) {
        this.reject(RejectReason.INVALID_STATE_TRANSITION, 0, i);
        result ||= RejectReason.INVALID_STATE_TRANSITION;
        continue;
      }
      this.transition(i, state);
    }
    return result;
  }

  expire(seq: number, timeNs: number): number {
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
    if (!Number.isInteger(timeNs) || timeNs < 0) return this.reject(RejectReason.INVALID_TIME, 0, -1);
    for (let i = 0; i < this.ins.length; i++)
      this.removeWhere(
        i,
        0,
        (o) => o.tif === TimeInForce.GTD && o.expire <= timeNs,
        EventKind.EXPIRED,
        CancelReason.EXPIRY,
      );
    return 0;
  }

  /** A command of a fenced account below its fence, or a new order or replace of a blocked account, is refused whole. */
  admit(seq: number, account: number, ownerEpoch: number, entry: boolean, orderId = 0, instrument = -1): number {
    const fence = this.fences.get(account);
    const fenced = fence !== undefined && !(ownerEpoch >= fence);
    const blocked = entry && (this.allBlocked || this.blocked.has(account));
    if (!fenced && !blocked) return 0;
    const inst = Number.isInteger(instrument) && instrument >= 0 && instrument < this.ins.length ? instrument : -1;
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, orderId, inst);
    return this.reject(fenced ? RejectReason.FENCED : RejectReason.KILL_SWITCH, orderId, inst);
  }

  fence(seq: number, account: number, epoch: number): number {
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
    if (!isInt32NonNeg(account)) return this.reject(RejectReason.INVALID_ACCOUNT, 0, -1);
    if (!Number.isSafeInteger(epoch) || epoch <= 0) return this.reject(RejectReason.INVALID_EPOCH, 0, -1);
    const now = Math.max(this.fenceOf(account), epoch);
    this.fences.set(account, now);
    this.events.push({ kind: EventKind.ACCOUNT_FENCED, seq, index: this.events.length, account, epoch: now });
    return 0;
  }

  block(seq: number, account: number, blocked: boolean): number {
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
    if (account !== -1 && !isInt32NonNeg(account)) return this.reject(RejectReason.INVALID_ACCOUNT, 0, -1);
    if (typeof blocked !== "boolean") return this.reject(RejectReason.INVALID_COMMAND, 0, -1);
    if (account === -1) this.allBlocked = blocked;
    else if (blocked) this.blocked.add(account);
    else this.blocked.delete(account);
    this.events.push({ kind: EventKind.ACCOUNT_BLOCK_CHANGED, seq, index: this.events.length, account, blocked });
    return 0;
  }

  fenceOf(account: number): number {
    return this.fences.get(account) ?? 0;
  }

  get accountFences(): [number, number][] {
    return [...this.fences].sort((a, b) => a[0] - b[0]);
  }

  get blockedAccounts(): number[] {
    return [...this.blocked].sort((a, b) => a - b);
  }

  rejectCommand(seq: number): number {
    if (!this.start(seq)) return this.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
    return this.reject(RejectReason.INVALID_COMMAND, 0, -1);
  }

  // ------------------------------------------------------------ matching

  /** The price an order may trade up to (buy) or down to (sell). */
  private limitOf(o: Order): number {
    const ins = this.ins[o.inst]!;
    if (o.price !== 0) return o.price;
    return o.side === 1 ? ins.high : ins.low;
  }

  private crosses(inst: number, side: number, limit: number): boolean {
    const best = this.side(inst, side === 1 ? 2 : 1)[0];
    return best !== undefined && (side === 1 ? best.price <= limit : best.price >= limit);
  }

  private crossesOnEntry(o: Order): boolean {
    return this.crosses(o.inst, o.side, this.limitOf(o));
  }

  /** Whether a resting order of o's owner on the other side is at a price o at `limit` would trade with. */
  private crossesOwn(o: Order, limit: number): boolean {
    return this.side(o.inst, o.side === 1 ? 2 : 1).some(
      (x) => this.isSelf(o, x) && (o.side === 1 ? x.price <= limit : x.price >= limit),
    );
  }

  private isSelf(a: Order, b: Order): boolean {
    return a.account === b.account || (a.group !== 0 && a.group === b.group);
  }

  private fokFillable(o: Order): boolean {
    const limit = this.limitOf(o);
    let need = o.qty;
    for (const m of this.side(o.inst, o.side === 1 ? 2 : 1)) {
      if (o.side === 1 ? m.price > limit : m.price < limit) break;
      if (this.isSelf(o, m)) {
        if (o.stp !== StpMode.CANCEL_RESTING) return false;
        continue;
      }
      need -= m.leaves;
      if (need <= 0) return true;
    }
    return false;
  }

  /** Taker against the book, then rest or end the remainder. */
  private execute(t: Order): void {
    const ins = this.ins[t.inst]!;
    const opp = t.side === 1 ? 2 : 1;
    const limit = this.limitOf(t);
    let alive = true;
    while (alive && t.leaves > 0) {
      const best = this.side(t.inst, opp)[0];
      if (best === undefined || (t.side === 1 ? best.price > limit : best.price < limit)) break;
      const price = best.price;
      const before = this.visibleAt(t.inst, opp, price);
      while (t.leaves > 0) {
        const m = this.side(t.inst, opp).find((x) => x.price === price);
        if (m === undefined) break;
        if (this.isSelf(t, m)) {
          if (t.stp === StpMode.CANCEL_RESTING) {
            this.remove(m);
            this.orderEvent(EventKind.CANCELLED, m, price, m.leaves, 0, CancelReason.STP);
            continue;
          }
          if (t.stp === StpMode.DECREMENT) {
            const dec = Math.min(t.leaves, m.leaves);
            m.leaves -= dec;
            if (m.leaves === 0) this.remove(m);
            else m.shown = Math.min(m.shown, m.leaves);
            this.orderEvent(EventKind.CANCELLED, m, price, dec, m.leaves, CancelReason.STP);
            t.leaves -= dec;
            this.orderEvent(EventKind.CANCELLED, t, t.price, dec, t.leaves, CancelReason.STP);
            if (t.leaves === 0) alive = false;
            continue;
          }
          if (t.stp === StpMode.CANCEL_BOTH) {
            this.remove(m);
            this.orderEvent(EventKind.CANCELLED, m, price, m.leaves, 0, CancelReason.STP);
          }
          this.orderEvent(EventKind.CANCELLED, t, t.price, t.leaves, 0, CancelReason.STP);
          t.leaves = 0;
          alive = false;
          break;
        }
        const fill = Math.min(t.leaves, m.shown);
        t.leaves -= fill;
        m.leaves -= fill;
        m.shown -= fill;
        this.emit({
          kind: EventKind.TRADE,
          instrument: t.inst,
          side: t.side,
          price,
          qty: fill,
          makerOrderId: m.id,
          takerOrderId: t.id,
          makerLeaves: m.leaves,
          takerLeaves: t.leaves,
        });
        ins.lastPrice = price;
        if (m.leaves === 0) this.remove(m);
        else if (m.shown === 0) {
          m.shown = Math.min(m.display, m.leaves);
          m.prio = ++this.prio; // refilled: to the back of its level
        }
      }
      const now = this.visibleAt(t.inst, opp, price);
      if (now !== before) this.emit({ kind: EventKind.BOOK_DELTA, instrument: t.inst, side: opp, price, qty: now });
    }
    if (!alive || t.leaves === 0) return;
    if (t.type === OrderType.MARKET || t.tif === TimeInForce.IOC || t.tif === TimeInForce.FOK) {
      this.orderEvent(EventKind.CANCELLED, t, t.price, t.leaves, 0, CancelReason.IOC_REMAINDER);
      return;
    }
    t.shown = t.display !== 0 ? Math.min(t.display, t.leaves) : t.leaves;
    this.rest(t);
  }

  private rest(o: Order): void {
    o.parked = false;
    this.orders.push(o);
    this.delta(o.inst, o.side, o.price);
  }

  private triggerPass(inst: number): void {
    const ins = this.ins[inst]!;
    if (ins.state !== InstrumentState.CONTINUOUS) return;
    for (;;) {
      const last = ins.lastPrice;
      const hb = this.stops(inst, 1)[0];
      const hs = this.stops(inst, 2)[0];
      const tb = hb !== undefined && hb.stop <= last;
      const ts = hs !== undefined && hs.stop >= last;
      const s = tb && ts ? (hb.prio < hs.prio ? hb : hs) : tb ? hb : ts ? hs : undefined;
      if (s === undefined) return;
      this.remove(s);
      if (this.allBlocked || this.blocked.has(s.account)) {
        // A kill switch blocks the account: the stop would be a new order; it is cancelled.
        this.orderEvent(EventKind.CANCELLED, s, s.price, s.leaves, 0, CancelReason.KILL_SWITCH);
        continue;
      }
      s.parked = false;
      this.orderEvent(EventKind.TRIGGERED, s, s.stop, s.leaves, s.leaves, 0);
      s.type = s.type === OrderType.STOP_MARKET ? OrderType.MARKET : OrderType.LIMIT;
      s.prio = ++this.prio;
      this.execute(s);
    }
  }

  /** Book-order removal: bids best to worst, asks best to worst, then buy and sell stops. */
  private removeWhere(inst: number, sideFilter: number, match: (o: Order) => boolean, kind: number, reason: number) {
    for (const side of [1, 2]) {
      if (sideFilter !== 0 && sideFilter !== side) continue;
      for (const price of this.levelPrices(inst, side)) {
        const before = this.visibleAt(inst, side, price);
        for (const o of this.side(inst, side).filter((x) => x.price === price)) {
          if (!match(o)) continue;
          this.remove(o);
          this.orderEvent(kind, o, o.price, o.leaves, 0, reason);
        }
        const now = this.visibleAt(inst, side, price);
        if (now !== before) this.emit({ kind: EventKind.BOOK_DELTA, instrument: inst, side, price, qty: now });
      }
    }
    for (const side of [1, 2]) {
      if (sideFilter !== 0 && sideFilter !== side) continue;
      for (const o of this.stops(inst, side)) {
        if (!match(o)) continue;
        this.remove(o);
        this.orderEvent(kind, o, o.price, o.leaves, 0, reason);
      }
    }
  }

  private transition(inst: number, state: number): void {
    const ins = this.ins[inst]!;
    ins.state = state;
    this.emit({ kind: EventKind.STATE_CHANGED, instrument: inst, state });
    if (state === InstrumentState.CONTINUOUS) {
      this.uncross(inst);
      this.triggerPass(inst);
    } else if (state === InstrumentState.CLOSED) {
      this.removeWhere(inst, 0, (o) => o.tif === TimeInForce.DAY, EventKind.EXPIRED, CancelReason.EXPIRY);
    } else if (state === InstrumentState.HALTED && ins.cancelOnHalt) {
      this.removeWhere(inst, 0, () => true, EventKind.CANCELLED, CancelReason.HALT);
    }
  }

  /** Call auction: max volume, then least imbalance, then nearest the reference price. */
  private uncross(inst: number): void {
    const ins = this.ins[inst]!;
    const bids = this.side(inst, 1);
    const asks = this.side(inst, 2);
    const prices = [...new Set([...bids, ...asks].map((o) => o.price))].sort((a, b) => a - b);
    let best: { p: number; v: number; imb: number }[] = [];
    for (const p of prices) {
      const d = bids.filter((o) => o.price >= p).reduce((s, o) => s + o.leaves, 0);
      const s = asks.filter((o) => o.price <= p).reduce((t, o) => t + o.leaves, 0);
      const v = Math.min(d, s);
      const imb = Math.abs(d - s);
      if (v === 0) continue;
      const cur = best[0];
      if (cur === undefined || v > cur.v || (v === cur.v && imb < cur.imb)) best = [{ p, v, imb }];
      else if (v === cur.v && imb === cur.imb) best.push({ p, v, imb });
    }
    if (best.length === 0) return;
    const dist = Math.min(...best.map((c) => Math.abs(c.p - ins.ref)));
    const nearest = best.filter((c) => Math.abs(c.p - ins.ref) === dist);
    const price = nearest.length > 1 ? ins.ref : nearest[0]!.p;

    const touched: { side: number; price: number; before: number }[][] = [[], []];
    for (;;) {
      const b = this.side(inst, 1)[0];
      const a = this.side(inst, 2)[0];
      if (b === undefined || a === undefined || b.price < price || a.price > price) break;
      for (const [o, k] of [
        [b, 0],
        [a, 1],
      ] as const) {
        const list = touched[k]!;
        if (list.at(-1)?.price !== o.price)
          list.push({ side: o.side, price: o.price, before: this.visibleAt(inst, o.side, o.price) });
      }
      const fill = Math.min(b.leaves, a.leaves);
      for (const o of [b, a]) {
        o.leaves -= fill;
        o.shown -= Math.min(fill, o.shown);
      }
      const [maker, taker] = b.prio < a.prio ? [b, a] : [a, b];
      this.emit({
        kind: EventKind.TRADE,
        instrument: inst,
        side: taker.side,
        price,
        qty: fill,
        makerOrderId: maker.id,
        takerOrderId: taker.id,
        makerLeaves: maker.leaves,
        takerLeaves: taker.leaves,
      });
      ins.lastPrice = price;
      if (b.leaves === 0) this.remove(b);
      if (a.leaves === 0) this.remove(a);
    }
    // The one partially filled order: an iceberg whose shown part is gone refills at the back.
    for (const o of this.orders) {
      if (o.inst === inst && !o.parked && o.shown === 0 && o.leaves > 0) {
        o.shown = Math.min(o.display, o.leaves);
        o.prio = ++this.prio;
      }
    }
    for (const list of touched)
      for (const t of list) {
        const now = this.visibleAt(inst, t.side, t.price);
        if (now !== t.before)
          this.emit({ kind: EventKind.BOOK_DELTA, instrument: inst, side: t.side, price: t.price, qty: now });
      }
  }

  // ------------------------------------------------------------ views for comparison

  /** Live orders of an instrument in the same order and shape as `MatchingEngine.orders()`. */
  liveOrders(inst: number): LiveOrder[] {
    const view = (o: Order): LiveOrder => ({
      orderId: o.id,
      side: o.side,
      type: o.type,
      tif: o.tif,
      price: o.price,
      stopPrice: o.parked ? o.stop : 0,
      qty: o.qty,
      leaves: o.leaves,
      shown: o.shown,
      displayQty: o.display,
      account: o.account,
      stpGroup: o.group,
      parked: o.parked,
    });
    return [...this.side(inst, 1), ...this.side(inst, 2), ...this.stops(inst, 1), ...this.stops(inst, 2)].map(view);
  }

  state(inst: number): number {
    return this.ins[inst]!.state;
  }

  lastPrice(inst: number): number {
    return this.ins[inst]!.lastPrice;
  }
}
