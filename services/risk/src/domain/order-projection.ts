import {
  ExecType,
  InstrumentState,
  LiquidityIndicator,
  OrderStatus,
  OrderType,
  RequestKind,
  Side,
  TimeInForce,
  type EngineEvent,
  type ExecutionReport,
  type Order,
} from "@tradeplane/contracts";
import { applyFill, closeOrder, newPosition, openOrder, unrealisedPnl, type Position } from "./positions.ts";

/**
 * The risk gateway's read side of the event log: orders, positions and each account's
 * execution reports, rebuilt from the engine's events alone (CQRS: never a second source
 * of truth). Deterministic: the same events give the same orders, positions and report
 * sequences on every gateway replica and after every restart, which is what lets a
 * client resume its report stream from a sequence number.
 *
 * Prices in ticks, quantities in lots, money in minor units.
 */
export interface InstrumentTerms {
  /** Minor units of one lot at one tick. */
  readonly notionalPerTickLot: number;
}

export interface AccountReport {
  readonly account: string;
  readonly report: ExecutionReport;
}

interface LiveOrder {
  order: Order;
}

/** One account's risk over all its instruments, for gauges (money in minor units, quantities in lots). */
export interface AccountRiskSummary {
  openOrders: number;
  /** Sum over instruments of |net position|. */
  grossPositionLots: number;
  /** Sum over instruments of |net position| x mark price x notional per tick-lot. */
  grossPositionNotional: number;
  /** Gross notional of open orders. */
  openExposure: number;
  realisedPnl: number;
  /** Marked to the instrument's last trade (else the position's last fill). */
  unrealisedPnl: number;
}

const NO_IDS: ReadonlyMap<string, number> = new Map();

/** Reports kept per account for resuming streams; older ones need ListOpenOrders. */
export const DEFAULT_REPORTS_KEPT = 10_000;

export class OrderProjection {
  private readonly terms: (instrument: string) => InstrumentTerms | undefined;
  private readonly reportsKept: number;
  private readonly live = new Map<number, LiveOrder>();
  /** account -> client order id -> order id, for live orders. */
  private readonly clientIds = new Map<string, Map<string, number>>();
  /** account -> instrument -> position. */
  private readonly positions = new Map<string, Map<string, Position>>();
  private readonly lastPrices = new Map<string, number>();
  /** Trading state by instrument, as the engine last announced it (absent = never changed). */
  private readonly states = new Map<string, InstrumentState>();
  /** Listed instruments (those with terms) whose state is HALTED. */
  private halted = 0;
  /** account -> last report sequence. */
  private readonly sequences = new Map<string, number>();
  /** account -> recent reports (ring, oldest first). */
  private readonly recent = new Map<string, ExecutionReport[]>();
  /** Last (commandSeq, index) applied: events at or before it are ignored (redelivery). */
  private lastSeq = 0;
  private lastIndex = -1;

  constructor(terms: (instrument: string) => InstrumentTerms | undefined, reportsKept = DEFAULT_REPORTS_KEPT) {
    this.terms = terms;
    this.reportsKept = reportsKept;
  }

  /** (commandSeq, index) of the last event applied. */
  get position(): { commandSeq: number; index: number } {
    return { commandSeq: this.lastSeq, index: this.lastIndex };
  }

  private mult(instrument: string): number {
    return this.terms(instrument)?.notionalPerTickLot ?? 1;
  }

  positionOf(account: string, instrument: string): Position {
    let byInstrument = this.positions.get(account);
    if (byInstrument === undefined) {
      byInstrument = new Map();
      this.positions.set(account, byInstrument);
    }
    let p = byInstrument.get(instrument);
    if (p === undefined) {
      p = newPosition();
      byInstrument.set(instrument, p);
    }
    return p;
  }

  /** Every position of an account, by instrument. */
  positionsOf(account: string): ReadonlyMap<string, Position> {
    return this.positions.get(account) ?? new Map();
  }

  instrumentState(instrument: string): InstrumentState | undefined {
    return this.states.get(instrument);
  }

  /** How many listed instruments the engine last announced HALTED. */
  get haltedInstruments(): number {
    return this.halted;
  }

  lastPrice(instrument: string): number {
    return this.lastPrices.get(instrument) ?? 0;
  }

