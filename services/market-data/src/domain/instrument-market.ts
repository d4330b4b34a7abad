import {
  InstrumentState,
  MarketDataChannel,
  OrderChangeAction,
  OrderType,
  Side,
  type AuctionInfo,
  type BarInterval,
  type BookOrder,
  type BookSnapshot,
  type EngineEvent,
  type InstrumentStats,
  type InstrumentStatus,
  type OrderBookSnapshot,
  type OrderChange,
  type SubscribeResponse,
  type Timestamp,
  type TopOfBook,
  type Trade,
  type TradeExecuted,
} from "@tradeplane/contracts";
import { indicativeAuction, NO_AUCTION } from "./auction.ts";
import { BAR_INTERVALS, BarSeries, type BarState } from "./bars.ts";
import { OrderBook, type RestingOrder } from "./order-book.ts";

/** What market data needs to know of an instrument besides its events. */
export interface InstrumentSpec {
  readonly symbol: string;
  /** Price-band reference in ticks until the engine announces another. */
  readonly referencePrice: number;
  /** Notional units of one lot at one tick. */
  readonly notionalPerTickLot: number;
  /** The engine's initial state of the instrument (its config). */
  readonly initialState: InstrumentState;
}

export interface Retention {
  /** Trades kept per instrument for GetTrades. */
  readonly tradesKept: number;
  /** Closed bars kept per instrument and interval for GetBars. */
  readonly barsKept: number;
}

const TAKER = 0;
const RESTING = 1;
const PARKED = 2;

/** A live order as far as the events tell: working as a taker, resting, or a parked stop. */
interface OrderInfo {
  readonly id: number;
  readonly side: Side;
  price: number;
  /** Total quantity (for the replace rule: a decrease at the same price keeps priority). */
  qty: number;
  /** Working quantity, hidden part included. */
  leaves: number;
  /** Iceberg display size; 0 = all shown. */
  readonly display: number;
  status: number;
  resting: RestingOrder | undefined;
}

export interface SessionStats {
  open: number;
  high: number;
  low: number;
  last: number;
  volume: number;
  notional: number;
  tradeCount: number;
}

const emptyStats = (): SessionStats => ({ open: 0, high: 0, low: 0, last: 0, volume: 0, notional: 0, tradeCount: 0 });

function sameLevel(a: { price: number; qty: number; orderCount: number } | undefined, b: typeof a): boolean {
  return (
    a === b ||
    (a !== undefined && b !== undefined && a.price === b.price && a.qty === b.qty && a.orderCount === b.orderCount)
  );
}

function sameAuction(a: AuctionInfo, b: AuctionInfo): boolean {
  return (
    a.indicativePrice === b.indicativePrice &&
    a.matchedQty === b.matchedQty &&
    a.imbalanceQty === b.imbalanceQty &&
    a.imbalanceSide === b.imbalanceSide
  );
}

/** The state channels (full state per update) that changed since the adapter last looked. */
export interface DirtyChannels {
  l1: boolean;
  l2: boolean;
  stats: boolean;
  auction: boolean;
  /** Bars updated (in progress or closed), per interval by start. */
  readonly bars: Map<BarInterval, Map<number, BarState>>;
}

/** An order as the events tell it, as plain data (a snapshot's). */
export interface OrderData {
  readonly id: number;
  readonly side: Side;
  readonly price: number;
  readonly qty: number;
  readonly leaves: number;
  readonly display: number;
  /** 0 taker, 1 resting, 2 parked stop. */
  readonly status: number;
  /** Whether it rests in the book (its place and shown quantity are the book's). */
  readonly inBook: boolean;
}

/** A level's state before the command in progress first changed it. */
export interface TouchedLevel {
  readonly side: Side;
  readonly price: number;
  readonly qty: number;
  readonly count: number;
}

/** A level of the engine's BookDelta, to be checked when the command ends. */
export interface DeltaLevel {
  readonly side: Side;
  readonly price: number;
  readonly qty: number;
}

