import type { ExecutionReport, InstrumentState, Order, OrderType, Side, TimeInForce } from "@tradeplane/contracts";
import type { Limits } from "@tradeplane/risk-checks";

/** One price level: price in ticks, visible quantity in lots. */
export interface Level {
  readonly price: number;
  readonly qty: number;
}

/**
 * What a strategy sees of the market. The live host keeps it from market-data
 * subscriptions; the backtester reads it from the matching core itself.
 */
export interface MarketView {
  instruments(): readonly string[];
  /** Levels best first, at most `depth` a side. */
  levels(instrument: string, depth: number): { readonly bids: readonly Level[]; readonly asks: readonly Level[] };
  bestBid(instrument: string): Level | undefined;
  bestAsk(instrument: string): Level | undefined;
  /** Last trade price in ticks, 0 if none yet. */
  lastPrice(instrument: string): number;
  referencePrice(instrument: string): number;
  state(instrument: string): InstrumentState;
  notionalPerTickLot(instrument: string): number;
  /** Valid prices near `price` are multiples of this (tick bands, e.g. NSE's slabs). */
  tickSize(instrument: string, price: number): number;
  /** Host time (ms) the instrument's book or state last changed; 0 if never seen. */
  updatedAtMs(instrument: string): number;
}

/** A trade printed on the venue (anyone's). */
export interface TradeView {
  readonly instrument: string;
  readonly price: number;
  readonly qty: number;
  /** The incoming order's side (BUY: someone lifted the offer). */
  readonly aggressorSide: Side;
  readonly timeMs: number;
}

/** An order a strategy wants to send; defaults: LIMIT, DAY, not post-only. */
export interface OrderSpec {
  readonly instrument: string;
  readonly side: Side;
  /** Limit price in ticks; 0 for MARKET. */
  readonly price: number;
  readonly qty: number;
  readonly orderType?: OrderType;
  readonly timeInForce?: TimeInForce;
  readonly postOnly?: boolean;
}

/** Sent (with the client order id given to it), or refused here with the gateway's reason and the check's name. */
export type SendResult =
  | { readonly ok: true; readonly clientOrderId: string }
  | { readonly ok: false; readonly reason: number; readonly check: string };

/** A position as a strategy reads it (lots, minor units). */
export interface PositionView {
  readonly netQty: number;
  readonly realisedPnl: number;
  /** Marked to the instrument's last trade (else the position's last fill). */
  readonly unrealisedPnl: number;
}

/**
 * Everything a strategy may do. Every order goes through the account's limits first
 * (`LimitGuard`): an order the gateway would refuse is refused here and never sent.
 */
export interface StrategyContext {
  readonly account: string;
  readonly market: MarketView;
  /** Limits in force for the account (`Infinity` = none). */
  readonly limits: Limits;
  /** Host time in milliseconds: the wall clock live, the recorded time in a backtest. */
  now(): number;
  submit(order: OrderSpec): SendResult;
  /** Changes price and/or quantity of a working order (by its current client order id). */
  replace(clientOrderId: string, price: number, qty: number): SendResult;
  /** False when no such order is working (or the request rate is used up). */
  cancel(clientOrderId: string): boolean;
  /** Cancels every working order, of one instrument or all. */
  cancelAll(instrument?: string): void;
  /** Working orders, ascending by order id. */
  openOrders(instrument?: string): readonly Order[];
  /** Orders sent and not yet answered. */
  readonly pendingCount: number;
  position(instrument: string): PositionView;
  /** Calls `onTimer(name)` every `everyMs` from now; setting a name again resets it. */
  setTimer(name: string, everyMs: number): void;
  clearTimer(name: string): void;
  log(message: string, fields?: Record<string, unknown>): void;
}

/**
 * An event-driven strategy. Every callback is optional and runs to completion before the
 * next: no callback is ever entered twice at once. Decisions belong in the callbacks;
 * I/O belongs to the host.
 */
export interface Strategy {
  onStart?(ctx: StrategyContext): void;
  /** The book or the trading state of `instrument` changed. */
  onBook?(ctx: StrategyContext, instrument: string): void;
  onTrade?(ctx: StrategyContext, trade: TradeView): void;
  /** A report about one of the account's orders, after the local state took it in. */
  onExecutionReport?(ctx: StrategyContext, report: ExecutionReport): void;
  onTimer?(ctx: StrategyContext, name: string): void;
  /**
   * The gateway refused a request before its log (an ack, so no execution report follows):
   * `clientOrderId` is the request's, `reason` a RejectReason.
   */
  onRequestRefused?(ctx: StrategyContext, clientOrderId: string, reason: number): void;
  /** The host is stopping; the driver cancels every working order after this returns. */
  onStop?(ctx: StrategyContext): void;
}
