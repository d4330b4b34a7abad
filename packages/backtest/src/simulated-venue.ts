import type { RejectReason, Side } from "@tradeplane/contracts";
import {
  InstrumentState,
  type Command,
  type EngineEvent,
  type ExecutionReport,
  type OrderRequest,
  type RiskLimits,
} from "@tradeplane/contracts";
import { engineConfigOf, type InstrumentSettings } from "@tradeplane/matching-core/engine-config";
import { EventKind, NSE_TICK_SLABS } from "@tradeplane/matching-core";
import { Partition, wireStateOf } from "@tradeplane/matching-core/partition";
import { OrderProjection, emptyOrder } from "@tradeplane/positions";
import { checkNewOrder, effectiveLimits, newOrderRateWindow, type OrderRateWindow } from "@tradeplane/risk-checks";
import type { Level, MarketView, OrderPort, StrategyDriver, TradeView } from "@tradeplane/sdk";
import { OrderIdSet } from "./order-id-set.ts";

/** A listed instrument of the simulated venue. */
export interface SimInstrument extends InstrumentSettings {
  /** Minor units of one lot at one tick. */
  readonly notionalPerTickLot: number;
}

/** Called for every engine event, in log order (for recorders, charts and tests). */
export type EventListener = (event: EngineEvent) => void;

const NS_PER_MS = 1_000_000;
/**
 * Execution reports the simulated venue's projection keeps per account for `reportsSince`
 * (the live gateway keeps `DEFAULT_REPORTS_KEPT`, 10,000, for clients resuming a stream). A
 * backtest resumes no stream, and keeping ten thousand reports alive per account sends every
 * report of a long run through the old generation: a third of the market-making bench's CPU.
 */
export const SIM_REPORTS_KEPT = 100;

export interface SimulatedVenueOptions {
  /** Reports kept per account for `projection.reportsSince` (default `SIM_REPORTS_KEPT`). */
  readonly reportsKept?: number;
}
/** Requests strategies may send in answer to one command of the flow (or one timer round). */
export const MAX_REQUESTS_PER_EVENT = 10_000;

/** A strategy kept answering its own reports with requests: the run cannot go on deterministically. */
export class RunawayStrategyError extends Error {
  override readonly name = "RunawayStrategyError";
}
const EMPTY: readonly Level[] = Object.freeze([]);

/** Levels read from the core at one depth (the arrays are never changed once handed out). */
interface BookRead {
  readonly depth: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
}

/**
 * A venue in one process, for backtests and tests: the real matching core
 * (`@tradeplane/matching-core`'s Partition), the risk gateway's projection of its events
 * into orders, positions and execution reports (`@tradeplane/positions`), and the
 * gateway's pre-trade checks (`@tradeplane/risk-checks`) on every order a strategy sends.
 * A strategy's orders go through exactly the code that decides them live, so its fills
 * are the fills it would have had at that point of the log.
 *
 * Deterministic: time comes from the commands applied, and requests a strategy sends
 * while an event is being delivered are applied after it, in the order sent.
 */