export interface SeriesData {
  readonly interval: BarInterval;
  readonly closed: readonly BarState[];
  readonly current: BarState | undefined;
}

/**
 * Everything an InstrumentMarket holds, as plain data, so that `InstrumentMarket.restore`
 * gives one whose every later output equals this one's (state-snapshot.ts turns it into
 * bytes). Includes the work of a command in progress: a snapshot may be taken between
 * any two events. Not included: the dirty marks of the state channels (they only tell the
 * fan-out what to send to subscribers that exist now).
 */
export interface InstrumentMarketData {
  readonly state: InstrumentState;
  readonly reason: string;
  readonly referencePrice: number;
  readonly stats: Readonly<SessionStats>;
  readonly trades: readonly Trade[];
  readonly bars: readonly SeriesData[];
  readonly seq: readonly (readonly [MarketDataChannel, number])[];
  readonly barSeq: readonly (readonly [BarInterval, number])[];
  readonly lastSource: number;
  readonly lastTime: Timestamp;
  readonly mismatches: number;
  readonly lastTop: TopOfBook;
  readonly lastAuction: AuctionInfo;
  /** Live orders, in the order they became known. */
  readonly orders: readonly OrderData[];
  /** Resting orders per side in priority order, with their shown quantity. */
  readonly book: { readonly bids: readonly BookOrder[]; readonly asks: readonly BookOrder[] };
  /**
   * The order being matched in the command in progress: a live order (its id), or one that
   * already left the live orders (whole; never in the book).
   */
  readonly pending:
    { readonly live: true; readonly id: number } | { readonly live: false; readonly order: OrderData } | undefined;
  /** Live orders an auction uncross of the command in progress touched, in the order it did. */
  readonly auctionTouched: readonly number[];
  readonly l3Changes: readonly OrderChange[];
  readonly touchedLevels: readonly TouchedLevel[];
  readonly deltas: readonly DeltaLevel[];
  readonly statsChanged: boolean;
  readonly auctionMaybeChanged: boolean;
  /** Event-channel updates not yet taken by the fan-out. */
  readonly outbox: readonly SubscribeResponse[];
}

/**
 * One instrument's market data, built from its engine events alone: the visible book order
 * by order (derived from order events: icebergs show their displayed part and refill at the
 * back, parked stops are invisible, takers rest once their matching is over), trades, bars,
 * session statistics, state and the indicative auction; per channel sequence numbers.
 *
 * Events of one command for one instrument arrive together; `finish()` is called after the
 * last of them (by MarketState), and publishes the command's L3 update, cross-checks the
 * book against the engine's BookDelta levels, and marks the state channels that changed.
 */
export class InstrumentMarket {
  readonly spec: InstrumentSpec;
  readonly book = new OrderBook();
  private readonly orders = new Map<number, OrderInfo>();
  state: InstrumentState;
  reason = "";
  referencePrice: number;
  private stats = emptyStats();
  private readonly trades: Trade[] = [];
  private readonly tradesKept: number;
  readonly bars = new Map<BarInterval, BarSeries>();
  /** Per-channel sequence: the number of updates the channel has produced. */
  readonly seq = new Map<MarketDataChannel, number>();
  readonly barSeq = new Map<BarInterval, number>();
  /** Event-log position and engine time of the last event applied. */
  lastSource = 0;
  lastTime: Timestamp = { seconds: 0, nanos: 0 };
  /** Levels whose engine BookDelta disagreed with the book built from order events. */
  mismatches = 0;
  readonly dirty: DirtyChannels = { l1: false, l2: false, stats: false, auction: false, bars: new Map() };

  // Work of the command in progress.
  private pending: OrderInfo | undefined;
  private readonly auctionTouched = new Set<OrderInfo>();
  private l3Changes: OrderChange[] = [];
  private readonly touchedLevels = new Map<number, { side: Side; price: number; qty: number; count: number }>();
  private readonly deltas = new Map<number, { side: Side; price: number; qty: number }>();
  private statsChanged = false;
  private auctionMaybeChanged = false;
  private lastTop: TopOfBook = { bid: undefined, ask: undefined };
  private lastAuction: AuctionInfo = NO_AUCTION;

