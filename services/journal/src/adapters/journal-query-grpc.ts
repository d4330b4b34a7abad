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
  AuthError,
  bearerToken,
  FailedPreconditionError,
  NotFoundError,
  TradeplaneError,
  unaryHandler,
  ValidationError,
  type AdminAuthority,
  type Logger,
} from "@tradeplane/platform";
import { mayReadOrder, mayReadRegister, scopedAccount, type CallerScope } from "../domain/caller-scope.ts";
import { auditSteps } from "../domain/audit-trail.ts";
import { clearingObligations, UnknownInstrumentError } from "../domain/clearing.ts";
import type { TermsHistory } from "../domain/instrument-terms.ts";
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
import { termsHistory } from "./instrument-terms-store.ts";
import type { SqlExecutor } from "./sql-store.ts";

export interface JournalQueryDeps {
  readonly db: SqlExecutor;
  readonly admin: AdminAuthority;
  /** The accounts a trading token may read (its own); absent = admin tokens only. */
  readonly tradingAccounts?: (token: string) => Promise<{ principal: string; accounts: string[] } | undefined>;
  readonly calendar: TradingCalendar;
  readonly currency: string;
  readonly notionalExponent: number;
  readonly logger: Logger;
  /** Called after each call with its method, outcome code, time and the rows it returned. */
  readonly onCall?: (call: QueryCall) => void;
}

/** One JournalQuery call as the metrics see it. */
export interface QueryCall {
  readonly method: string;
  /** "OK", the error's code, or "INTERNAL" for anything else that failed. */
  readonly code: string;
  /** From the request's arrival to its answer (or error), seconds. */
  readonly seconds: number;
  /** Rows of the answer (0 for an error): trades, audit events, ratios, register lines, obligations. */
  readonly rows: number;
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
 * instrument's notional per tick and lot in force at the trade's time (instrument_terms),
 * multiplied in BigInt.
 */
export function journalQueryService(deps: JournalQueryDeps): JournalQueryServer {
  const { db, calendar } = deps;
  /** A trade's value with its instrument's terms at its time (recorded in instrument_terms). */
  const valueOf = (terms: TermsHistory, instrument: string, timeUs: number, price: number, qty: number): number => {
    const unit = terms.unitAt(instrument, timeUs);
    if (unit === undefined) throw refused(new UnknownInstrumentError(instrument));
    return int64(BigInt(price) * BigInt(qty) * unit, `the value of ${qty} lots of ${instrument}`);
  };
  /** Who calls: an admin token (any role reads every account), else a trading token (its own accounts). */
  const scopeOf = async (metadata: Metadata, method: string): Promise<CallerScope> => {
    try {
      return { kind: "admin", principal: deps.admin.authorise(metadata, "read", `JournalQuery/${method}`) };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      const token = bearerToken(metadata);
      if (token === "") throw new AuthError("UNAUTHENTICATED", "a bearer token (admin or trading) is required");
      const trading = await deps.tradingAccounts?.(token);
      if (trading === undefined) throw new AuthError("UNAUTHENTICATED", "unknown token");
      return { kind: "account", ...trading };
    }
  };
  /** A method's handler: `rows` counts the rows of its answer, for the metrics. */
  const handle = <Req, Res>(
    method: string,
    rows: (res: Res) => number,
    run: (req: Req, scope: CallerScope) => Promise<Res>,
  ) =>
    unaryHandler<Req, Res>(deps.logger, async (req: Req, metadata: Metadata) => {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const res = await run(req, await scopeOf(metadata, method));
        deps.onCall?.({ method, code: "OK", seconds: seconds(), rows: rows(res) });
        return res;
      } catch (err) {
        const code = err instanceof TradeplaneError ? err.code : "INTERNAL";
        deps.onCall?.({ method, code, seconds: seconds(), rows: 0 });
        if (err instanceof AuthError) deps.logger.warn({ call: method, code: err.code }, "query refused");
        throw err;
      }
    });
  const dayRange = (day: string) => {
    const refusal = checkTradingDay(day);
    if (refusal !== undefined) throw refused(refusal);
    return tradingDayRange(calendar, day);
  };
  /** The account filter a call runs with: checked, then narrowed to what the caller may read. */
  const accountFilter = (scope: CallerScope, account: string): string => {
    const refusal = checkAccountFilter(account);
    if (refusal !== undefined) throw refused(refusal);
    const decision = scopedAccount(scope, account);
    if (!decision.ok) throw new AuthError("PERMISSION_DENIED", decision.message);
    return decision.account;
  };

  return {
    listTrades: handle(
      "ListTrades",
      (res: ListTradesResponse) => res.executions.length,
      async (req: ListTradesRequest, scope): Promise<ListTradesResponse> => {
        const from = usOf(req.fromTime);
        const to = usOf(req.toTime);
        const checked = checkExecutionsQuery({
          account: accountFilter(scope, req.account),
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
        const terms = await termsHistory(db);
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
            value: valueOf(terms, r.instrument, r.timeUs, r.price, r.qty),
            time: timestampOfUs(r.timeUs),
          })),
          more,
        };
      },
    ),

    getOrderAuditTrail: handle(
      "GetOrderAuditTrail",
      (res: GetOrderAuditTrailResponse) => res.events.length,
      async (req: GetOrderAuditTrailRequest, scope): Promise<GetOrderAuditTrailResponse> => {
        const refusal = checkOrderId(req.orderId);
        if (refusal !== undefined) throw refused(refusal);
        const rows = await orderEvents(db, req.orderId);
        const account = rows.find((r) => r.kind === "accepted")?.account ?? rows[0]?.account ?? "";
        // Another account's order reads exactly as one that does not exist.
        if (rows.length === 0 || !mayReadOrder(scope, account))
          throw new NotFoundError(`the journal holds no event of order ${req.orderId}`);
        const steps = auditSteps(req.orderId, rows);
        return {
          orderId: req.orderId,
          instrument: rows[0]!.instrument,
          account,
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
      (res: GetOrderToTradeRatioResponse) => res.ratios.length,
      async (req: GetOrderToTradeRatioRequest, scope): Promise<GetOrderToTradeRatioResponse> => {
        const { fromUs, toUs } = dayRange(req.tradingDay);
        const counts = await orderMessageCounts(db, fromUs, toUs, accountFilter(scope, req.account));
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
      (res: GetTradeRegisterResponse) => res.trades.length,
      async (req: GetTradeRegisterRequest, scope): Promise<GetTradeRegisterResponse> => {
        if (!mayReadRegister(scope))
          throw new AuthError("PERMISSION_DENIED", "the register names every counterparty: it needs an admin token");
        const { fromUs, toUs } = dayRange(req.tradingDay);
        const page = checkRegisterPage(req.limit, req.afterCommandSeq, req.afterIndex);
        if (!page.ok) throw refused(page.refusal);
        const { rows, more } = await registerTrades(db, fromUs, toUs, page.value);
        const terms = await termsHistory(db);
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
              value: valueOf(terms, t.instrument, t.timeUs, t.price, t.qty),
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
      (res: GetClearingObligationsResponse) => res.securities.length + res.funds.length,
      async (req: GetClearingObligationsRequest, scope): Promise<GetClearingObligationsResponse> => {
        const { fromUs, toUs } = dayRange(req.tradingDay);
        const executions = await executionsByPrice(db, fromUs, toUs, accountFilter(scope, req.account));
        let obligations;
        try {
          obligations = clearingObligations(executions, (e) => (e.unit === null ? undefined : BigInt(e.unit)));
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
