import type { Side } from "@tradeplane/contracts";
import {
  ExecType,
  OrderStatus,
  type ExecutionReport,
  type Order,
  type Position as WirePosition,
} from "@tradeplane/contracts";
import { applyFill, newPosition, unrealisedPnl, type Position } from "@tradeplane/positions";

/** What applying one report did: `gap` means reports were missed (resume from `resumeFrom`). */
export type ReportVerdict = "applied" | "duplicate" | "gap";

/** An order sent but not yet answered by a report: it counts toward open quantity meanwhile. */
export interface PendingOrder {
  readonly instrument: string;
  readonly side: Side;
  readonly price: number;
  readonly qty: number;
}

/** The server's view to start from (ListOpenOrders and GetAccountPositions). */
export interface AccountBaseline {
  readonly orders: readonly Order[];
  /** ListOpenOrders' as_of_sequence. */
  readonly ordersAsOf: number;
  readonly positions: readonly WirePosition[];
  /** GetAccountPositions' as_of_report_sequence. */
  readonly positionsAsOf: number;
}

const FINISHED: ReadonlySet<number> = new Set([
  OrderStatus.FILLED,
  OrderStatus.CANCELLED,
  OrderStatus.REJECTED,
  OrderStatus.EXPIRED,
]);

/**
 * `orders` ascending by order id, in place. Orders enter the working map as they are
 * accepted, with ever larger ids, so the list is nearly always in order already: a scan
 * instead of a sort then (which allocates its work space, once per report).
 */
function byOrderId(orders: Order[]): Order[] {
  for (let i = 1; i < orders.length; i++)
    if (orders[i - 1]!.orderId > orders[i]!.orderId) return orders.sort((a, b) => a.orderId - b.orderId);
  return orders;
}

/**
 * One account's working orders and positions as a client keeps them: loaded from the
 * gateway's baseline, then moved forward by execution reports in sequence. Positions use
 * the venue's own FIFO arithmetic (`@tradeplane/positions`), so realised and unrealised P&L
 * agree with the gateway's to the minor unit. Pure: the caller brings the reports.
 *
 * Orders and positions have their own watermark because the two baseline reads answer at
 * slightly different sequences; a report moves each part only past its own watermark.
 */
export class AccountState {
  private readonly working = new Map<number, Order>();
  private readonly byClientId = new Map<string, number>();
  private readonly positions = new Map<string, Position>();
  private readonly pending = new Map<string, PendingOrder>();
  private ordersAsOf = 0;
  private sorted: Order[] | undefined;
  /**
   * Per instrument, the working orders as `openOrdersView` hands them out, valid while their
   * `epoch` is `viewsEpoch` (moved on with `sorted`: clearing the Map per report allocated a
   * new table each time).
   */
  private readonly views = new Map<string, { epoch: number; orders: readonly Order[] }>();
  private viewsEpoch = 0;
  private positionsAsOf = 0;
  private readonly notionalPerTickLot: (instrument: string) => number;

  constructor(notionalPerTickLot: (instrument: string) => number) {
    this.notionalPerTickLot = notionalPerTickLot;
  }

  /** The first report sequence this state still needs. */
  get resumeFrom(): number {
    return Math.min(this.ordersAsOf, this.positionsAsOf) + 1;
  }

  /** The last report sequence both parts include. */
  get lastSequence(): number {
    return Math.min(this.ordersAsOf, this.positionsAsOf);
  }

  /** Replaces everything with the server's view (after a restart, or a gap it cannot replay). */
  load(baseline: AccountBaseline): void {
    this.sorted = undefined;
    this.viewsEpoch++;
    this.working.clear();
    this.byClientId.clear();
    this.positions.clear();
    for (const o of baseline.orders) this.track(o);
    for (const p of baseline.positions) {
      this.positions.set(p.instrument, {
        ...newPosition(),
        netQty: p.netQty,
        boughtQty: p.boughtQty,
        soldQty: p.soldQty,
        realisedPnl: p.realisedPnl,
        openCost: p.openCost,
        markPrice: p.markPrice,
        lots: [...p.openLots],
      });
    }
    this.ordersAsOf = baseline.ordersAsOf;
    this.positionsAsOf = baseline.positionsAsOf;
  }

  /** An order is on its way to the gateway. */
  addPending(clientOrderId: string, order: PendingOrder): void {
    this.pending.set(clientOrderId, order);
  }

  /** The gateway refused a request before the log (its ack): nothing is pending for it any more. */
  refused(clientOrderId: string): void {
    this.pending.delete(clientOrderId);
  }