  /** Every account the projection has seen, with its risk summed over instruments (one pass). */
  accountSummaries(): Map<string, AccountRiskSummary> {
    const out = new Map<string, AccountRiskSummary>();
    for (const [account, byInstrument] of this.positions) {
      const s: AccountRiskSummary = {
        openOrders: 0,
        grossPositionLots: 0,
        grossPositionNotional: 0,
        openExposure: 0,
        realisedPnl: 0,
        unrealisedPnl: 0,
      };
      for (const [instrument, p] of byInstrument) {
        const mult = this.mult(instrument);
        const mark = this.lastPrice(instrument) || p.markPrice;
        s.grossPositionLots += Math.abs(p.netQty);
        s.grossPositionNotional += Math.abs(p.netQty) * mark * mult;
        s.openExposure += p.openExposure;
        s.realisedPnl += p.realisedPnl;
        s.unrealisedPnl += unrealisedPnl(p, mult, mark);
      }
      out.set(account, s);
    }
    for (const { order } of this.live.values()) {
      const s = out.get(order.account);
      if (s !== undefined) s.openOrders++;
    }
    return out;
  }

  /** Gross notional of an account's open orders across instruments. */
  openExposure(account: string): number {
    let total = 0;
    for (const p of this.positionsOf(account).values()) total += p.openExposure;
    return total;
  }

  /** The live order an account knows by this client order id, if any. */
  orderIdByClientId(account: string, clientOrderId: string): number | undefined {
    return this.clientIds.get(account)?.get(clientOrderId);
  }

  /** The account's live client order ids (a live view, not a copy: O(1) per order). */
  clientOrderIdsOf(account: string): { has(clientOrderId: string): boolean } {
    return this.clientIds.get(account) ?? NO_IDS;
  }

  openOrders(account: string, instrument = ""): Order[] {
    const out: Order[] = [];
    for (const { order } of this.live.values())
      if (order.account === account && (instrument === "" || order.instrument === instrument)) out.push({ ...order });
    return out.sort((a, b) => a.orderId - b.orderId);
  }

  orderById(orderId: number): Order | undefined {
    const o = this.live.get(orderId)?.order;
    return o === undefined ? undefined : { ...o };
  }

  lastReportSequence(account: string): number {
    return this.sequences.get(account) ?? 0;
  }

  /**
   * Reports of an account after `afterSequence`, oldest first, or undefined when some of
   * them are no longer kept (the client must reconcile with ListOpenOrders).
   */
  reportsSince(account: string, afterSequence: number): ExecutionReport[] | undefined {
    const list = this.recent.get(account) ?? [];
    const last = this.lastReportSequence(account);
    if (afterSequence >= last) return [];
    const first = list[0]?.sequence ?? last + 1;
    if (afterSequence + 1 < first) return undefined;
    return list.slice(afterSequence + 1 - first);
  }

  private track(account: string, clientOrderId: string, orderId: number | undefined): void {
    let ids = this.clientIds.get(account);
    if (ids === undefined) {
      ids = new Map();
      this.clientIds.set(account, ids);
    }
    if (orderId === undefined) ids.delete(clientOrderId);
    else ids.set(clientOrderId, orderId);
  }

  private report(account: string, base: Omit<ExecutionReport, "sequence">): AccountReport {
    const sequence = (this.sequences.get(account) ?? 0) + 1;
    this.sequences.set(account, sequence);
    const report: ExecutionReport = { ...base, sequence };
    let list = this.recent.get(account);
    if (list === undefined) {
      list = [];
      this.recent.set(account, list);
    }
    list.push(report);
    // Trim in chunks (amortised O(1)): at least `reportsKept` stay resumable.
    if (list.length >= this.reportsKept * 2) list.splice(0, list.length - this.reportsKept);
    return { account, report };
  }

  private baseReport(event: EngineEvent, execType: ExecType, order: Order): Omit<ExecutionReport, "sequence"> {
    return {
      execType,
      order: { ...order },
      requestKind: RequestKind.UNSPECIFIED,
      requestClientOrderId: "",
      origClientOrderId: "",
      tradeId: 0,
      lastPrice: 0,
      lastQty: 0,
      lastNotional: 0,
      liquidity: LiquidityIndicator.UNSPECIFIED,
      rejectReason: 0,
      cancelReason: 0,
      text: "",
      commandSeq: event.commandSeq,
      eventIndex: event.index,
      transactTime: event.timestamp,
    };
  }

