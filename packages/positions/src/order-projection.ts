import {
  ExecType,
  RejectReason,
  InstrumentState,
  Order as OrderCodec,
  LiquidityIndicator,
  OrderStatus,
  OrderType,
  RequestKind,
  Side,
  TimeInForce,
  ExecutionReport as ExecutionReportCodec,
  type EngineEvent,
  type ExecutionReport,
  type Order,
} from "@tradeplane/contracts";
import { AccountControls } from "./account-controls.ts";
import { baseReport, emptyOrder } from "./execution-reports.ts";
import { applyFill, closeOrder, newPosition, openOrder, unrealisedPnl, type Position } from "./positions.ts";
import {
  decodeBase64,
  jsonSteps,
  type ProjectionSnapshot,
  ProjectionSnapshotError,
  SNAPSHOT_STEP,
  snapshotArray,
  snapshotInt,
  snapshotPosition,
  snapshotString,
} from "./projection-snapshot.ts";
import { rejectText } from "./reject-text.ts";
import { SessionOrders } from "./session-orders.ts";

// Part of this module's API since before they moved (the `/order-projection` entry point).
export { emptyOrder } from "./execution-reports.ts";
export { type ProjectionSnapshot, ProjectionSnapshotError } from "./projection-snapshot.ts";

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

/** How far one engine partition's events are applied: its last (commandSeq, index). */
export interface PartitionMark {
  commandSeq: number;
  index: number;
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
  /** Reference price by instrument, as the engine last announced it with a state change. */
  private readonly references = new Map<string, number>();
  /** Listed instruments (those with terms) whose state is HALTED. */
  private halted = 0;
  /** account -> last report sequence. */
  private readonly sequences = new Map<string, number>();
  /** account -> recent reports (ring, oldest first). */
  private readonly recent = new Map<string, ExecutionReport[]>();
  /** Finished orders and used client order ids of the current trading session. */
  private readonly session = new SessionOrders();
  /**
   * Per engine partition, the last (commandSeq, index) applied: that partition's events at or
   * before it are ignored (a message stored twice). One mark per partition, not one for the
   * stream: each partition's engine publishes into the one event stream on its own, so events
   * of one partition follow events of another with higher command sequences (command sequences
   * come from the one command stream), and a single mark dropped them.
   */
  private readonly marks = new Map<number, PartitionMark>();
  /** Fences and kill-switch blocks per partition, as the engines announced them (ADR 0003). */
  readonly controls = new AccountControls();

  constructor(terms: (instrument: string) => InstrumentTerms | undefined, reportsKept = DEFAULT_REPORTS_KEPT) {
    this.terms = terms;
    this.reportsKept = reportsKept;
  }

  /** (commandSeq, index) of the last event of `partition` applied; commandSeq 0 when none. */
  markOf(partition: number): PartitionMark {
    const mark = this.marks.get(partition);
    return mark === undefined ? { commandSeq: 0, index: -1 } : { ...mark };
  }

  /**
   * The state as plain data. Each account keeps its newest `reportsKept` reports: a client
   * resuming from an older sequence after a restart reconciles with ListOpenOrders. It is
   * what `snapshotJsonSteps` writes, read back: one encoding of the snapshot.
   */
  snapshot(reportsKept = this.reportsKept): ProjectionSnapshot {
    const steps = this.snapshotJsonSteps(reportsKept);
    for (;;) {
      const r = steps.next();
      if (r.done === true) return JSON.parse(Buffer.concat(r.value).toString("utf8")) as ProjectionSnapshot;
    }
  }

  /**
   * The snapshot as JSON text (UTF-8 chunks) written in steps (`perStep` orders or
   * reports each) between which the projection may go on applying events; the result is the
   * state at the time of this call. What it needs is taken now: the small tables whole, the
   * live orders as shallow copies (an order's fields are numbers, strings and timestamps that
   * are replaced, never changed in place) and the kept reports by reference (a report never
   * changes once made). Encoding 200,000 live orders in one piece held the gateway for 2 s.
   */
  snapshotJsonSteps(reportsKept = this.reportsKept, perStep = SNAPSHOT_STEP): Generator<void, Buffer[], void> {
    const tables = this.snapshotTables();
    const orders = Array.from(this.live.values(), ({ order }) => ({ ...order }));
    const reports = Array.from(
      this.recent,
      ([account, list]) => [account, list.slice(Math.max(0, list.length - reportsKept))] as const,
    );
    const { orders: finishedOrders, retired } = this.session.entries();
    return jsonSteps({ ...tables, retiredIds: retired }, orders, finishedOrders, reports, perStep);
  }