  apply(report: ExecutionReport): ReportVerdict {
    const order = report.order;
    if (report.requestClientOrderId !== "") this.pending.delete(report.requestClientOrderId);
    if (order !== undefined && order.clientOrderId !== "") this.pending.delete(order.clientOrderId);
    // A risk reject never reached the log: it has no sequence and changes nothing else.
    if (report.sequence === 0) return "applied";
    const seq = report.sequence;
    const forOrders = seq > this.ordersAsOf;
    const forPositions = seq > this.positionsAsOf;
    if (!forOrders && !forPositions) return "duplicate";
    if ((forOrders && seq !== this.ordersAsOf + 1) || (forPositions && seq !== this.positionsAsOf + 1)) return "gap";
    if (forOrders) {
      if (order !== undefined && order.orderId !== 0) this.track(order);
      this.ordersAsOf = seq;
    }
    if (forPositions) {
      if (report.execType === ExecType.TRADE && order !== undefined) {
        const position = this.positionOf(order.instrument);
        applyFill(position, order.side, report.lastPrice, report.lastQty, this.notionalPerTickLot(order.instrument));
      }
      this.positionsAsOf = seq;
    }
    return "applied";
  }

  private track(order: Order): void {
    this.sorted = undefined;
    this.viewsEpoch++;
    const previous = this.working.get(order.orderId);
    if (previous !== undefined) this.byClientId.delete(previous.clientOrderId);
    if (FINISHED.has(order.status)) {
      this.working.delete(order.orderId);
      return;
    }
    this.working.set(order.orderId, order);
    this.byClientId.set(order.clientOrderId, order.orderId);
  }

  private positionOf(instrument: string): Position {
    let p = this.positions.get(instrument);
    if (p === undefined) {
      p = newPosition();
      this.positions.set(instrument, p);
    }
    return p;
  }

  /** Working orders (NEW or PARTIALLY_FILLED), ascending by order id; `instrument` "" = all. */
  openOrders(instrument = ""): Order[] {
    // Strategies ask on every event; the list changes only with a report.
    this.sorted ??= byOrderId([...this.working.values()]);
    return instrument === "" ? [...this.sorted] : this.sorted.filter((o) => o.instrument === instrument);
  }

  /**
   * `openOrders` as one shared, frozen list per instrument until the next report changes it:
   * a quoting strategy asks several times per market event, and a backtest delivers millions.
   */
  openOrdersView(instrument = ""): readonly Order[] {
    const view = this.views.get(instrument);
    if (view !== undefined && view.epoch === this.viewsEpoch) return view.orders;
    const orders = Object.freeze(this.openOrders(instrument));
    if (view === undefined) this.views.set(instrument, { epoch: this.viewsEpoch, orders });
    else {
      view.epoch = this.viewsEpoch;
      view.orders = orders;
    }
    return orders;
  }

  orderByClientId(clientOrderId: string): Order | undefined {
    const id = this.byClientId.get(clientOrderId);
    return id === undefined ? undefined : this.working.get(id);
  }

  /** Client order ids that are working or on their way (the gateway refuses a duplicate). */
  hasClientOrderId(clientOrderId: string): boolean {
    return this.byClientId.has(clientOrderId) || this.pending.has(clientOrderId);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Net position in lots (long > 0). */
  netQty(instrument: string): number {
    return this.positions.get(instrument)?.netQty ?? 0;
  }

  /** Working plus pending quantity of one side, in lots. */
  openQty(instrument: string, side: Side): number {
    let qty = 0;
    for (const o of this.working.values()) if (o.instrument === instrument && o.side === side) qty += o.leavesQty;
    for (const p of this.pending.values()) if (p.instrument === instrument && p.side === side) qty += p.qty;
    return qty;
  }

  /** Gross notional of working and pending orders over every instrument, minor units. */
  openExposure(): number {
    let sum = 0;
    for (const o of this.working.values()) sum += o.price * o.leavesQty * this.notionalPerTickLot(o.instrument);
    for (const p of this.pending.values()) sum += p.price * p.qty * this.notionalPerTickLot(p.instrument);
    return sum;
  }

  /** Realised P&L and unrealised at `markPrice` (default: the last fill), minor units. */
  pnl(instrument: string, markPrice?: number): { realised: number; unrealised: number } {
    const p = this.positions.get(instrument);
    if (p === undefined) return { realised: 0, unrealised: 0 };
    return { realised: p.realisedPnl, unrealised: unrealisedPnl(p, this.notionalPerTickLot(instrument), markPrice) };
  }

  /** Instruments with a position entry. */
  instruments(): string[] {
    return [...this.positions.keys()].sort();
  }

  /** A copy of one position, for reports and tests. */
  position(instrument: string): Position {
    const p = this.positions.get(instrument) ?? newPosition();
    return { ...p, lots: [...p.lots] };
  }
}
