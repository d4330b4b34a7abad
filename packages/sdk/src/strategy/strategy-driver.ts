import {
  ExecType,
  InstrumentState,
  OrderType,
  RejectReason,
  rejectReasonToJSON,
  Side,
  TimeInForce,
  type ExecutionReport,
  type OrderRequest,
  type RequestAck,
  type RiskLimits,
} from "@tradeplane/contracts";
import type { Limits } from "@tradeplane/risk-checks";
import { AccountState, type AccountBaseline, type ReportVerdict } from "../account/account-state.ts";
import { LimitGuard, type GuardVerdict, type InstrumentRisk } from "../account/limit-guard.ts";
import type {
  MarketView,
  OrderSpec,
  PositionView,
  SendResult,
  Strategy,
  StrategyContext,
  TradeView,
} from "./strategy.ts";

/** Where the driver's requests go: a Session stream live, the matching core in a backtest. */
export interface OrderPort {
  send(request: OrderRequest): void;
}

export interface StrategyDriverOptions {
  readonly account: string;
  readonly strategy: Strategy;
  readonly orders: OrderPort;
  readonly market: MarketView;
  /** The account's limits in force (GetAccountLimits' `effective`); absent = none. */
  readonly limits?: RiskLimits | undefined;
  /** Milliseconds: the wall clock live, the recorded time in a backtest. */
  readonly clock: () => number;
  /**
   * Milliseconds added to the one-second window the order rate is held in, so that requests
   * bunched on their way to the gateway still arrive within its limit (live: the host's
   * setting; a backtest: 0).
   */
  readonly rateSlackMs?: number;
  /** Client order ids are `<prefix><n>`; at most 24 characters, unique per account and run. */
  readonly clientOrderIdPrefix: string;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * A strategy callback threw: called with the error, and the driver goes on with the next
   * event (live: the host counts and logs it, and the strategy keeps its orders managed by
   * later events). Absent (a backtest), the error propagates to the caller.
   */
  readonly onCallbackError?: (err: unknown) => void;
}

/** What a driver did, for metrics and the backtest's report. */
export interface DriverCounters {
  sent: number;
  refusedLocally: number;
  refusedByGateway: number;
  reports: number;
  fills: number;
  filledQty: number;
}

interface Timer {
  readonly everyMs: number;
  nextMs: number;
}

const MAX_PREFIX = 24;
const NS_PER_MS = 1_000_000;

/**
 * Runs one strategy: implements its context over an order port and a market view, keeps
 * the account's state from execution reports, checks every order against the limits, and
 * delivers events one at a time (an event that arrives during a callback waits for it to
 * return). The same driver serves the live host and the backtester, so a strategy cannot
 * tell them apart except by the clock.
 */
export class StrategyDriver {
  readonly state: AccountState;
  readonly guard: LimitGuard;
  readonly counters: DriverCounters = {
    sent: 0,
    refusedLocally: 0,
    refusedByGateway: 0,
    reports: 0,
    fills: 0,
    filledQty: 0,
  };
  /** Local refusals by check name. */
  readonly refusals = new Map<string, number>();
  private readonly options: StrategyDriverOptions;
  private readonly ctx: StrategyContext;
  private readonly timers = new Map<string, Timer>();
  private readonly queue: (() => void)[] = [];
  private busy = false;
  private nextId = 1;
  /** No timer is due before this (a lower bound: timers set since may be due earlier). */
  private earliestTimerMs = -Infinity;
  private running = false;

