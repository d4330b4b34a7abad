import { RejectReason, Side } from "@tradeplane/contracts";
import type { Limits } from "./limits.ts";
import { tryAdmit, type OrderRateWindow } from "./order-rate-window.ts";

/**
 * Pre-trade checks: a named chain of small pure functions, each returning the reject
 * reason of the first rule an order breaks, or 0 (`PASS`). The order of the chain is
 * the order the venue promises its users (cheapest and most fundamental first):
 * session, halts (venue or instrument halted, instrument closed), kill switch, restricted instrument, duplicate client order id,
 * throttle, max quantity, max value, price collar, position limit, credit limit.
 *
 * A limit of 0 blocks every order its check applies to (risk_admin.proto: there is no
 * "unlimited"; `Infinity` is only what an absent limit at every level merges to). Each
 * check tests 0 on its own, so that no order slips through on an edge of the arithmetic
 * (a market order with no price to value it at, a reducing order under a position limit,
 * the first order of an empty window).
 *
 * Only the throttle changes anything (it records the order as admitted). It runs after the checks that
 * make an order unacceptable whatever the rate, so those rejects never count toward the rate;
 * orders rejected by the limit checks after it do count toward the rate.
 */
export const PASS = 0;

export type RiskReason = (typeof RejectReason)[keyof typeof RejectReason];

/** The order as the gateway sees it; prices in ticks, quantities in lots. */
export interface OrderIntent {
  readonly account: string;
  readonly instrument: string;
  readonly side: number;
  /** Limit price in ticks; 0 for market and stop-market orders. */
  readonly price: number;
  readonly qty: number;
  readonly clientOrderId: string;
}

/** What the checks read about the instrument. */
export interface InstrumentView {
  /** HALTED, as the engine last announced it: new orders and replaces are refused. */
  readonly halted: boolean;
  /** CLOSED, as the engine last announced it: new orders and replaces are refused (MARKET_CLOSED). */
  readonly closed?: boolean | undefined;
  /** Last trade price in ticks, 0 if none yet. */
  readonly lastPrice: number;
  /** Reference (previous close / band reference) price in ticks. */
  readonly referencePrice: number;
  /** Notional in minor units of one lot at one tick. */
  readonly notionalPerTickLot: number;
}

/** What the checks read about the account: limits and the projection of its orders and fills. */
export interface AccountView {
  readonly authenticated: boolean;
  readonly permitted: boolean;
  readonly disabled: boolean;
  readonly killSwitch: boolean;
  readonly limits: Limits;
  /** Client order ids of the account's live orders (only `has` is used: pass the live index, never a copy). */
  readonly clientOrderIds: { has(clientOrderId: string): boolean };
  /** The account's admitted orders of the last second (the throttle). */
  readonly throttle: OrderRateWindow;
  /** Net position in this instrument, lots (long > 0). */
  readonly position: number;
  readonly openBuyQty: number;
  readonly openSellQty: number;
  /**
   * The account's credit use before this order, minor units: the gross notional of its open
   * orders (and those in flight) plus the absolute notional of its positions at mark.
   */
  readonly openExposure: number;
}

export interface CheckContext {
  readonly order: OrderIntent;
  readonly account: AccountView;
  readonly instrument: InstrumentView;
  /** Every instrument of the venue is HALTED (see `isVenueHalted`). */
  readonly venueHalted: boolean;
  readonly venueKillSwitch: boolean;
  /** Monotonic nanoseconds since process start (for the throttle). */
  readonly nowNs: number;
}

export type Check = (ctx: CheckContext) => number;

/** The price the risk of an order is measured at: its limit, else last, else reference. */
export function riskPrice(ctx: CheckContext): number {
  if (ctx.order.price > 0) return ctx.order.price;
  return ctx.instrument.lastPrice > 0 ? ctx.instrument.lastPrice : ctx.instrument.referencePrice;
}

/** Notional of the order in minor units; Infinity when it would not be exact. */
export function orderNotional(ctx: CheckContext): number {
  const value = riskPrice(ctx) * ctx.order.qty * ctx.instrument.notionalPerTickLot;
  return Number.isSafeInteger(value) ? value : Infinity;
}

export const session: Check = ({ account }) => {
  if (!account.authenticated) return RejectReason.UNAUTHENTICATED;
  if (!account.permitted) return RejectReason.ACCOUNT_NOT_PERMITTED;
  if (account.disabled) return RejectReason.ACCOUNT_DISABLED;
  return PASS;
};

/**
 * The venue has no trading state of its own in the event log: a venue-wide halt
 * (VenueAdmin.Halt without an instrument) is one InstrumentStateChanged to HALTED per
 * instrument. So the venue counts as halted when every instrument it lists is HALTED.
 * Blocking every account at once otherwise is the VENUE kill switch (KILL_SWITCH).
 */
