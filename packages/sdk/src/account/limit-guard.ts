import { RejectReason, Side, type Order, type RiskLimits } from "@tradeplane/contracts";
import {
  NEW_ORDER_CHECKS,
  PASS,
  effectiveLimits,
  newOrderRateWindow,
  tryAdmit,
  type CheckContext,
  type Limits,
  type OrderRateWindow,
} from "@tradeplane/risk-checks";
import type { AccountState } from "./account-state.ts";

/** What the guard reads of an instrument (prices in ticks). */
export interface InstrumentRisk {
  readonly halted: boolean;
  readonly closed: boolean;
  /** Last trade price, 0 if none yet. */
  readonly lastPrice: number;
  readonly referencePrice: number;
  readonly notionalPerTickLot: number;
}

/** An order about to be sent. */
export interface GuardedOrder {
  readonly instrument: string;
  readonly side: number;
  /** Limit price in ticks; 0 for a market order. */
  readonly price: number;
  readonly qty: number;
  readonly clientOrderId: string;
}

/** `ok`, or the gateway's reject reason and the name of the check that would refuse it. */
export type GuardVerdict =
  { readonly ok: true } | { readonly ok: false; readonly reason: number; readonly check: string };

const OK: GuardVerdict = Object.freeze({ ok: true });
/** The gateway's own throttle is checked here by the same sliding window (below). */
const CHAIN = NEW_ORDER_CHECKS.filter(([name]) => name !== "throttle");

/**
 * The account's limits, checked before an order leaves: the gateway's own pre-trade chain
 * (`@tradeplane/risk-checks`) over the client's view of its orders and positions, with
 * pending orders counted as working. A strategy whose guard passes an order therefore
 * never meets a limit reject from the gateway, except through what the client cannot see
 * (another session trading the same account, a kill switch).
 *
 * The rate is held by the gateway's own sliding window over the times the client sends,
 * lengthened by `rateSlackMs`: requests the network or a busy host bunches on the way arrive
 * closer together than they left, and a strategy at its limit with a one-second window met
 * THROTTLED from the gateway (19 of 6,102 requests of the demo's market maker in a minute on
 * a loaded machine). Bunching beyond the slack can still meet it. A backtest has no network
 * and keeps no slack.
 */
type Writable<T> = { -readonly [K in keyof T]: T[K] };

export class LimitGuard {
  private limits: Limits;
  private readonly window: OrderRateWindow = newOrderRateWindow();
  /** The account being checked (for `ids`, read by the duplicate client order id check). */
  private checking: AccountState | undefined;
  private readonly ids = { has: (id: string): boolean => this.checking?.hasClientOrderId(id) ?? false };
  // One context, rewritten per check: a strategy checks an order per requote, and the checks
  // are pure functions that keep nothing of it (no objects and closure per order).
  private readonly order: Writable<CheckContext["order"]> = {
    account: "",
    instrument: "",
    side: 0,
    price: 0,
    qty: 0,
    clientOrderId: "",
  };
  private readonly account: Writable<CheckContext["account"]>;
  private readonly ctx: Writable<CheckContext>;

  private readonly windowNs: number;

  constructor(limits: RiskLimits | undefined, _nowNs: number, rateSlackMs = 0) {
    this.limits = effectiveLimits(limits);
    this.windowNs = (1_000 + rateSlackMs) * 1_000_000;
    this.account = {
      authenticated: true,
      permitted: true,
      disabled: false,
      killSwitch: false,
      limits: this.limits,
      clientOrderIds: this.ids,
      throttle: this.window,
      position: 0,
      openBuyQty: 0,
      openSellQty: 0,
      openExposure: 0,
    };
    this.ctx = {
      order: this.order,
      account: this.account,
      instrument: { halted: false, closed: false, lastPrice: 0, referencePrice: 0, notionalPerTickLot: 1 },
      venueHalted: false,
      venueKillSwitch: false,
      nowNs: 0,
    };
  }

  /** New limits in force (e.g. read again after an operator changed them). */
  setLimits(limits: RiskLimits | undefined): void {
    this.limits = effectiveLimits(limits);
  }

  get current(): Limits {
    return this.limits;
  }

  /**
   * Would the gateway accept `order` now? Takes a token of the rate when it would, so call
   * it once per order actually sent. `cancel` requests take a token too (`takeToken`).
   */
  check(
    order: GuardedOrder,
    account: AccountState,
    instrument: InstrumentRisk,
    nowNs: number,
    replacing?: Order,
  ): GuardVerdict {
    // A replace: the order's working quantity and exposure make way for the new ones,
    // and what it already filled is not working any more (as the gateway measures it).
    const freedQty = replacing?.leavesQty ?? 0;
    const freedSide = replacing?.side ?? Side.UNSPECIFIED;
    const freedExposure = replacing === undefined ? 0 : replacing.price * freedQty * instrument.notionalPerTickLot;
    const o = this.order;
    o.instrument = order.instrument;
    o.side = order.side;
    o.price = order.price;
    o.qty = order.qty;
    o.clientOrderId = order.clientOrderId;
    const a = this.account;
    a.limits = this.limits;
    a.position = account.netQty(order.instrument);
    a.openBuyQty = account.openQty(order.instrument, Side.BUY) - (freedSide === Side.BUY ? freedQty : 0);
    a.openSellQty = account.openQty(order.instrument, Side.SELL) - (freedSide === Side.SELL ? freedQty : 0);
    a.openExposure = account.openExposure() - freedExposure;
    const ctx = this.ctx;
    ctx.instrument = instrument;
    ctx.nowNs = nowNs;
    this.checking = account;
    // Indexed: runs per order sent, and destructuring for-of allocates per step.
    for (let i = 0; i < CHAIN.length; i++) {
      const reason = CHAIN[i]![1](ctx);
      if (reason !== PASS) return { ok: false, reason, check: CHAIN[i]![0] };
    }
    return this.takeToken(nowNs) ? OK : { ok: false, reason: RejectReason.THROTTLED, check: "throttle" };
  }

  /** Spends one request of the rate (cancels, replaces, mass cancels count too). */
  takeToken(nowNs: number): boolean {
    const rate = this.limits.maxOrdersPerSecond;
    if (rate === Infinity) return true;
    if (rate === 0) return false;
    return tryAdmit(this.window, nowNs, rate, this.windowNs);
  }
}