  constructor(options: StrategyDriverOptions) {
    if (options.clientOrderIdPrefix.length > MAX_PREFIX || !/^[!-~]*$/.test(options.clientOrderIdPrefix))
      throw new RangeError(`clientOrderIdPrefix: at most ${MAX_PREFIX} printable ASCII characters`);
    this.options = options;
    this.state = new AccountState((i) => options.market.notionalPerTickLot(i));
    this.guard = new LimitGuard(options.limits, options.clock() * NS_PER_MS, options.rateSlackMs ?? 0);
    this.ctx = this.context();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Loads the gateway's view of the account (before `start`, or after a gap it cannot replay). */
  load(baseline: AccountBaseline): void {
    this.state.load(baseline);
  }

  setLimits(limits: RiskLimits | undefined): void {
    this.guard.setLimits(limits);
  }

  start(): void {
    this.running = true;
    this.dispatch(() => this.options.strategy.onStart?.(this.ctx));
  }

  /** Lets the strategy finish, then cancels every working order of the account. */
  stop(): void {
    if (!this.running) return;
    this.dispatch(() => {
      // Its open orders are cancelled even when onStop throws.
      this.guarded(() => this.options.strategy.onStop?.(this.ctx));
      this.running = false;
      this.timers.clear();
      if (this.state.openOrders().length > 0 || this.state.pendingCount > 0) this.sendMassCancel("");
    });
  }

  /** An execution report of the account; `gap` asks the host to resume from `state.resumeFrom`. */
  onReport(report: ExecutionReport): ReportVerdict {
    const verdict = this.state.apply(report);
    if (verdict !== "applied") return verdict;
    this.counters.reports++;
    if (report.execType === ExecType.TRADE) {
      this.counters.fills++;
      this.counters.filledQty += report.lastQty;
    }
    if (report.sequence === 0) this.counters.refusedByGateway++;
    const strategy = this.options.strategy;
    if (strategy.onExecutionReport !== undefined) this.dispatch(() => strategy.onExecutionReport?.(this.ctx, report));
    return verdict;
  }

  /** The gateway's acknowledgement of one request (a Session ack). */
  onAck(ack: RequestAck): void {
    if (ack.accepted) return;
    this.state.refused(ack.clientOrderId);
    this.counters.refusedByGateway++;
    if (this.running)
      this.dispatch(() => this.options.strategy.onRequestRefused?.(this.ctx, ack.clientOrderId, ack.rejectReason));
    this.options.log?.("request refused by the gateway", {
      clientOrderId: ack.clientOrderId,
      reason: rejectReasonToJSON(ack.rejectReason),
      text: ack.text,
    });
  }

  onBook(instrument: string): void {
    const strategy = this.options.strategy;
    if (!this.running || strategy.onBook === undefined) return;
    if (this.busy || this.queue.length > 0) {
      this.dispatch(() => strategy.onBook?.(this.ctx, instrument));
      return;
    }
    // What dispatch does with an empty queue, without a closure: a backtest delivers a book
    // change per command of its flow.
    this.busy = true;
    try {
      if (this.options.onCallbackError === undefined) strategy.onBook(this.ctx, instrument);
      else this.guarded(() => strategy.onBook?.(this.ctx, instrument));
      for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) this.guarded(job);
    } finally {
      this.busy = false;
    }
  }

  onTrade(trade: TradeView): void {
    const strategy = this.options.strategy;
    if (this.running && strategy.onTrade !== undefined) this.dispatch(() => strategy.onTrade?.(this.ctx, trade));
  }

  /** Fires the timers due at `nowMs` (each at most once; missed periods are skipped), by due time, then name. */
  advance(nowMs: number): void {
    if (!this.running || this.timers.size === 0 || nowMs < this.earliestTimerMs) return;
    const due = [...this.timers.entries()]
      .filter(([, t]) => t.nextMs <= nowMs)
      .sort(([a, x], [b, y]) => x.nextMs - y.nextMs || (a < b ? -1 : 1));
    for (const [name, timer] of due) {
      timer.nextMs += timer.everyMs;
      if (timer.nextMs <= nowMs) timer.nextMs = nowMs + timer.everyMs;
      this.dispatch(() => {
        if (this.timers.get(name) === timer) this.options.strategy.onTimer?.(this.ctx, name);
      });
    }
    this.earliestTimerMs = this.nextTimerMs();
  }

  /** The earliest time a timer is due, or Infinity. */
  nextTimerMs(): number {
    let next = Infinity;
    for (const t of this.timers.values()) next = Math.min(next, t.nextMs);
    return next;
  }