export class SimulatedVenue implements MarketView {
  readonly partition: Partition;
  readonly projection: OrderProjection;
  /** Orders the gateway's checks refused (a strategy whose guard works never causes one). */
  limitRejects = 0;
  readonly limitRejectReasons = new Map<number, number>();
  commandsApplied = 0;
  eventsApplied = 0;
  private readonly instruments_: readonly SimInstrument[];
  private readonly byInstrument = new Map<string, SimInstrument>();
  private readonly drivers = new Map<string, StrategyDriver>();
  /** The drivers in attach order, as an array: walked several times per command (a Map's iterator allocates). */
  private readonly driverList: StrategyDriver[] = [];
  /** Accounts whose orders, positions and reports the projection keeps. */
  private readonly watched = new Set<string>();
  /**
   * Live orders of the watched accounts: added when accepted, removed when finished (only
   * their events can make a stranger's command matter to a watched account; a set of every
   * order ever entered grew to hundreds of thousands of keys, looked up per event).
   */
  private readonly watchedOrders = new OrderIdSet();
  private readonly limits = new Map<string, ReturnType<typeof effectiveLimits>>();
  private readonly throttles = new Map<string, OrderRateWindow>();
  private readonly updatedAt = new Map<string, number>();
  private readonly lastPrices = new Map<string, number>();
  /**
   * Per instrument, the levels read since the last command applied: valid while
   * `bookReadAt[i]` is `bookEpoch`, which every command moves on (a Map cleared per command
   * allocated a new table each time).
   */
  private readonly bookCache: BookRead[] = [];
  private readonly bookReadAt: number[] = [];
  private bookEpoch = 0;
  /** Per instrument, the levels last read from the core (kept across commands, unlike `bookCache`). */
  private readonly lastViews: (BookRead | undefined)[] = [];
  private topPrices = new Float64Array(16);
  private topQtys = new Float64Array(16);
  private readonly listeners: EventListener[] = [];
  private readonly queue: { account: string; request: OrderRequest }[] = [];
  private entry = 0;
  /**
   * While a command log is applied (`ownSequencesUpTo`): the highest sequence the venue's own
   * commands (its strategies' requests) may take before the log's next command. They take
   * the sequences after the last one applied (`lastSeq`), so they never collide with a logged
   * one; while none is free they wait, in order. Infinity: own commands are numbered by entry.
   * `ownBudget`: how many more waiting requests may be applied now (one in the place of each
   * left-out command of the strategy's, so each takes that command's place and time).
   */
  private ownUpTo = Infinity;
  private ownBudget = Infinity;
  private lastSeq = 0;
  private timeMs: number;
  private draining = false;

  constructor(instruments: readonly SimInstrument[], startMs = 0, options: SimulatedVenueOptions = {}) {
    this.instruments_ = instruments;
    for (const i of instruments) this.byInstrument.set(i.symbol, i);
    this.partition = Partition.create({ engine: engineConfigOf({ instruments }) });
    this.projection = new OrderProjection(
      (symbol) => this.byInstrument.get(symbol),
      options.reportsKept ?? SIM_REPORTS_KEPT,
    );
    this.timeMs = startMs;
  }

  /** Time of the last command applied, ms. */
  get nowMs(): number {
    return this.timeMs;
  }

  /** Attaches a strategy's driver to `account`, whose orders the gateway checks against `limits`. */
  attach(account: string, driver: StrategyDriver, limits?: RiskLimits): void {
    if (this.drivers.has(account)) this.driverList.splice(this.driverList.indexOf(this.drivers.get(account)!), 1);
    this.drivers.set(account, driver);
    this.driverList.push(driver);
    this.watched.add(account);
    this.limits.set(account, effectiveLimits(limits));
    this.throttles.set(account, newOrderRateWindow());
  }

  /** Keeps `account`'s orders, positions and reports in the projection without a strategy (replays). */
  watch(account: string): void {
    this.watched.add(account);
  }

  /**
   * Applies one command of a venue's command log at its own sequence (`commandSeqOf(entry,
   * position)`), so order ids, trade ids and reports come out as the venue's did. A
   * command that did not decode is applied as the engine applies it: one rejection.
   */
  applyLogged(seq: number, command: Command | undefined, decodeError?: string): void {
    const ts = command?.timestamp;
    if (ts !== undefined) {
      const ms = ts.seconds * 1000 + Math.floor(ts.nanos / NS_PER_MS);
      if (ms > this.timeMs) this.timeMs = ms;
    }
    this.entry = Math.max(this.entry, Math.floor(seq / 1_000));
    this.lastSeq = seq;
    this.partition.apply(seq, command, decodeError);
    this.afterApply(command !== undefined && this.watched.has(command.account));
    if (this.drivers.size > 0) {
      for (const d of this.driverList) d.advance(this.timeMs);
      this.drain();
    }
  }

  /**
   * Lets the venue's own commands take the free sequences of a command log after the last
   * one applied, up to `upTo` (the next logged command's sequence - 1), and applies up to
   * `requests` of the requests waiting for one (the rest wait for the next call). Infinity
   * ends this: own commands are numbered by entry again, after everything applied.
   */
  ownSequencesUpTo(upTo: number, requests = Infinity): void {
    this.ownUpTo = upTo;
    this.ownBudget = requests;
    if (upTo === Infinity) this.entry = Math.max(this.entry, Math.floor(this.lastSeq / 1_000));
    this.drain();
  }

  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** The order port of `account`: its requests are applied after the event being delivered. */
  portFor(account: string): OrderPort {
    return {
      send: (request) => {
        this.queue.push({ account, request });
        this.drain();
      },
    };
  }