  constructor(spec: InstrumentSpec, retention: Retention) {
    this.spec = spec;
    this.state = spec.initialState;
    this.referencePrice = spec.referencePrice;
    this.tradesKept = retention.tradesKept;
    for (const { interval, seconds } of BAR_INTERVALS)
      this.bars.set(interval, new BarSeries(interval, seconds, retention.barsKept));
    for (const c of Object.values(MarketDataChannel)) if (c > 0) this.seq.set(c, 0);
    for (const { interval } of BAR_INTERVALS) this.barSeq.set(interval, 0);
  }

  get symbol(): string {
    return this.spec.symbol;
  }

  private nextSeq(channel: MarketDataChannel): number {
    const n = this.seq.get(channel)! + 1;
    this.seq.set(channel, n);
    return n;
  }

  sequence(channel: MarketDataChannel): number {
    return this.seq.get(channel)!;
  }

  // ------------------------------------------------------------------ book mutations

  private levelKey(side: Side, price: number): number {
    return side === Side.BUY ? price : -price;
  }

  /** Remembers a level's state before the command first changes it. */
  private touch(side: Side, price: number): void {
    const key = this.levelKey(side, price);
    if (this.touchedLevels.has(key)) return;
    const l = this.book.level(side, price);
    this.touchedLevels.set(key, { side, price, qty: l?.qty ?? 0, count: l?.count ?? 0 });
  }

  private change(action: OrderChangeAction, o: OrderInfo, qty: number): void {
    this.l3Changes.push({ action, orderId: o.id, side: o.side, price: o.price, qty });
  }

  private rest(o: OrderInfo, shown: number): void {
    this.touch(o.side, o.price);
    o.status = RESTING;
    o.resting = this.book.add(o.id, o.side, o.price, shown);
    this.change(OrderChangeAction.ADD, o, shown);
  }

  /** Takes a resting order out of the book; `forget` also drops it (it left for good). */
  private unrest(o: OrderInfo, forget: boolean): void {
    if (o.resting !== undefined) {
      this.touch(o.side, o.price);
      this.book.remove(o.id);
      o.resting = undefined;
      this.change(OrderChangeAction.DELETE, o, 0);
    }
    if (forget) this.orders.delete(o.id);
  }

  private setShown(o: OrderInfo, shown: number): void {
    const r = o.resting!;
    if (r.shown === shown) return;
    this.touch(o.side, o.price);
    this.book.setShown(r, shown);
    if (shown > 0) this.change(OrderChangeAction.MODIFY, o, shown);
  }

  /** Iceberg refill: the order goes to the back of its level with a new shown part. */
  private refill(o: OrderInfo): void {
    const shown = o.display !== 0 && o.display < o.leaves ? o.display : o.leaves;
    this.touch(o.side, o.price);
    this.change(OrderChangeAction.DELETE, o, 0);
    this.book.requeue(o.resting!, shown);
    this.change(OrderChangeAction.ADD, o, shown);
  }

  /** Ends the matching of the order in progress and of an auction: rest what is left, refill icebergs. */
  private settle(): void {
    for (const o of this.auctionTouched)
      if (o.status === RESTING && o.leaves > 0 && o.resting !== undefined && o.resting.shown === 0) this.refill(o);
    this.auctionTouched.clear();
    const t = this.pending;
    this.pending = undefined;
    if (t === undefined || t.status !== TAKER) return;
    if (t.leaves > 0 && t.price > 0) this.rest(t, t.display !== 0 && t.display < t.leaves ? t.display : t.leaves);
    else this.orders.delete(t.id);
  }

  // ------------------------------------------------------------------ events