  private dispatch(run: () => void): void {
    this.queue.push(run);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) this.guarded(job);
    } finally {
      this.busy = false;
    }
  }

  /** Runs a strategy callback: its error goes to onCallbackError when there is one (live), else up. */
  private guarded(run: () => void): void {
    const onError = this.options.onCallbackError;
    if (onError === undefined) return run();
    try {
      run();
    } catch (err) {
      onError(err);
    }
  }

  private instrumentRisk(instrument: string): InstrumentRisk {
    const m = this.options.market;
    const state = m.state(instrument);
    return {
      halted: state === InstrumentState.HALTED,
      closed: state === InstrumentState.CLOSED,
      lastPrice: m.lastPrice(instrument),
      referencePrice: m.referencePrice(instrument),
      notionalPerTickLot: m.notionalPerTickLot(instrument),
    };
  }

  private refuse(verdict: Exclude<GuardVerdict, { ok: true }>): SendResult {
    this.counters.refusedLocally++;
    this.refusals.set(verdict.check, (this.refusals.get(verdict.check) ?? 0) + 1);
    return verdict;
  }

  private newClientOrderId(): string {
    return `${this.options.clientOrderIdPrefix}${this.nextId++}`;
  }

  private sendMassCancel(instrument: string): void {
    this.options.orders.send({
      traceparent: "",
      request: {
        $case: "massCancel",
        value: { account: this.options.account, instrument, side: Side.UNSPECIFIED, clientOrderId: "" },
      },
    });
    this.counters.sent++;
  }

  private context(): StrategyContext {
    const { account, market } = this.options;
    const { guard, state } = this;
    const nowNs = (): number => this.options.clock() * NS_PER_MS;
    return {
      account,
      market,
      get limits(): Limits {
        return guard.current;
      },
      get pendingCount(): number {
        return state.pendingCount;
      },
      now: () => this.options.clock(),
      submit: (spec: OrderSpec): SendResult => {
        if (!this.running) return this.refuse({ ok: false, reason: RejectReason.UNSPECIFIED, check: "stopped" });
        const clientOrderId = this.newClientOrderId();
        const orderType = spec.orderType ?? OrderType.LIMIT;
        const price = orderType === OrderType.MARKET ? 0 : spec.price;
        const verdict = this.guard.check(
          { instrument: spec.instrument, side: spec.side, price, qty: spec.qty, clientOrderId },
          this.state,
          this.instrumentRisk(spec.instrument),
          nowNs(),
        );
        if (!verdict.ok) return this.refuse(verdict);
        this.state.addPending(clientOrderId, { instrument: spec.instrument, side: spec.side, price, qty: spec.qty });
        this.options.orders.send({
          traceparent: "",
          request: {
            $case: "submitOrder",
            value: {
              account,
              clientOrderId,
              instrument: spec.instrument,
              side: spec.side,
              orderType,
              timeInForce: spec.timeInForce ?? (orderType === OrderType.MARKET ? TimeInForce.IOC : TimeInForce.DAY),
              price,
              stopPrice: 0,
              qty: spec.qty,
              postOnly: spec.postOnly ?? false,
              stpMode: 0,
              expireTime: undefined,
              displayQty: 0,
              stpGroup: 0,
            },
          },
        });
        this.counters.sent++;
        return { ok: true, clientOrderId };
      },
      replace: (target: string, price: number, qty: number): SendResult => {
        const order = this.state.orderByClientId(target);
        if (!this.running || order === undefined)
          return this.refuse({ ok: false, reason: RejectReason.UNKNOWN_ORDER, check: "working_order" });
        const clientOrderId = this.newClientOrderId();
        const verdict = this.guard.check(
          { instrument: order.instrument, side: order.side, price, qty: qty - order.cumQty, clientOrderId },
          this.state,
          this.instrumentRisk(order.instrument),
          nowNs(),
          order,
        );
        if (!verdict.ok) return this.refuse(verdict);
        this.options.orders.send({
          traceparent: "",
          request: {
            $case: "replaceOrder",
            value: {
              account,
              instrument: order.instrument,
              target: { $case: "orderId", value: order.orderId },
              clientOrderId,
              price,
              stopPrice: 0,
              qty,
            },
          },
        });
        this.counters.sent++;
        return { ok: true, clientOrderId };
      },
      cancel: (target: string): boolean => {
        const order = this.state.orderByClientId(target);
        if (order === undefined || !this.guard.takeToken(nowNs())) return false;
        this.options.orders.send({
          traceparent: "",
          request: {
            $case: "cancelOrder",
            value: {
              account,
              instrument: order.instrument,
              target: { $case: "orderId", value: order.orderId },
              clientOrderId: "",
            },
          },
        });
        this.counters.sent++;
        return true;
      },
      cancelAll: (instrument = ""): void => {
        if (this.guard.takeToken(nowNs())) this.sendMassCancel(instrument);
      },
      openOrders: (instrument = "") => this.state.openOrdersView(instrument),
      position: (instrument: string): PositionView => {
        const netQty = this.state.netQty(instrument);
        const mark = market.lastPrice(instrument);
        const pnl = this.state.pnl(instrument, mark > 0 ? mark : undefined);
        return { netQty, realisedPnl: pnl.realised, unrealisedPnl: pnl.unrealised };
      },
      setTimer: (name: string, everyMs: number): void => {
        if (!(everyMs >= 1)) throw new RangeError(`timer ${name}: everyMs must be >= 1`);
        const nextMs = this.options.clock() + everyMs;
        this.timers.set(name, { everyMs, nextMs });
        this.earliestTimerMs = Math.min(this.earliestTimerMs, nextMs);
      },
      clearTimer: (name: string): void => {
        this.timers.delete(name);
      },
      log: (message, fields) => this.options.log?.(message, fields),
    };
  }
}