export function isVenueHalted(haltedInstruments: number, listedInstruments: number): boolean {
  return listedInstruments > 0 && haltedInstruments >= listedInstruments;
}

/** Why the venue's or the instrument's trading state refuses new orders and replaces, or PASS. */
export function tradingStateReason(
  venueHalted: boolean,
  instrument: Pick<InstrumentView, "halted" | "closed">,
): number {
  if (venueHalted || instrument.halted) return RejectReason.INSTRUMENT_HALTED;
  return instrument.closed === true ? RejectReason.MARKET_CLOSED : PASS;
}

export const halted: Check = ({ venueHalted, instrument }) => tradingStateReason(venueHalted, instrument);

export const killSwitch: Check = ({ venueKillSwitch, account }) =>
  venueKillSwitch || account.killSwitch ? RejectReason.KILL_SWITCH : PASS;

export const restrictedInstrument: Check = ({ account, order }) =>
  account.limits.restricted.has(order.instrument) ? RejectReason.RESTRICTED_INSTRUMENT : PASS;

export const duplicateClientOrderId: Check = ({ account, order }) =>
  account.clientOrderIds.has(order.clientOrderId) ? RejectReason.DUPLICATE_CLIENT_ORDER_ID : PASS;

export const throttle: Check = ({ account, nowNs }) => {
  const rate = account.limits.maxOrdersPerSecond;
  if (rate === Infinity) return PASS;
  if (rate === 0) return RejectReason.THROTTLED;
  return tryAdmit(account.throttle, nowNs, rate) ? PASS : RejectReason.THROTTLED;
};

export const maxOrderQty: Check = ({ account, order }) =>
  account.limits.maxOrderQty === 0 || order.qty > account.limits.maxOrderQty
    ? RejectReason.ACCOUNT_MAX_ORDER_QTY
    : PASS;

export const maxOrderValue: Check = (ctx) => {
  const max = ctx.account.limits.maxOrderNotional;
  return max === 0 || orderNotional(ctx) > max ? RejectReason.ACCOUNT_MAX_ORDER_VALUE : PASS;
};

/** Fat-finger guard: a limit price too far from the last (else reference) price. 0 blocks every priced order. */
export const priceCollar: Check = ({ account, order, instrument }) => {
  const bps = account.limits.priceCollarBps;
  if (bps === Infinity || order.price <= 0) return PASS;
  if (bps === 0) return RejectReason.PRICE_COLLAR;
  const anchor = instrument.lastPrice > 0 ? instrument.lastPrice : instrument.referencePrice;
  if (anchor <= 0) return PASS;
  // |price - anchor| / anchor > bps / 10_000, in integers.
  return Math.abs(order.price - anchor) * 10_000 > bps * anchor ? RejectReason.PRICE_COLLAR : PASS;
};

/** Worst-case position if every open order of the side and this one filled. */
export const positionLimit: Check = ({ account, order }) => {
  const max = account.limits.maxPosition;
  if (max === Infinity) return PASS;
  if (max === 0) return RejectReason.POSITION_LIMIT;
  if (order.side === Side.BUY) {
    return account.position + account.openBuyQty + order.qty > max ? RejectReason.POSITION_LIMIT : PASS;
  }
  return -(account.position - account.openSellQty - order.qty) > max ? RejectReason.POSITION_LIMIT : PASS;
};

export const creditLimit: Check = (ctx) => {
  const max = ctx.account.limits.creditLimit;
  return max === 0 || ctx.account.openExposure + orderNotional(ctx) > max ? RejectReason.CREDIT_LIMIT : PASS;
};

/** The chain, in the promised order, with names for metrics and docs. */
export const NEW_ORDER_CHECKS: readonly (readonly [name: string, check: Check])[] = [
  ["session", session],
  ["halted", halted],
  ["kill_switch", killSwitch],
  ["restricted_instrument", restrictedInstrument],
  ["duplicate_client_order_id", duplicateClientOrderId],
  ["throttle", throttle],
  ["max_order_qty", maxOrderQty],
  ["max_order_value", maxOrderValue],
  ["price_collar", priceCollar],
  ["position_limit", positionLimit],
  ["credit_limit", creditLimit],
];

/** Runs the chain; the first failing check's reason, or PASS. */
export function checkNewOrder(ctx: CheckContext): number {
  for (let i = 0; i < NEW_ORDER_CHECKS.length; i++) {
    const reason = NEW_ORDER_CHECKS[i]![1](ctx);
    if (reason !== PASS) return reason;
  }
  return PASS;
}

/** The names of the checks, in order, for metrics and docs. */
export const CHECK_NAMES = NEW_ORDER_CHECKS.map(([name]) => name);