  /** Applies one engine event of this instrument at event-log position `source`. */
  apply(event: EngineEvent, source: number): void {
    this.lastSource = source;
    if (event.timestamp !== undefined) this.lastTime = event.timestamp;
    const body = event.body;
    if (body === undefined) return;
    switch (body.$case) {
      case "accepted": {
        const a = body.value;
        const isStop = a.orderType === OrderType.STOP || a.orderType === OrderType.STOP_LIMIT;
        const o: OrderInfo = {
          id: a.orderId,
          side: a.side,
          price: a.price,
          qty: a.qty,
          leaves: a.qty,
          display: a.displayQty > 0 && a.displayQty < a.qty ? a.displayQty : 0,
          status: isStop ? PARKED : TAKER,
          resting: undefined,
        };
        this.orders.set(o.id, o);
        if (!isStop) {
          this.settle();
          this.pending = o;
        }
        break;
      }
      case "trade":
        this.onTrade(body.value, event.timestamp ?? this.lastTime, source);
        break;
      case "cancelled": {
        const c = body.value;
        const o = this.orders.get(c.orderId);
        if (o === undefined) break;
        o.leaves = Math.max(0, o.leaves - c.cancelledQty);
        if (o.status === RESTING) {
          if (o.leaves === 0) this.unrest(o, true);
          else if (o.resting!.shown > o.leaves) this.setShown(o, o.leaves);
        } else if (o.status === PARKED && o.leaves === 0) this.orders.delete(o.id);
        break;
      }
      case "expired": {
        const o = this.orders.get(body.value.orderId);
        if (o !== undefined) {
          o.leaves = 0;
          this.unrest(o, true);
        }
        break;
      }
      case "replaced": {
        const r = body.value;
        const o = this.orders.get(r.orderId);
        if (o === undefined || o.status !== RESTING) break;
        if (r.leavesQty === 0) {
          o.leaves = 0;
          this.unrest(o, true);
        } else if (r.price === o.price && r.qty <= o.qty) {
          o.qty = r.qty;
          o.leaves = r.leavesQty;
          if (o.resting!.shown > o.leaves) this.setShown(o, o.leaves);
        } else {
          // Loses priority: out of the book, then in again as a taker at the new price.
          this.unrest(o, false);
          o.price = r.price;
          o.qty = r.qty;
          o.leaves = r.leavesQty;
          o.status = TAKER;
          this.settle();
          this.pending = o;
        }
        break;
      }
      case "triggered": {
        this.settle();
        const t = body.value;
        const o = this.orders.get(t.orderId);
        if (o === undefined) break;
        o.status = TAKER;
        o.price = t.price;
        this.pending = o;
        break;
      }
      case "instrumentStateChanged": {
        this.settle();
        const s = body.value;
        const previous = this.state;
        this.state = s.state;
        this.reason = s.reason;
        if (s.referencePrice > 0 && s.referencePrice !== this.referencePrice) {
          this.referencePrice = s.referencePrice;
          this.statsChanged = true;
        }
        if (
          previous === InstrumentState.CLOSED &&
          (s.state === InstrumentState.PRE_OPEN || s.state === InstrumentState.CONTINUOUS)
        ) {
          this.stats = emptyStats();
          this.statsChanged = true;
        }
        this.auctionMaybeChanged = true;
        this.publish(MarketDataChannel.STATE, {
          $case: "status",
          value: { state: s.state, reason: s.reason },
        });
        break;
      }
      case "bookDelta":
        for (const c of body.value.changes)
          this.deltas.set(this.levelKey(c.side, c.price), { side: c.side, price: c.price, qty: c.qty });
        break;
      default:
        break;
    }
  }