  private snapshotTables(): Omit<ProjectionSnapshot, "orders" | "reports" | "finishedOrders"> {
    const positions: [string, string, Position][] = [];
    for (const [account, byInstrument] of this.positions)
      for (const [instrument, p] of byInstrument) positions.push([account, instrument, { ...p, lots: [...p.lots] }]);
    return {
      version: 2,
      marks: Array.from(this.marks, ([partition, m]) => [partition, m.commandSeq, m.index]),
      positions,
      lastPrices: [...this.lastPrices],
      states: [...this.states],
      references: [...this.references],
      sequences: [...this.sequences],
      ...this.controls.entries(),
    };
  }

  /** A projection in the state a snapshot describes; ProjectionSnapshotError if it does not describe one. */
  static restore(
    snapshot: unknown,
    terms: (instrument: string) => InstrumentTerms | undefined,
    reportsKept = DEFAULT_REPORTS_KEPT,
  ): OrderProjection {
    // Version 1 kept one mark for every partition: what it skipped is unknown, so it is not loaded.
    if (typeof snapshot !== "object" || snapshot === null || (snapshot as { version?: unknown }).version !== 2)
      throw new ProjectionSnapshotError("not a version 2 projection snapshot");
    const s = snapshot as Record<string, unknown>;
    const p = new OrderProjection(terms, reportsKept);
    for (const [i, entry] of snapshotArray(s.marks, "marks").entries()) {
      const [partition, commandSeq, index] = snapshotArray(entry, `marks[${i}]`);
      p.marks.set(snapshotInt(partition, `marks[${i}][0]`), {
        commandSeq: snapshotInt(commandSeq, `marks[${i}][1]`),
        index: snapshotInt(index, `marks[${i}][2]`, -1),
      });
    }
    for (const [i, encoded] of snapshotArray(s.orders, "orders").entries()) {
      const order = decodeBase64(OrderCodec, encoded, `orders[${i}]`);
      if (order.orderId <= 0 || order.leavesQty <= 0)
        throw new ProjectionSnapshotError(`orders[${i}]: not a live order`);
      p.live.set(order.orderId, { order });
      p.track(order.account, order.clientOrderId, order.orderId);
    }
    // Finished orders and retired ids: the session's client order ids (older snapshots lack them).
    for (const [i, encoded] of snapshotArray(s.finishedOrders ?? [], "finishedOrders").entries())
      p.session.finished(decodeBase64(OrderCodec, encoded, `finishedOrders[${i}]`));
    for (const [i, entry] of snapshotArray(s.retiredIds ?? [], "retiredIds").entries()) {
      const [account, id, instrument] = snapshotArray(entry, `retiredIds[${i}]`).map((v, j) =>
        snapshotString(v, `retiredIds[${i}][${j}]`),
      );
      p.session.retired(account!, id!, instrument!);
    }
    for (const [i, entry] of snapshotArray(s.positions, "positions").entries()) {
      const [account, instrument, position] = snapshotArray(entry, `positions[${i}]`);
      const byInstrument =
        p.positions.get(snapshotString(account, `positions[${i}][0]`)) ?? new Map<string, Position>();
      p.positions.set(account as string, byInstrument);
      byInstrument.set(
        snapshotString(instrument, `positions[${i}][1]`),
        snapshotPosition(position, `positions[${i}][2]`),
      );
    }
    for (const [i, entry] of snapshotArray(s.lastPrices, "lastPrices").entries()) {
      const [instrument, price] = snapshotArray(entry, `lastPrices[${i}]`);
      p.lastPrices.set(snapshotString(instrument, `lastPrices[${i}][0]`), snapshotInt(price, `lastPrices[${i}][1]`));
    }
    for (const [i, entry] of snapshotArray(s.states, "states").entries()) {
      const [instrument, state] = snapshotArray(entry, `states[${i}]`);
      const symbol = snapshotString(instrument, `states[${i}][0]`);
      const value = snapshotInt(state, `states[${i}][1]`) as InstrumentState;
      p.states.set(symbol, value);
      if (value === InstrumentState.HALTED && terms(symbol) !== undefined) p.halted++;
    }
    for (const [i, entry] of snapshotArray(s.references ?? [], "references").entries()) {
      const [instrument, price] = snapshotArray(entry, `references[${i}]`);
      p.references.set(snapshotString(instrument, `references[${i}][0]`), snapshotInt(price, `references[${i}][1]`, 1));
    }
    const fences = snapshotArray(s.fences ?? [], "fences").map((entry, i): [string, number, number] => {
      const [account, partition, epoch] = snapshotArray(entry, `fences[${i}]`);
      return [
        snapshotString(account, `fences[${i}][0]`),
        snapshotInt(partition, `fences[${i}][1]`),
        snapshotInt(epoch, `fences[${i}][2]`, 1),
      ];
    });
    const blocks = snapshotArray(s.blocks ?? [], "blocks").map((entry, i): [string, number] => {
      const [account, partition] = snapshotArray(entry, `blocks[${i}]`);
      return [snapshotString(account, `blocks[${i}][0]`), snapshotInt(partition, `blocks[${i}][1]`)];
    });
    p.controls.load(fences, blocks);
    for (const [i, entry] of snapshotArray(s.sequences, "sequences").entries()) {
      const [account, sequence] = snapshotArray(entry, `sequences[${i}]`);
      p.sequences.set(snapshotString(account, `sequences[${i}][0]`), snapshotInt(sequence, `sequences[${i}][1]`));
    }
    for (const [i, entry] of snapshotArray(s.reports, "reports").entries()) {
      const [account, list] = snapshotArray(entry, `reports[${i}]`);
      const name = snapshotString(account, `reports[${i}][0]`);
      const reports = snapshotArray(list, `reports[${i}][1]`).map((r, j) =>
        decodeBase64(ExecutionReportCodec, r, `reports[${i}][1][${j}]`),
      );
      // Resuming relies on consecutive sequences that end at the account's last one.
      const last = p.sequences.get(name) ?? 0;
      if (reports.some((r, j) => r.sequence !== last - reports.length + 1 + j))
        throw new ProjectionSnapshotError(`reports[${i}]: sequences of ${name} are not consecutive up to ${last}`);
      p.recent.set(name, reports);
    }
    return p;
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

  /** Accounts with a position entry (traded, or had orders), in no set order. */
  positionAccounts(): string[] {
    return [...this.positions.keys()];
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

  /** The instrument's reference price as the engine last announced it (VenueAdmin.ChangeSession), if it did. */
  referencePrice(instrument: string): number | undefined {
    return this.references.get(instrument);
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

  /**
   * Absolute notional of an account's positions at mark (the instrument's last trade, else
   * the position's own mark), over every instrument: with its open exposure, the account's
   * credit use (risk_admin.proto's credit_limit).
   */
  positionsNotional(account: string): number {
    let total = 0;
    for (const [instrument, p] of this.positionsOf(account)) {
      if (p.netQty === 0) continue;
      const mark = this.lastPrice(instrument) || p.markPrice;
      total += Math.abs(p.netQty) * mark * this.mult(instrument);
    }
    return total;
  }

  /** The live order an account knows by this client order id, if any. */
  orderIdByClientId(account: string, clientOrderId: string): number | undefined {
    return this.clientIds.get(account)?.get(clientOrderId);
  }

  /**
   * The account's client order ids in use: those of its live orders and those it used this
   * trading session (a live view, not a copy: O(1) per order).
   */
  clientOrderIdsOf(account: string): { has(clientOrderId: string): boolean } {
    const live = this.clientIds.get(account) ?? NO_IDS;
    return { has: (id) => live.has(id) || this.session.used(account, id) };
  }

  /** The account's order `orderId` if it finished this trading session (a copy). */
  finishedOrder(account: string, orderId: number): Order | undefined {
    const o = this.session.order(account, orderId);
    return o === undefined ? undefined : { ...o };
  }

  /** The account's finished order that last had `clientOrderId` this trading session (a copy). */
  finishedOrderByClientId(account: string, clientOrderId: string): Order | undefined {
    const o = this.session.orderByClientId(account, clientOrderId);
    return o === undefined ? undefined : { ...o };
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

  /**
   * One order of `account` by venue order id or client order id (current, or one it had
   * before a replace): live; finished this trading session (the session's finished orders);
   * or, for a request refused before it had a venue id, its own kept report. Never another
   * account's order: a reject of this account's request about another's carries none.
   */
  findOrder(account: string, target: { orderId: number } | { clientOrderId: string }): Order | undefined {
    const orderId = "orderId" in target ? target.orderId : this.orderIdByClientId(account, target.clientOrderId);
    if (orderId !== undefined && orderId !== 0) {
      const live = this.live.get(orderId)?.order;
      if (live !== undefined) return live.account === account ? { ...live } : undefined;
      const finished = this.finishedOrder(account, orderId);
      if (finished !== undefined) return finished;
    }
    if ("clientOrderId" in target) {
      const finished = this.finishedOrderByClientId(account, target.clientOrderId);
      if (finished !== undefined) return finished;
    }
    // Kept reports: finished orders of an earlier session, and refused requests (venue id 0).
    const list = this.recent.get(account) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const r = list[i]!;
      const o = r.order;
      if (o === undefined || o.account !== account) continue;
      const matches =
        "orderId" in target
          ? target.orderId !== 0 && o.orderId === target.orderId
          : o.clientOrderId === target.clientOrderId || r.origClientOrderId === target.clientOrderId;
      if (matches) return { ...o };
    }
    return undefined;
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

  /** Numbers `report` (built by baseReport, completed in place) in its account's sequence and keeps it. */
  private report(account: string, report: ExecutionReport): AccountReport {
    const sequence = (this.sequences.get(account) ?? 0) + 1;
    this.sequences.set(account, sequence);
    report.sequence = sequence;
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
    this.session.finished(order);
  }

  /**
   * Applies one event of engine partition `partition` (the event subject's partition token);
   * returns the execution reports it produces, per account.
   */
  apply(event: EngineEvent, partition: number): AccountReport[] {
    let mark = this.marks.get(partition);
    if (mark === undefined) {
      mark = { commandSeq: 0, index: -1 };
      this.marks.set(partition, mark);
    } else if (
      event.commandSeq < mark.commandSeq ||
      (event.commandSeq === mark.commandSeq && event.index <= mark.index)
    )
      return [];
    mark.commandSeq = event.commandSeq;
    mark.index = event.index;
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
          this.report(
            order.account,
            Object.assign(baseReport(event, ExecType.NEW, order), {
              requestKind: RequestKind.NEW_ORDER,
              requestClientOrderId: order.clientOrderId,
            }),
          ),
        );
        break;
      }
      case "rejected": {
        const r = body.value;
        const live = r.orderId > 0 ? this.live.get(r.orderId)?.order : undefined;
        // A refused request about another account's order says nothing about that order.
        const own = live?.account === r.account ? live : undefined;
        // The engine forgets finished orders; the session does not: a cancel or replace of one
        // of the account's finished orders is ORDER_FINISHED, with the order, as documented.
        const finished =
          own === undefined && r.reason === RejectReason.UNKNOWN_ORDER && r.orderId > 0
            ? this.session.order(r.account, r.orderId)
            : undefined;
        const existing = own ?? finished;
        const order: Order =
          existing !== undefined ? { ...existing } : emptyOrder(r.account, event.instrument, r.clientOrderId);
        if (existing === undefined) order.status = OrderStatus.REJECTED;
        out.push(
          this.report(
            r.account,
            Object.assign(baseReport(event, ExecType.REJECTED, order), {
              requestKind: r.requestKind,
              requestClientOrderId: r.clientOrderId,
              rejectReason: finished === undefined ? r.reason : RejectReason.ORDER_FINISHED,
              text: finished === undefined ? rejectText(r.reason, r.text) : `order ${r.orderId} is finished`,
            }),
          ),
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
            this.report(
              order.account,
              Object.assign(baseReport(event, ExecType.TRADE, order), {
                tradeId: t.tradeId,
                lastPrice: t.price,
                lastQty: t.qty,
                lastNotional: t.price * t.qty * mult,
                liquidity: t.aggressorSide === Side.UNSPECIFIED ? LiquidityIndicator.AUCTION : liquidity,
              }),
            ),
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
        // Part of a live order taken away (self-trade prevention DECREMENT) is a restatement of a
        // live order, not its end: its total shrinks with it, and it keeps working.
        const restated = body.$case === "cancelled" && order.leavesQty > 0;
        if (restated) order.qty -= removed;
        if (order.leavesQty === 0)
          this.finish(order, body.$case === "cancelled" ? OrderStatus.CANCELLED : OrderStatus.EXPIRED);
        const execType = restated
          ? ExecType.RESTATED
          : body.$case === "cancelled"
            ? ExecType.CANCELLED
            : ExecType.EXPIRED;
        out.push(
          this.report(
            order.account,
            Object.assign(
              baseReport(event, execType, order),
              body.$case === "cancelled"
                ? { cancelReason: body.value.reason, requestClientOrderId: body.value.requestClientOrderId }
                : {},
            ),
          ),
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
          this.session.retired(order.account, r.origClientOrderId, order.instrument);
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
          this.report(
            order.account,
            Object.assign(baseReport(event, ExecType.REPLACED, order), {
              requestKind: RequestKind.REPLACE_ORDER,
              requestClientOrderId: r.clientOrderId,
              origClientOrderId: r.origClientOrderId,
            }),
          ),
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
        out.push(this.report(order.account, baseReport(event, ExecType.TRIGGERED, order)));
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
        if (body.value.referencePrice > 0) this.references.set(event.instrument, body.value.referencePrice);
        // The instrument's trading session is over: its finished orders' ids may be used again.
        if (after === InstrumentState.CLOSED && before !== InstrumentState.CLOSED)
          this.session.closed(event.instrument);
        break;
      }
      case "accountFenced":
      case "accountBlockChanged":
        this.controls.apply(body, partition);
        break;
      default:
        break;
    }
    return out;
  }
}