  /**
   * Applies one command of the recorded or generated flow, then what strategies sent in
   * answer. Returns the command's sequence: the order id of a new order.
   */
  apply(account: string, body: Command["body"], timeMs: number): number {
    if (timeMs > this.timeMs) this.timeMs = timeMs;
    const seq = this.applyCommand(account, body);
    if (this.drivers.size > 0) {
      for (const d of this.driverList) d.advance(this.timeMs);
      this.drain();
    }
    return seq;
  }

  /** Moves time on (fires strategies' timers) without a command. */
  advanceTo(timeMs: number): void {
    if (timeMs > this.timeMs) this.timeMs = timeMs;
    for (const d of this.driverList) d.advance(this.timeMs);
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    let answered = 0;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const logged = this.ownUpTo !== Infinity;
        if (logged && (this.ownBudget < 1 || this.ownUpTo - this.lastSeq < this.commandsOf(next.request))) {
          this.queue.unshift(next);
          break;
        }
        // A strategy that answers its own reports with new requests forever would hang the run.
        if (++answered > MAX_REQUESTS_PER_EVENT)
          throw new RunawayStrategyError(`more than ${MAX_REQUESTS_PER_EVENT} requests in answer to one event`);
        const applied = this.commandsApplied;
        this.applyRequest(next.account, next.request);
        // A request the gateway's checks refused never reached the log: it takes no place.
        if (logged && this.commandsApplied !== applied) this.ownBudget--;
      }
    } finally {
      this.draining = false;
    }
  }

  /** Commands a request becomes (a mass cancel of every instrument: one per instrument); an upper bound. */
  private commandsOf(request: OrderRequest): number {
    const r = request.request;
    return r?.$case === "massCancel" && r.value.instrument === "" ? this.instruments_.length : 1;
  }

  private applyRequest(account: string, request: OrderRequest): void {
    const r = request.request;
    if (r === undefined) return;
    switch (r.$case) {
      case "submitOrder": {
        const o = r.value;
        const reason = this.gatewayCheck(account, o.instrument, o.side, o.price, o.qty, o.clientOrderId);
        if (reason !== 0) {
          this.limitRejects++;
          this.limitRejectReasons.set(reason, (this.limitRejectReasons.get(reason) ?? 0) + 1);
          this.drivers.get(account)?.onReport(this.riskReject(account, o.instrument, o.clientOrderId, reason));
          return;
        }
        this.applyCommand(account, {
          $case: "newOrder",
          value: {
            clientOrderId: o.clientOrderId,
            instrument: o.instrument,
            side: o.side,
            orderType: o.orderType,
            timeInForce: o.timeInForce,
            price: o.price,
            stopPrice: o.stopPrice,
            qty: o.qty,
            postOnly: o.postOnly,
            stpMode: o.stpMode,
            expireTime: o.expireTime,
            displayQty: o.displayQty,
            stpGroup: o.stpGroup,
          },
        });
        return;
      }
      case "cancelOrder": {
        const c = r.value;
        if (c.target?.$case !== "orderId") return;
        this.applyCommand(account, {
          $case: "cancelOrder",
          value: { instrument: c.instrument, orderId: c.target.value, clientOrderId: c.clientOrderId, reason: 0 },
        });
        return;
      }
      case "replaceOrder": {
        const c = r.value;
        if (c.target?.$case !== "orderId") return;
        this.applyCommand(account, {
          $case: "replaceOrder",
          value: {
            instrument: c.instrument,
            orderId: c.target.value,
            clientOrderId: c.clientOrderId,
            price: c.price,
            stopPrice: c.stopPrice,
            qty: c.qty,
          },
        });
        return;
      }
      case "massCancel": {
        const m = r.value;
        // A mass cancel of every instrument is one command per instrument here (one partition).
        const symbols = m.instrument === "" ? this.instruments_.map((i) => i.symbol) : [m.instrument];
        for (const instrument of symbols)
          this.applyCommand(account, {
            $case: "massCancel",
            value: { instrument, side: m.side, allAccounts: false, reason: 0, clientOrderId: m.clientOrderId },
          });
        return;
      }
    }
  }

  /** The gateway's new-order chain over the projection (the gateway's own read side). */
  private gatewayCheck(
    account: string,
    instrument: string,
    side: number,
    price: number,
    qty: number,
    clientOrderId: string,
  ): number {
    const limits = this.limits.get(account);
    const spec = this.byInstrument.get(instrument);
    if (limits === undefined || spec === undefined) return 0;
    const position = this.projection.positionOf(account, instrument);
    const state = this.projection.instrumentState(instrument);
    return checkNewOrder({
      order: { account, instrument, side, price, qty, clientOrderId },
      account: {
        authenticated: true,
        permitted: true,
        disabled: false,
        killSwitch: false,
        limits,
        clientOrderIds: this.projection.clientOrderIdsOf(account),
        throttle: this.throttles.get(account)!,
        position: position.netQty,
        openBuyQty: position.openBuyQty,
        openSellQty: position.openSellQty,
        openExposure: this.projection.openExposure(account),
      },
      instrument: {
        halted: state === InstrumentState.HALTED,
        closed: state === InstrumentState.CLOSED,
        lastPrice: this.lastPrice(instrument),
        referencePrice: spec.referencePrice,
        notionalPerTickLot: spec.notionalPerTickLot,
      },
      venueHalted: false,
      venueKillSwitch: false,
      nowNs: this.timeMs * NS_PER_MS,
    });
  }

  private involvesAttached(b: NonNullable<EngineEvent["body"]>): boolean {
    switch (b.$case) {
      case "trade":
        return this.watched.has(b.value.makerAccount) || this.watched.has(b.value.takerAccount);
      case "accepted":
      case "rejected":
      case "cancelled":
      case "replaced":
      case "triggered":
      case "expired":
      case "massCancelCompleted":
      case "accountFenced":
        return this.watched.has(b.value.account);
      case "accountBlockChanged":
        return b.value.allAccounts || this.watched.has(b.value.account);
      default:
        return true;
    }
  }

  private riskReject(account: string, instrument: string, clientOrderId: string, reason: number): ExecutionReport {
    return {
      sequence: 0,
      execType: 5 /* REJECTED */,
      order: { ...emptyOrder(account, instrument, clientOrderId), status: 5 /* REJECTED */ },
      requestKind: 1 /* NEW_ORDER */,
      requestClientOrderId: clientOrderId,
      origClientOrderId: "",
      tradeId: 0,
      lastPrice: 0,
      lastQty: 0,
      lastNotional: 0,
      liquidity: 0,
      rejectReason: reason as RejectReason,
      cancelReason: 0,
      text: "refused by the gateway's pre-trade checks",
      commandSeq: 0,
      eventIndex: 0,
      transactTime: undefined,
    };
  }

  private applyCommand(account: string, body: Command["body"]): number {
    const seq = this.ownUpTo === Infinity ? ++this.entry * 1_000 : ++this.lastSeq;
    const ms = this.timeMs;
    const command: Command = {
      timestamp: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * NS_PER_MS },
      account,
      source: "backtest",
      traceparent: "",
      ownerEpoch: 0,
      body,
    };
    this.partition.apply(seq, command);
    this.afterApply(this.watched.has(account));
    return seq;
  }

  /** Delivers the last command's events: projection, strategies, listeners. */
  private afterApply(byWatched: boolean): void {
    const ms = this.timeMs;
    this.bookEpoch++;
    this.commandsApplied++;
    if (!byWatched && this.listeners.length === 0 && !this.touchesWatched()) return this.deliverCore(ms);
    this.trackWatchedOrders(byWatched);
    const events = this.partition.wireEvents();
    this.eventsApplied += events.length;
    const listeners = this.listeners;
    const drivers = this.driverList;
    // Instruments whose book or state changed, in order: nearly always one (no Set per command).
    let touched: string | undefined;
    let more: Set<string> | undefined;
    for (let e = 0; e < events.length; e++) {
      const event = events[e]!;
      for (let l = 0; l < listeners.length; l++) listeners[l]!(event);
      const b = event.body;
      if (b === undefined) continue;
      // The projection keeps the attached accounts only: the flow's own accounts (one per
      // order in a generated workload) would cost memory and time and nobody reads them.
      if (this.involvesAttached(b)) {
        const reports = this.projection.apply(event, 0);
        for (let r = 0; r < reports.length; r++) this.drivers.get(reports[r]!.account)?.onReport(reports[r]!.report);
      }
      if (b.$case === "bookDelta" || b.$case === "instrumentStateChanged") {
        if (touched === undefined) touched = event.instrument;
        else if (touched !== event.instrument) (more ??= new Set()).add(event.instrument);
        this.updatedAt.set(event.instrument, ms);
      } else if (b.$case === "trade") {
        this.lastPrices.set(event.instrument, b.value.price);
        const trade: TradeView = {
          instrument: event.instrument,
          price: b.value.price,
          qty: b.value.qty,
          aggressorSide: b.value.aggressorSide,
          timeMs: ms,
        };
        for (let d = 0; d < drivers.length; d++) drivers[d]!.onTrade(trade);
      }
    }
    if (touched === undefined) return;
    // Instrument by instrument, every driver each (deliverCore goes driver by driver).
    for (let d = 0; d < drivers.length; d++) drivers[d]!.onBook(touched);
    if (more !== undefined) for (const s of more) if (s !== touched) for (const d of drivers) d.onBook(s);
  }

  /**
   * Keeps `watchedOrders` in step with the last command's core events (read before anything
   * is delivered: a strategy's answer applies a command of its own, which rewrites them).
   */
  private trackWatchedOrders(byWatched: boolean): void {
    const ev = this.partition.engine.events;
    const orders = this.watchedOrders;
    for (let i = 0; i < ev.count; i++) {
      switch (ev.kind[i]) {
        case EventKind.ACCEPTED:
          // A command's acceptance is of the command's own order, so of its account.
          if (byWatched) orders.add(ev.orderId[i]!);
          break;
        case EventKind.TRADE:
          if (ev.leaves[i] === 0) orders.delete(ev.orderId[i]!);
          if (ev.makerLeaves[i] === 0) orders.delete(ev.makerOrderId[i]!);
          break;
        case EventKind.CANCELLED:
        case EventKind.EXPIRED:
        case EventKind.REPLACED:
          if (ev.leaves[i] === 0) orders.delete(ev.orderId[i]!);
          break;
      }
    }
  }

  /**
   * Whether the last command's core events touch an order of a watched account or change an
   * instrument's state: only then are wire events built (most of a flow's commands are
   * strangers' orders meeting strangers' orders, and building their messages would cost
   * more than matching them).
   */
  private touchesWatched(): boolean {
    const ev = this.partition.engine.events;
    const orders = this.watchedOrders;
    if (orders.size === 0) {
      for (let i = 0; i < ev.count; i++) if (ev.kind[i] === EventKind.STATE_CHANGED) return true;
      return false;
    }
    for (let i = 0; i < ev.count; i++) {
      const kind = ev.kind[i];
      if (kind === EventKind.STATE_CHANGED || orders.has(ev.orderId[i]!)) return true;
      if (kind === EventKind.TRADE && orders.has(ev.makerOrderId[i]!)) return true;
    }
    return false;
  }

  /** The last command's trades and book changes read from the core's own event buffer. */
  private deliverCore(ms: number): void {
    const ev = this.partition.engine.events;
    const symbols = this.partition.instruments;
    this.eventsApplied += ev.count;
    let touched: string | undefined;
    let more: Set<string> | undefined;
    for (let i = 0; i < ev.count; i++) {
      const kind = ev.kind[i];
      const symbol = symbols[ev.instrument[i]!];
      if (symbol === undefined) continue;
      if (kind === EventKind.BOOK_DELTA) {
        this.updatedAt.set(symbol, ms);
        if (touched === undefined) touched = symbol;
        else if (touched !== symbol) (more ??= new Set()).add(symbol);
      } else if (kind === EventKind.TRADE) {
        this.lastPrices.set(symbol, ev.price[i]!);
        if (this.drivers.size === 0) continue;
        const trade: TradeView = {
          instrument: symbol,
          price: ev.price[i]!,
          qty: ev.qty[i]!,
          aggressorSide: ev.side[i] as Side,
          timeMs: ms,
        };
        for (const d of this.driverList) d.onTrade(trade);
      }
    }
    if (touched === undefined) return;
    for (const d of this.driverList) {
      d.onBook(touched);
      if (more !== undefined) for (const s of more) if (s !== touched) d.onBook(s);
    }
  }

  // MarketView, read from the core itself.

  instruments(): readonly string[] {
    return this.partition.instruments;
  }

  levels(instrument: string, depth: number): { bids: readonly Level[]; asks: readonly Level[] } {
    const i = this.partition.instrumentIndex(instrument);
    if (i < 0) return { bids: EMPTY, asks: EMPTY };
    // Strategies read the book several times per event; it changes only when a command applies.
    const cached = this.bookReadAt[i] === this.bookEpoch ? this.bookCache[i] : undefined;
    if (cached !== undefined && cached.depth >= depth) {
      if (cached.depth === depth) return cached;
      const cut = { bids: cached.bids.slice(0, depth), asks: cached.asks.slice(0, depth) };
      return cut;
    }
    // Most commands change the book below the levels a strategy reads: the arrays handed
    // out last time (never changed once handed out) serve again while their levels are equal.
    if (this.topPrices.length < depth) {
      this.topPrices = new Float64Array(depth);
      this.topQtys = new Float64Array(depth);
    }
    const last = this.lastViews[i];
    const bids = this.sideLevels(i, 0, depth, last?.bids);
    const asks = this.sideLevels(i, 1, depth, last?.asks);
    const view =
      last !== undefined && last.depth === depth && last.bids === bids && last.asks === asks
        ? last
        : { depth, bids, asks };
    this.lastViews[i] = view;
    this.bookCache[i] = view;
    this.bookReadAt[i] = this.bookEpoch;
    return view;
  }

  /** One side's best `depth` levels: `last` when they are the same levels, else a new array. */
  private sideLevels(i: number, side: number, depth: number, last: readonly Level[] | undefined): readonly Level[] {
    const prices = this.topPrices;
    const qtys = this.topQtys;
    const n = this.partition.engine.topLevels(i, side, depth, prices, qtys);
    if (last !== undefined && last.length === n) {
      let same = true;
      for (let k = 0; k < n && same; k++) same = last[k]!.price === prices[k] && last[k]!.qty === qtys[k];
      if (same) return last;
    }
    if (n === 0) return EMPTY;
    const out = new Array<Level>(n);
    for (let k = 0; k < n; k++) out[k] = { price: prices[k]!, qty: qtys[k]! };
    return out;
  }

  bestBid(instrument: string): Level | undefined {
    return this.levels(instrument, 1).bids[0];
  }

  bestAsk(instrument: string): Level | undefined {
    return this.levels(instrument, 1).asks[0];
  }

  lastPrice(instrument: string): number {
    return this.lastPrices.get(instrument) ?? 0;
  }

  referencePrice(instrument: string): number {
    return this.byInstrument.get(instrument)?.referencePrice ?? 0;
  }

  state(instrument: string): InstrumentState {
    const i = this.partition.instrumentIndex(instrument);
    return i < 0 ? InstrumentState.UNSPECIFIED : wireStateOf(this.partition.instrumentStates[i]!);
  }

  notionalPerTickLot(instrument: string): number {
    return this.byInstrument.get(instrument)?.notionalPerTickLot ?? 1;
  }

  tickSize(instrument: string, price: number): number {
    const spec = this.byInstrument.get(instrument);
    if (spec === undefined) return 1;
    const slabs = spec.tickSlabs === "NSE" ? NSE_TICK_SLABS : spec.tickSlabs;
    if (slabs === undefined) return spec.tickSize ?? 1;
    let tick = 1;
    for (const slab of slabs) if (price >= slab.fromPrice) tick = slab.tickSize;
    return tick;
  }

  updatedAtMs(instrument: string): number {
    return this.updatedAt.get(instrument) ?? 0;
  }
}