  private onTrade(t: TradeExecuted, time: Timestamp, source: number): void {
    // A trade with an order in progress as taker is continuous matching. Otherwise it is
    // the uncross of a call auction (the wire gives no aggressor to any trade of a state
    // change, stops triggered after the uncross included, so the side is not the test).
    const taker = this.pending !== undefined && this.pending.id === t.takerOrderId ? this.pending : undefined;
    if (taker === undefined) {
      // Auction uncross: both orders rest; each loses the fill from its leaves and at most
      // the fill from its shown part. Icebergs left with nothing shown refill at the end.
      for (const [id, leaves] of [
        [t.makerOrderId, t.makerLeavesQty],
        [t.takerOrderId, t.takerLeavesQty],
      ] as const) {
        const o = this.orders.get(id);
        if (o === undefined) continue;
        o.leaves = leaves;
        if (leaves === 0) {
          this.unrest(o, true);
          continue;
        }
        if (o.resting !== undefined) this.setShown(o, o.resting.shown - Math.min(t.qty, o.resting.shown));
        this.auctionTouched.add(o);
      }
    } else {
      const m = this.orders.get(t.makerOrderId);
      if (m !== undefined && m.resting !== undefined) {
        m.leaves = t.makerLeavesQty;
        if (m.leaves === 0) this.unrest(m, true);
        else if (t.qty >= m.resting.shown) this.refill(m);
        else this.setShown(m, m.resting.shown - t.qty);
      }
      taker.leaves = t.takerLeavesQty;
    }
    const trade: Trade = {
      tradeId: t.tradeId,
      price: t.price,
      qty: t.qty,
      aggressorSide: taker === undefined ? Side.UNSPECIFIED : taker.side,
      makerOrderId: t.makerOrderId,
      takerOrderId: t.takerOrderId,
      time,
    };
    this.trades.push(trade);
    if (this.trades.length > this.tradesKept * 2) this.trades.splice(0, this.trades.length - this.tradesKept);
    const notional = t.price * t.qty * this.spec.notionalPerTickLot;
    const s = this.stats;
    if (s.tradeCount === 0) s.open = s.high = s.low = t.price;
    if (t.price > s.high) s.high = t.price;
    if (t.price < s.low) s.low = t.price;
    s.last = t.price;
    s.volume += t.qty;
    s.notional += notional;
    s.tradeCount++;
    this.statsChanged = true;
    for (const series of this.bars.values()) {
      const bar = series.trade(time.seconds, t.price, t.qty, notional);
      this.barChanged(series.interval, bar);
    }
    this.publish(MarketDataChannel.TRADES, { $case: "trade", value: trade }, source);
  }

  private barChanged(interval: BarInterval, bar: BarState): void {
    this.barSeq.set(interval, this.barSeq.get(interval)! + 1);
    let m = this.dirty.bars.get(interval);
    if (m === undefined) {
      m = new Map();
      this.dirty.bars.set(interval, m);
    }
    m.set(bar.start, bar);
  }

  /** Engine time moved to `nowS`: closes the bars that ended. */
  advanceTime(nowS: number): void {
    for (const series of this.bars.values()) {
      const closed = series.advance(nowS);
      if (closed !== undefined) this.barChanged(series.interval, closed);
    }
  }

  /** Earliest end of a bar in progress (seconds), Infinity when none. */
  nextBarEnd(): number {
    let end = Infinity;
    for (const s of this.bars.values()) end = Math.min(end, s.currentEnd);
    return end;
  }

  /** Updates of the event channels (L3, TRADES, STATE), in log order, for the adapter to take. */
  readonly outbox: SubscribeResponse[] = [];

  private publish(channel: MarketDataChannel, update: SubscribeResponse["update"], source = this.lastSource): void {
    this.outbox.push({
      sequence: this.nextSeq(channel),
      sourceSequence: source,
      instrument: this.symbol,
      channel,
      time: this.lastTime,
      update,
    });
  }

