import type { Metadata } from "@grpc/grpc-js";
import {
  Side,
  type AuditEvent,
  type GetClearingObligationsRequest,
  type GetClearingObligationsResponse,
  type GetOrderAuditTrailRequest,
  type GetOrderAuditTrailResponse,
  type GetOrderToTradeRatioRequest,
  type GetOrderToTradeRatioResponse,
  type GetTradeRegisterRequest,
  type GetTradeRegisterResponse,
  type JournalExecution,
  type JournalQueryServer,
  type ListTradesRequest,
  type ListTradesResponse,
  type Timestamp,
} from "@tradeplane/contracts";
import {
  FailedPreconditionError,
  NotFoundError,
  TradeplaneError,
  unaryHandler,
  ValidationError,
  type AdminAuthority,
  type Logger,
} from "@tradeplane/platform";
import { auditSteps } from "../domain/audit-trail.ts";
import { clearingObligations, UnknownInstrumentError } from "../domain/clearing.ts";
import { orderToTradeRatios } from "../domain/order-to-trade.ts";
import { checkOrderId, type QueryRefusal } from "../domain/queries.ts";
import {
  checkAccountFilter,
  checkExecutionsQuery,
  checkRegisterPage,
  checkTradingDay,
} from "../domain/report-queries.ts";
import { settlementDate, tradingDayRange, type TradingCalendar } from "../domain/trading-calendar.ts";
import {
  executionsByPrice,
  listExecutions,
  orderEvents,
  orderMessageCounts,
  registerTrades,
} from "./journal-reports.ts";
import type { SqlExecutor } from "./sql-store.ts";

export interface JournalQueryDeps {
  readonly db: SqlExecutor;
  readonly admin: AdminAuthority;
  readonly calendar: TradingCalendar;
  /** Notional units of one lot at one tick, per instrument (from the venue spec). */
  readonly notionalPerTickLot: ReadonlyMap<string, number>;
  readonly currency: string;
  readonly notionalExponent: number;
  readonly logger: Logger;
  /** Called after each call with its method and outcome code ("OK" or the error's code). */
  readonly onCall?: (method: string, code: string) => void;
}

/** A refused query, as INVALID_ARGUMENT naming the field's reason code. */
function refused(refusal: QueryRefusal): ValidationError {
  return new ValidationError(`${refusal.reason}: ${refusal.message}`);
}

const usOf = (t: Timestamp | undefined): number | undefined =>
  t === undefined ? undefined : t.seconds * 1_000_000 + Math.floor(t.nanos / 1000);

const timestampOfUs = (us: number): Timestamp => ({
  seconds: Math.floor(us / 1_000_000),
  nanos: (((us % 1_000_000) + 1_000_000) % 1_000_000) * 1000,
});

const sideOf = (side: string) => (side === "BUY" ? Side.BUY : Side.SELL);

/** A BigInt sum as an int64 field: below 2^53, or the call fails rather than round. */
function int64(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new FailedPreconditionError(`${what} does not fit an int64 below 2^53: ${value}`);
  return Number(value);
}

/**
 * The JournalQuery gRPC service: checks the admin token (every role reads), checks the
 * request into a bounded query (pure), runs the SQL (journal-reports.ts), aggregates in the
 * domain modules and maps rows to wire messages. Values are exact: price x qty x the
 * instrument's notional per tick and lot, multiplied in BigInt.
 */