  /** Removes what a finished or reduced order no longer has working. */
  private reduce(order: Order, qty: number): void {
    if (qty <= 0) return;
    closeOrder(
      this.positionOf(order.account, order.instrument),
      order.side,
      order.price,
      qty,
      this.mult(order.instrument),
    );
  }

  private finish(order: Order, status: OrderStatus): void {
    order.status = status;
    order.leavesQty = 0;
    this.live.delete(order.orderId);
    this.track(order.account, order.clientOrderId, undefined);
  }

  /** Applies one engine event; returns the execution reports it produces, per account. */
  apply(event: EngineEvent): AccountReport[] {
    if (event.commandSeq < this.lastSeq || (event.commandSeq === this.lastSeq && event.index <= this.lastIndex))
      return [];
    this.lastSeq = event.commandSeq;
    this.lastIndex = event.index;
    const body = event.body;
    if (body === undefined) return [];
    const out: AccountReport[] = [];
    switch (body.$case) {
      case "accepted": {
        const a = body.value;
        const order: Order = {
          orderId: a.orderId,
          clientOrderId: a.clientOrderId,
          account: a.account,
          instrument: event.instrument,
          side: a.side,
          orderType: a.orderType,
          timeInForce: a.timeInForce,
          price: a.price,
          stopPrice: a.stopPrice,
          qty: a.qty,
          leavesQty: a.qty,
          cumQty: 0,
          cumNotional: 0,
          status: OrderStatus.NEW,
          postOnly: a.postOnly,
          stpMode: a.stpMode,
          expireTime: a.expireTime,
          createTime: event.timestamp,
          updateTime: event.timestamp,
          displayQty: a.displayQty,
        };
        this.live.set(order.orderId, { order });
        this.track(order.account, order.clientOrderId, order.orderId);
        // Market and untriggered stop orders count at the price risk measured them at (0 here).
        openOrder(
          this.positionOf(order.account, order.instrument),
          order.side,
          order.price,
          order.qty,
          this.mult(order.instrument),
        );
        out.push(
          this.report(order.account, {
            ...this.baseReport(event, ExecType.NEW, order),
            requestKind: RequestKind.NEW_ORDER,
            requestClientOrderId: order.clientOrderId,
          }),
        );
        break;
      }
      case "rejected": {
        const r = body.value;
        const existing = r.orderId > 0 ? this.live.get(r.orderId)?.order : undefined;
        const order: Order =
          existing !== undefined ? { ...existing } : emptyOrder(r.account, event.instrument, r.clientOrderId);
        if (existing === undefined) order.status = OrderStatus.REJECTED;
        out.push(
          this.report(r.account, {
            ...this.baseReport(event, ExecType.REJECTED, order),
            requestKind: r.requestKind,
            requestClientOrderId: r.clientOrderId,
            rejectReason: r.reason,
            text: r.text,
          }),
        );
        break;
      }
      case "trade": {
        const t = body.value;
        this.lastPrices.set(event.instrument, t.price);
        const mult = this.mult(event.instrument);
        for (const [orderId, leaves, liquidity] of [
          [t.makerOrderId, t.makerLeavesQty, LiquidityIndicator.ADDED],
          [t.takerOrderId, t.takerLeavesQty, LiquidityIndicator.REMOVED],
        ] as const) {
          const live = this.live.get(orderId);
          if (live === undefined) continue;
          const order = live.order;
          const position = this.positionOf(order.account, order.instrument);
          applyFill(position, order.side, t.price, t.qty, mult);
          // The fill leaves the working quantity at the order's own price.
          closeOrder(position, order.side, order.price, t.qty, mult);
          order.cumQty += t.qty;
          order.cumNotional += t.price * t.qty * mult;
          order.leavesQty = leaves;
          order.updateTime = event.timestamp;
          if (leaves === 0) this.finish(order, OrderStatus.FILLED);
          else order.status = OrderStatus.PARTIALLY_FILLED;
          out.push(
            this.report(order.account, {
              ...this.baseReport(event, ExecType.TRADE, order),
              tradeId: t.tradeId,
              lastPrice: t.price,
              lastQty: t.qty,
              lastNotional: t.price * t.qty * mult,
              liquidity: t.aggressorSide === Side.UNSPECIFIED ? LiquidityIndicator.AUCTION : liquidity,
            }),
          );
        }
        break;
      }
      case "cancelled":
      case "expired": {
        const v = body.value;
        const live = this.live.get(v.orderId);
        if (live === undefined) break;
        const order = live.order;
        const removed = body.$case === "cancelled" ? body.value.cancelledQty : body.value.expiredQty;
        this.reduce(order, removed);
        order.leavesQty = Math.max(0, order.leavesQty - removed);
        order.updateTime = event.timestamp;
        if (order.leavesQty === 0)
          this.finish(order, body.$case === "cancelled" ? OrderStatus.CANCELLED : OrderStatus.EXPIRED);
        out.push(
          this.report(order.account, {
            ...this.baseReport(event, body.$case === "cancelled" ? ExecType.CANCELLED : ExecType.EXPIRED, order),
            ...(body.$case === "cancelled"
              ? { cancelReason: body.value.reason, requestClientOrderId: body.value.requestClientOrderId }
              : {}),
          }),
        );
        break;
      }
      case "replaced": {
        const r = body.value;
        const live = this.live.get(r.orderId);
        if (live === undefined) break;
        const order = live.order;
        const mult = this.mult(order.instrument);
        const position = this.positionOf(order.account, order.instrument);
        closeOrder(position, order.side, order.price, order.leavesQty, mult);
        openOrder(position, order.side, r.price, r.leavesQty, mult);
        if (r.origClientOrderId !== r.clientOrderId) {
          this.track(order.account, r.origClientOrderId, undefined);
          this.track(order.account, r.clientOrderId, order.orderId);
        }
        order.clientOrderId = r.clientOrderId;
        order.price = r.price;
        order.qty = r.qty;
        order.leavesQty = r.leavesQty;
        order.updateTime = event.timestamp;
        // A replace to a total at or below what has filled ends the order (nothing left working).
        if (r.leavesQty === 0) this.finish(order, OrderStatus.FILLED);
        out.push(
          this.report(order.account, {
            ...this.baseReport(event, ExecType.REPLACED, order),
            requestKind: RequestKind.REPLACE_ORDER,
            requestClientOrderId: r.clientOrderId,
            origClientOrderId: r.origClientOrderId,
          }),
        );
        break;
      }
      case "triggered": {
        const t = body.value;
        const live = this.live.get(t.orderId);
        if (live === undefined) break;
        const order = live.order;
        order.orderType = t.orderType;
        if (t.orderType === OrderType.LIMIT && t.price !== order.price) {
          const mult = this.mult(order.instrument);
          const position = this.positionOf(order.account, order.instrument);
          closeOrder(position, order.side, order.price, order.leavesQty, mult);
          openOrder(position, order.side, t.price, order.leavesQty, mult);
          order.price = t.price;
        }
        if (t.orderType === OrderType.MARKET) order.timeInForce = TimeInForce.IOC;
        order.updateTime = event.timestamp;
        out.push(this.report(order.account, this.baseReport(event, ExecType.TRIGGERED, order)));
        break;
      }
      case "instrumentStateChanged": {
        const before = this.states.get(event.instrument);
        const after = body.value.state;
        if (
          this.terms(event.instrument) !== undefined &&
          (before === InstrumentState.HALTED) !== (after === InstrumentState.HALTED)
        )
          this.halted += after === InstrumentState.HALTED ? 1 : -1;
        this.states.set(event.instrument, after);
        break;
      }
      default:
        break;
    }
    return out;
  }
}

/** The order of a request refused before it became one (no id, no terms). */
export function emptyOrder(account: string, instrument: string, clientOrderId: string): Order {
  return {
    orderId: 0,
    clientOrderId,
    account,
    instrument,
    side: Side.UNSPECIFIED,
    orderType: OrderType.UNSPECIFIED,
    timeInForce: TimeInForce.UNSPECIFIED,
    price: 0,
    stopPrice: 0,
    qty: 0,
    leavesQty: 0,
    cumQty: 0,
    cumNotional: 0,
    status: OrderStatus.REJECTED,
    postOnly: false,
    stpMode: 0,
    expireTime: undefined,
    createTime: undefined,
    updateTime: undefined,
    displayQty: 0,
  };
}