  /** The command's events for this instrument are all applied. */
  finish(): void {
    this.settle();
    for (const d of this.deltas.values()) if ((this.book.level(d.side, d.price)?.qty ?? 0) !== d.qty) this.mismatches++;
    this.deltas.clear();
    if (this.l3Changes.length > 0) {
      const changes = this.l3Changes;
      this.l3Changes = [];
      this.publish(MarketDataChannel.L3, { $case: "orderBookUpdate", value: { changes } });
    }
    if (this.touchedLevels.size > 0) {
      let changed = false;
      for (const before of this.touchedLevels.values()) {
        const l = this.book.level(before.side, before.price);
        if ((l?.qty ?? 0) !== before.qty || (l?.count ?? 0) !== before.count) changed = true;
      }
      this.touchedLevels.clear();
      if (changed) {
        this.nextSeq(MarketDataChannel.L2);
        this.dirty.l2 = true;
        const top = this.topOfBook();
        if (!sameLevel(top.bid, this.lastTop.bid) || !sameLevel(top.ask, this.lastTop.ask)) {
          this.lastTop = top;
          this.nextSeq(MarketDataChannel.L1);
          this.dirty.l1 = true;
        }
        if (this.state === InstrumentState.PRE_OPEN) this.auctionMaybeChanged = true;
      }
    }
    if (this.statsChanged) {
      this.statsChanged = false;
      this.nextSeq(MarketDataChannel.STATS);
      this.dirty.stats = true;
    }
    if (this.auctionMaybeChanged) {
      this.auctionMaybeChanged = false;
      const now = this.auctionInfo();
      if (!sameAuction(now, this.lastAuction)) {
        this.lastAuction = now;
        this.nextSeq(MarketDataChannel.AUCTION);
        this.dirty.auction = true;
      }
    }
  }

  // ------------------------------------------------------------------ snapshots

  /** Everything this instrument holds, as plain data (shares nothing mutable with it). */
  exportState(): InstrumentMarketData {
    const orderData = (o: OrderInfo): OrderData => ({
      id: o.id,
      side: o.side,
      price: o.price,
      qty: o.qty,
      leaves: o.leaves,
      display: o.display,
      status: o.status,
      inBook: o.resting !== undefined,
    });
    const p = this.pending;
    return {
      state: this.state,
      reason: this.reason,
      referencePrice: this.referencePrice,
      stats: { ...this.stats },
      trades: [...this.trades], // never changed once made
      bars: [...this.bars.values()].map((series) => ({
        interval: series.interval,
        closed: series.closed.map((b) => ({ ...b })),
        current: series.current && { ...series.current },
      })),
      seq: [...this.seq],
      barSeq: [...this.barSeq],
      lastSource: this.lastSource,
      lastTime: { ...this.lastTime },
      mismatches: this.mismatches,
      lastTop: { bid: this.lastTop.bid && { ...this.lastTop.bid }, ask: this.lastTop.ask && { ...this.lastTop.ask } },
      lastAuction: { ...this.lastAuction },
      orders: [...this.orders.values()].map(orderData),
      book: this.orderBookSnapshot(),
      pending:
        p === undefined
          ? undefined
          : this.orders.get(p.id) === p
            ? { live: true, id: p.id }
            : { live: false, order: orderData(p) },
      // One that left the live orders can no longer change anything at settle().
      auctionTouched: [...this.auctionTouched].filter((o) => this.orders.get(o.id) === o).map((o) => o.id),
      l3Changes: this.l3Changes.map((c) => ({ ...c })),
      touchedLevels: [...this.touchedLevels.values()].map((l) => ({ ...l })),
      deltas: [...this.deltas.values()].map((d) => ({ ...d })),
      statsChanged: this.statsChanged,
      auctionMaybeChanged: this.auctionMaybeChanged,
      outbox: [...this.outbox], // never changed once made
    };
  }