export function journalQueryService(deps: JournalQueryDeps): JournalQueryServer {
  const { db, calendar } = deps;
  const unitOf = (instrument: string): bigint | undefined => {
    const unit = deps.notionalPerTickLot.get(instrument);
    return unit === undefined ? undefined : BigInt(unit);
  };
  const valueOf = (instrument: string, price: number, qty: number): number => {
    const unit = unitOf(instrument);
    if (unit === undefined) throw refused(new UnknownInstrumentError(instrument));
    return int64(BigInt(price) * BigInt(qty) * unit, `the value of ${qty} lots of ${instrument}`);
  };
  const handle = <Req, Res>(method: string, run: (req: Req) => Promise<Res>) =>
    unaryHandler<Req, Res>(deps.logger, async (req: Req, metadata: Metadata) => {
      try {
        deps.admin.authorise(metadata, "read", `JournalQuery/${method}`);
        const res = await run(req);
        deps.onCall?.(method, "OK");
        return res;
      } catch (err) {
        deps.onCall?.(method, err instanceof TradeplaneError ? err.code : "INTERNAL");
        throw err;
      }
    });
  const dayRange = (day: string) => {
    const refusal = checkTradingDay(day);
    if (refusal !== undefined) throw refused(refusal);
    return tradingDayRange(calendar, day);
  };
  const accountFilter = (account: string): string => {
    const refusal = checkAccountFilter(account);
    if (refusal !== undefined) throw refused(refusal);
    return account;
  };

  return {
    listTrades: handle("ListTrades", async (req: ListTradesRequest): Promise<ListTradesResponse> => {
      const from = usOf(req.fromTime);
      const to = usOf(req.toTime);
      const checked = checkExecutionsQuery({
        account: req.account,
        instrument: req.instrument,
        ...(from !== undefined ? { fromUs: from } : {}),
        ...(to !== undefined ? { toUs: to } : {}),
        limit: req.limit,
        afterCommandSeq: req.afterCommandSeq,
        afterIndex: req.afterIndex,
        afterRole: req.afterRole,
      });
      if (!checked.ok) throw refused(checked.refusal);
      const { rows, more } = await listExecutions(db, checked.value);
      return {
        executions: rows.map((r): JournalExecution => ({
          commandSeq: r.commandSeq,
          index: r.index,
          role: r.role.toUpperCase(),
          account: r.account,
          orderId: r.orderId,
          instrument: r.instrument,
          side: sideOf(r.side),
          price: r.price,
          qty: r.qty,
          value: valueOf(r.instrument, r.price, r.qty),
          time: timestampOfUs(r.timeUs),
        })),
        more,
      };
    }),

    getOrderAuditTrail: handle(
      "GetOrderAuditTrail",
      async (req: GetOrderAuditTrailRequest): Promise<GetOrderAuditTrailResponse> => {
        const refusal = checkOrderId(req.orderId);
        if (refusal !== undefined) throw refused(refusal);
        const rows = await orderEvents(db, req.orderId);
        if (rows.length === 0) throw new NotFoundError(`the journal holds no event of order ${req.orderId}`);
        const steps = auditSteps(req.orderId, rows);
        return {
          orderId: req.orderId,
          instrument: rows[0]!.instrument,
          account: rows.find((r) => r.kind === "accepted")?.account ?? rows[0]!.account,
          events: steps.map((s): AuditEvent => ({
            commandSeq: s.commandSeq,
            index: s.index,
            logEntry: s.logEntry,
            eventStreamSeq: s.streamSeq,
            kind: s.kind,
            account: s.account,
            time: timestampOfUs(s.timeUs),
            filledQty: s.filledQty,
            leavesQty: s.leavesQty,
            eventJson: s.eventJson,
          })),
        };
      },
    ),

    getOrderToTradeRatio: handle(
      "GetOrderToTradeRatio",
      async (req: GetOrderToTradeRatioRequest): Promise<GetOrderToTradeRatioResponse> => {
        const { fromUs, toUs } = dayRange(req.tradingDay);
        const counts = await orderMessageCounts(db, fromUs, toUs, accountFilter(req.account));
        return {
          tradingDay: req.tradingDay,
          ratios: orderToTradeRatios(counts).map((r) => ({
            account: r.account,
            orders: r.orders,
            entries: r.entries,
            modifications: r.modifications,
            cancellations: r.cancellations,
            trades: r.trades,
            ratioMilli: r.ratioMilli,
          })),
        };
      },
    ),

    getTradeRegister: handle(
      "GetTradeRegister",
      async (req: GetTradeRegisterRequest): Promise<GetTradeRegisterResponse> => {
        const { fromUs, toUs } = dayRange(req.tradingDay);
        const page = checkRegisterPage(req.limit, req.afterCommandSeq, req.afterIndex);
        if (!page.ok) throw refused(page.refusal);
        const { rows, more } = await registerTrades(db, fromUs, toUs, page.value);
        return {
          tradingDay: req.tradingDay,
          trades: rows.map((t) => {
            const buyIsTaker = t.aggressorSide === "BUY";
            return {
              commandSeq: t.commandSeq,
              index: t.index,
              tradeId: t.tradeId,
              instrument: t.instrument,
              price: t.price,
              qty: t.qty,
              value: valueOf(t.instrument, t.price, t.qty),
              aggressorSide: sideOf(t.aggressorSide),
              buyAccount: buyIsTaker ? t.takerAccount : t.makerAccount,
              buyOrderId: buyIsTaker ? t.takerOrderId : t.makerOrderId,
              sellAccount: buyIsTaker ? t.makerAccount : t.takerAccount,
              sellOrderId: buyIsTaker ? t.makerOrderId : t.takerOrderId,
              time: timestampOfUs(t.timeUs),
            };
          }),
          more,
          currency: deps.currency,
          notionalExponent: deps.notionalExponent,
        };
      },
    ),

    getClearingObligations: handle(
      "GetClearingObligations",
      async (req: GetClearingObligationsRequest): Promise<GetClearingObligationsResponse> => {
        const { fromUs, toUs } = dayRange(req.tradingDay);
        const executions = await executionsByPrice(db, fromUs, toUs, accountFilter(req.account));
        let obligations;
        try {
          obligations = clearingObligations(executions, unitOf);
        } catch (err) {
          if (err instanceof UnknownInstrumentError) throw refused(err);
          throw err;
        }
        return {
          tradingDay: req.tradingDay,
          settlementDate: settlementDate(calendar, req.tradingDay),
          securities: obligations.securities.map((s) => ({
            account: s.account,
            instrument: s.instrument,
            boughtQty: int64(s.boughtQty, "a bought quantity"),
            soldQty: int64(s.soldQty, "a sold quantity"),
            netQty: int64(s.netQty, "a net quantity"),
            boughtValue: int64(s.boughtValue, "a bought value"),
            soldValue: int64(s.soldValue, "a sold value"),
            netValue: int64(s.netValue, "a net value"),
          })),
          funds: obligations.funds.map((f) => ({ account: f.account, netFunds: int64(f.netFunds, "net funds") })),
          currency: deps.currency,
          notionalExponent: deps.notionalExponent,
        };
      },
    ),
  };
}