  /**
   * The instrument `data` describes (from `exportState`, checked by state-snapshot.ts:
   * every order in the book is a live order with `inBook` and the same side and price, and
   * the other way round; touched auction orders are live). `spec` and `retention` are the
   * running config's.
   */
  static restore(spec: InstrumentSpec, retention: Retention, data: InstrumentMarketData): InstrumentMarket {
    const m = new InstrumentMarket(spec, retention);
    m.state = data.state;
    m.reason = data.reason;
    m.referencePrice = data.referencePrice;
    m.stats = { ...data.stats };
    for (const t of data.trades) m.trades.push(t);
    for (const s of data.bars) m.bars.get(s.interval)!.restore(s.closed, s.current);
    for (const [c, n] of data.seq) m.seq.set(c, n);
    for (const [i, n] of data.barSeq) m.barSeq.set(i, n);
    m.lastSource = data.lastSource;
    m.lastTime = data.lastTime;
    m.mismatches = data.mismatches;
    m.lastTop = data.lastTop;
    m.lastAuction = data.lastAuction;
    const info = (o: OrderData): OrderInfo => ({
      id: o.id,
      side: o.side,
      price: o.price,
      qty: o.qty,
      leaves: o.leaves,
      display: o.display,
      status: o.status,
      resting: undefined,
    });
    for (const o of data.orders) m.orders.set(o.id, info(o));
    for (const [side, list] of [
      [Side.BUY, data.book.bids],
      [Side.SELL, data.book.asks],
    ] as const)
      for (const o of list) m.orders.get(o.orderId)!.resting = m.book.add(o.orderId, side, o.price, o.qty);
    const p = data.pending;
    if (p !== undefined) m.pending = p.live ? m.orders.get(p.id)! : info(p.order);
    for (const id of data.auctionTouched) m.auctionTouched.add(m.orders.get(id)!);
    m.l3Changes = data.l3Changes.map((c) => ({ ...c }));
    for (const l of data.touchedLevels) m.touchedLevels.set(m.levelKey(l.side, l.price), { ...l });
    for (const d of data.deltas) m.deltas.set(m.levelKey(d.side, d.price), { ...d });
    m.statsChanged = data.statsChanged;
    m.auctionMaybeChanged = data.auctionMaybeChanged;
    for (const u of data.outbox) m.outbox.push(u);
    return m;
  }

  // ------------------------------------------------------------------ views

  topOfBook(): TopOfBook {
    return { bid: this.book.best(Side.BUY), ask: this.book.best(Side.SELL) };
  }

  bookSnapshot(depth: number): BookSnapshot {
    return { depth, bids: this.book.levels(Side.BUY, depth), asks: this.book.levels(Side.SELL, depth) };
  }

  orderBookSnapshot(): OrderBookSnapshot {
    return { bids: this.book.ordersOf(Side.BUY), asks: this.book.ordersOf(Side.SELL) };
  }

  statsMessage(): InstrumentStats {
    return { ...this.stats, referencePrice: this.referencePrice };
  }

  statusMessage(): InstrumentStatus {
    return { state: this.state, reason: this.reason };
  }

  /** The indicative uncross while PRE_OPEN; all zero otherwise. */
  auctionInfo(): AuctionInfo {
    if (this.state !== InstrumentState.PRE_OPEN) return NO_AUCTION;
    const bestBid = this.book.prices(Side.BUY)[0];
    const bestAsk = this.book.prices(Side.SELL)[0];
    if (bestBid === undefined || bestAsk === undefined || bestBid < bestAsk) return NO_AUCTION;
    const total = (side: Side, price: number): number => {
      let sum = 0;
      for (const r of this.book.levelOrders(side, price)) sum += this.orders.get(r.id)?.leaves ?? r.shown;
      return sum;
    };
    const bids: { price: number; qty: number }[] = [];
    for (const p of this.book.prices(Side.BUY)) {
      if (p < bestAsk) break;
      bids.push({ price: p, qty: total(Side.BUY, p) });
    }
    const asks: { price: number; qty: number }[] = [];
    for (const p of this.book.prices(Side.SELL)) {
      if (p > bestBid) break;
      asks.push({ price: p, qty: total(Side.SELL, p) });
    }
    return indicativeAuction(bids, asks, this.referencePrice);
  }

  /** Kept trades, ascending: from `fromTradeId` (0 = the latest `limit`). */
  tradesFrom(fromTradeId: number, limit: number): Trade[] {
    const t = this.trades;
    if (fromTradeId === 0) return t.slice(Math.max(0, t.length - limit));
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t[mid]!.tradeId < fromTradeId) lo = mid + 1;
      else hi = mid;
    }
    return t.slice(lo, lo + limit);
  }

  /** Live orders known (resting, parked stops): for tests and diagnostics. */
  get liveOrders(): number {
    return this.orders.size;
  }
}
