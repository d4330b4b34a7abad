import {
  status as GrpcStatus,
  type Metadata,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerDuplexStream,
  type ServerWritableStream,
} from "@grpc/grpc-js";
import {
  CancelReason,
  ExecType,
  InstrumentState,
  LiquidityIndicator,
  RejectReason,
  RequestKind,
  Side,
  type Command,
  type ExecutionReport,
  type Order,
  type OrderEntryServer,
  type StreamExecutionReportsRequest,
  type StreamExecutionReportsResponse,
  type CancelOrderRequest,
  type MassCancelRequest,
  type OrderRequest,
  type ReplaceOrderRequest,
  type RequestAck,
  type SessionOpen,
  type SessionRequest,
  type SessionResponse,
  StpMode,
  type SubmitOrderRequest,
} from "@tradeplane/contracts";
import {
  AuthError,
  extractGrpcContext,
  malformedRequest,
  timestampOfMs,
  toGrpcError,
  TradeplaneError,
  ValidationError,
  type CommandLogWriter,
  verifiedClientCommonName,
  type Logger,
  type PeerAuthSource,
} from "@tradeplane/platform";
import { context } from "@opentelemetry/api";
import { Counter, Histogram, type Registry } from "prom-client";
import {
  checkNewOrder,
  isVenueHalted,
  NEW_ORDER_CHECKS,
  orderNotional,
  PASS,
  tradingStateReason,
  type CheckContext,
} from "../domain/checks.ts";
import { effectiveLimits, type LimitOverrides, type Limits } from "../domain/limits.ts";
import { emptyOrder, type OrderProjection } from "../domain/order-projection.ts";
import { clientOrderIdProblem, submitProblem } from "../domain/request-validation.ts";
import { newTokenBucket, type TokenBucket } from "../domain/token-bucket.ts";
import type { AccountRegistry } from "./accounts.ts";
import type { EventFollower } from "./event-follower.ts";
import { cancelEverywhere } from "./cancel-all.ts";
import { getOrder } from "./order-status.ts";

export interface InstrumentInfo {
  readonly partition: number;
  readonly referencePrice: number;
  readonly notionalPerTickLot: number;
}

export interface OrderEntryDeps {
  readonly instanceId: string;
  readonly instruments: ReadonlyMap<string, InstrumentInfo>;
  readonly defaultLimits: LimitOverrides;
  readonly accounts: AccountRegistry;
  readonly projection: OrderProjection;
  readonly follower: EventFollower;
  readonly log: CommandLogWriter;
  readonly commandTimeoutMs: number;
  readonly logger: Logger;
  readonly registry: Registry;
}

const NS_PER_MS = 1_000_000;

/** What authorisation reads of a call: its metadata (bearer token) and its transport (client certificate). */
type Caller = PeerAuthSource & { readonly metadata: Metadata };

/** What a new order, or a replace that grows one, adds to its account's open orders until the engine's events for it are applied. */
interface Hold {
  readonly instrument: string;
  readonly side: number;
  readonly qty: number;
  readonly exposure: number;
}
type Prepared =
  { ok: false; reason: number; text: string } | { ok: true; partition: number; body: Command["body"]; hold?: Hold };
/** Reports buffered for one slow stream before it is ended (it resumes from its last sequence). */
const MAX_QUEUED_REPORTS = 10_000;
const HEARTBEAT_MS = 5_000;
const DEFAULT_SESSION_HEARTBEAT_MS = 1_000;
/** Most requests one session batch may carry. */
const MAX_SESSION_BATCH = 1_000;
/** Batches of one session written to the log but not yet stored before the gateway stops reading the session. */
const MAX_SESSION_BATCHES_IN_FLIGHT = 64;
let sessionCounter = 0;

/**
 * OrderEntry: authenticate the caller, check the request's syntax and the account's
 * risk, write the command to the log, and answer with the execution reports the engine's
 * events produce for it. A refused order is an OK response holding a REJECTED report
 * with its reason (the request never reached the log); transport and auth problems are
 * gRPC errors.
 */
export function orderEntryService(deps: OrderEntryDeps): OrderEntryServer {
  const throttles = new Map<string, TokenBucket>();
  const outcomes = new Counter({
    name: "tp_risk_orders_total",
    help: "Order requests by kind, outcome and reject reason",
    labelNames: ["kind", "outcome", "reason"],
    registers: [deps.registry],
  });
  const checkSeconds = new Histogram({
    name: "tp_risk_check_seconds",
    help: "Time to run the pre-trade check chain, seconds",
    buckets: [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 1e-3],
    registers: [deps.registry],
  });

  /**
   * Who is calling: the principal of the bearer token when the call carries an
   * authorization header (a bad token is refused, whatever the transport says), else the
   * subject CN of the client certificate the server verified (mutual TLS).
   */
  const principalOf = (caller: Caller): string | undefined => {
    const header = String(caller.metadata.get("authorization")[0] ?? "");
    if (header === "") return verifiedClientCommonName(caller);
    return deps.accounts.principalOf(header.startsWith("Bearer ") ? header.slice(7) : "");
  };

  /** The caller's principal and the account it may act for (one listing the principal). */
  const authorise = (caller: Caller, requested: string): string => {
    const principal = principalOf(caller);
    if (principal === undefined)
      throw new AuthError("UNAUTHENTICATED", "a valid bearer token (or a verified client certificate) is required");
    const allowed = deps.accounts.accountsOf(principal);
    const account = requested === "" && allowed.length === 1 ? allowed[0]! : requested;
    if (!allowed.includes(account))
      throw new AuthError("PERMISSION_DENIED", `principal may not trade account ${account || "(none)"}`);
    return account;
  };

  const rejectReport = (
    account: string,
    kind: RequestKind,
    clientOrderId: string,
    reason: number,
    text: string,
    order?: Order,
  ): ExecutionReport => ({
    sequence: 0,
    execType: ExecType.REJECTED,
    order: order ?? emptyOrder(account, "", clientOrderId),
    requestKind: kind,
    requestClientOrderId: clientOrderId,
    origClientOrderId: "",
    tradeId: 0,
    lastPrice: 0,
    lastQty: 0,
    lastNotional: 0,
    liquidity: LiquidityIndicator.UNSPECIFIED,
    rejectReason: reason as RejectReason,
    cancelReason: 0,
    text,
    commandSeq: 0,
    eventIndex: 0,
    transactTime: timestampOfMs(Date.now()),
  });

  /**
   * Client order ids written to the log but not yet seen back in the projection: a second
   * request with the same id in that window must still be refused as a duplicate.
   */
  const pendingClientIds = new Map<string, Set<string>>();
  const clientIdsOf = (account: string): { has(id: string): boolean } => {
    const live = deps.projection.clientOrderIdsOf(account);
    const pending = pendingClientIds.get(account);
    return pending === undefined || pending.size === 0 ? live : { has: (id) => live.has(id) || pending.has(id) };
  };

  /** Appends a command for an account and returns its sequence. */
  const append = async (account: string, partition: number, body: Command["body"]): Promise<number> =>
    (await deps.log.append(partition, { timestamp: timestampOfMs(Date.now()), account, source: deps.instanceId, body }))
      .seq;

  /**
   * New orders written to the log and not yet applied, per account: open quantity per
   * instrument and side, and exposure. The projection counts an order only once the engine's
   * events for it come back; without these, a burst (a session batch, concurrent calls) would
   * pass position and credit checks that the same orders one after another would fail.
   */
  const inFlight = new Map<string, { exposure: number; readonly qty: Map<string, { buy: number; sell: number }> }>();
  const hold = (account: string, h: Hold, sign: 1 | -1): void => {
    let f = inFlight.get(account);
    if (f === undefined) {
      f = { exposure: 0, qty: new Map() };
      inFlight.set(account, f);
    }
    let q = f.qty.get(h.instrument);
    if (q === undefined) {
      q = { buy: 0, sell: 0 };
      f.qty.set(h.instrument, q);
    }
    if (h.side === Side.BUY) q.buy += sign * h.qty;
    else q.sell += sign * h.qty;
    f.exposure += sign * h.exposure;
  };

  /**
   * Appends a new-order or replace command, holding its client order id as pending, and what
   * it adds to the account's open orders as in flight, until it is applied.
   */
  const appendTracked = async (
    account: string,
    clientOrderId: string,
    partition: number,
    body: Command["body"],
    held?: Hold,
  ): Promise<number> => {
    let pending = pendingClientIds.get(account);
    if (pending === undefined) {
      pending = new Set();
      pendingClientIds.set(account, pending);
    }
    pending.add(clientOrderId);
    if (held !== undefined) hold(account, held, 1);
    const release = (): void => {
      pending.delete(clientOrderId);
      if (held !== undefined) hold(account, held, -1);
    };
    try {
      const seq = await append(account, partition, body);
      deps.follower.whenApplied(seq, deps.commandTimeoutMs).then(release, release);
      return seq;
    } catch (err) {
      release();
      throw err;
    }
  };

  /** This account's reports for command `seq`, once the engine's events for it are applied. */
  const reportsOf = async (account: string, seq: number): Promise<ExecutionReport[]> =>
    (await deps.follower.whenApplied(seq, deps.commandTimeoutMs))
      .filter((r) => r.account === account)
      .map((r) => r.report);

  const unary =
    <Req, Res>(handler: (req: Req, caller: Caller) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const malformed = malformedRequest(call.request);
      if (malformed !== undefined) {
        outcomes.inc({ kind: "any", outcome: "invalid", reason: "MALFORMED_REQUEST" });
        callback({ code: GrpcStatus.INVALID_ARGUMENT, details: malformed, message: malformed });
        return;
      }
      // The client's trace context (gRPC metadata) becomes the active context, so the
      // command written to the log carries it to the engine and back into the events. A call
      // without one runs as it is: entering a context allocates on every call.
      const run = (): Promise<Res> => handler(call.request, call);
      const carriesContext = call.metadata.get("traceparent").length > 0 || call.metadata.get("baggage").length > 0;
      (carriesContext ? context.with(extractGrpcContext(call.metadata), run) : run()).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e = toGrpcError(err);
          if (!(err instanceof TradeplaneError)) {
            deps.logger.error({ err }, "order entry call failed");
            e.code = GrpcStatus.UNAVAILABLE;
            e.details = e.message = "the venue did not confirm the request in time; query the order before retrying";
          }
          callback(e);
        },
      );
    };

  const partitionOf = (instrument: string): number => deps.instruments.get(instrument)?.partition ?? 0;

  /** Every listed instrument HALTED: the venue is halted (there is no venue-level state in the log). */
  const venueHalted = (): boolean => isVenueHalted(deps.projection.haltedInstruments, deps.instruments.size);

  /** The instrument's trading state as the engine last announced it: refusing here saves a trip through the log. */
  const instrumentTradingState = (instrument: string): { halted: boolean; closed: boolean } => {
    const state = deps.projection.instrumentState(instrument);
    return { halted: state === InstrumentState.HALTED, closed: state === InstrumentState.CLOSED };
  };

  /**
   * An account's effective limits, computed once per limits object: account records are
   * replaced, never changed, when an account is updated, so the object is the version.
   */
  const effective = new WeakMap<LimitOverrides, Limits>();
  const limitsOf = (own: LimitOverrides | undefined): Limits => {
    const key = own ?? deps.defaultLimits;
    let limits = effective.get(key);
    if (limits === undefined) {
      limits = effectiveLimits(deps.defaultLimits, own);
      effective.set(key, limits);
    }
    return limits;
  };

  /**
   * What the pre-trade checks see of an order `intent` of `account`. For a replace, `replacing`
   * is the order as the projection knows it: its working quantity and exposure make way for
   * the replaced order's, and its filled quantity is taken out of the new quantity, so the
   * position and credit checks measure the order as it would stand after the replace.
   */
  const checkContext = (
    account: string,
    intent: Pick<SubmitOrderRequest, "instrument" | "side" | "price" | "qty" | "clientOrderId">,
    replacing?: Order,
  ): CheckContext => {
    const record = deps.accounts.account(account);
    const instrument = deps.instruments.get(intent.instrument)!;
    const position = deps.projection.positionOf(account, intent.instrument);
    const limits = limitsOf(record?.limits);
    const flight = inFlight.get(account);
    const flying = flight?.qty.get(intent.instrument);
    let throttle = throttles.get(account);
    if (throttle === undefined) {
      // Starts full: a burst of twice the rate, as the throttle check allows.
      const burst = limits.maxOrdersPerSecond === Infinity ? 1 : Math.max(1, limits.maxOrdersPerSecond * 2);
      throttle = newTokenBucket(burst, performance.now() * NS_PER_MS);
      throttles.set(account, throttle);
    }
    const mult = instrument.notionalPerTickLot;
    // A replace: the order's own working quantity and exposure leave, its filled part stays filled.
    const outQty = replacing === undefined ? 0 : replacing.leavesQty + replacing.cumQty;
    const outExposure =
      replacing === undefined ? 0 : (replacing.leavesQty * replacing.price + replacing.cumQty * intent.price) * mult;
    const ids = clientIdsOf(account);
    return {
      order: {
        account,
        instrument: intent.instrument,
        side: intent.side,
        price: intent.price,
        qty: intent.qty,
        clientOrderId: intent.clientOrderId,
      },
      account: {
        authenticated: true,
        permitted: record !== undefined,
        disabled: record?.disabled ?? false,
        killSwitch: deps.accounts.accountKillSwitch(account) !== undefined,
        limits,
        // A replace may keep the order's client order id.
        clientOrderIds: replacing === undefined ? ids : { has: (id) => id !== replacing.clientOrderId && ids.has(id) },
        throttle,
        position: position.netQty,
        openBuyQty: position.openBuyQty + (flying?.buy ?? 0) - (intent.side === Side.BUY ? outQty : 0),
        openSellQty: position.openSellQty + (flying?.sell ?? 0) - (intent.side === Side.SELL ? outQty : 0),
        openExposure: deps.projection.openExposure(account) + (flight?.exposure ?? 0) - outExposure,
      },
      instrument: {
        ...instrumentTradingState(intent.instrument),
        lastPrice: deps.projection.lastPrice(intent.instrument),
        referencePrice: instrument.referencePrice,
        notionalPerTickLot: mult,
      },
      venueHalted: venueHalted(),
      venueKillSwitch: deps.accounts.venueKillSwitch() !== undefined,
      nowNs: performance.now() * NS_PER_MS,
    };
  };

  /** Runs the pre-trade chain, timed and counted: the refusal, or undefined when the order passes. */
  const runChecks = (kind: "submit" | "replace", ctx: CheckContext): Prepared | undefined => {
    const t0 = performance.now();
    const reason = checkNewOrder(ctx);
    checkSeconds.observe((performance.now() - t0) / 1000);
    if (reason === PASS) return undefined;
    const name = rejectReasonLabel(reason);
    outcomes.inc({ kind, outcome: "rejected", reason: name });
    return { ok: false, reason, text: `pre-trade check failed: ${name}` };
  };

  /**
   * What a replace adds to the account's open orders until it is applied: the growth of the
   * order's working quantity and exposure (a replace that shrinks the order holds nothing).
   */
  const replaceHold = (existing: Order, req: ReplaceOrderRequest): Hold => {
    const mult = deps.instruments.get(existing.instrument)?.notionalPerTickLot ?? 1;
    const leaves = req.qty - existing.cumQty;
    const exposure = (leaves * req.price - existing.leavesQty * existing.price) * mult;
    return {
      instrument: existing.instrument,
      side: existing.side,
      qty: Math.max(0, leaves - existing.leavesQty),
      exposure: Number.isSafeInteger(exposure) ? Math.max(0, exposure) : 0,
    };
  };

  /** Syntax and risk checks of a new order: the command to write, or why not. Synchronous. */
  const prepareSubmit = (account: string, req: SubmitOrderRequest): Prepared => {
    const problem = submitProblem(req, (s) => deps.instruments.has(s));
    if (problem !== undefined) {
      const reason = problem.reason ?? RejectReason.MALFORMED_REQUEST;
      outcomes.inc({ kind: "submit", outcome: "rejected", reason: rejectReasonLabel(reason) });
      return { ok: false, reason, text: `${problem.field}: ${problem.message}` };
    }
    const record = deps.accounts.account(account);
    const instrument = deps.instruments.get(req.instrument)!;
    const ctx = checkContext(account, req);
    const refusal = runChecks("submit", ctx);
    if (refusal !== undefined) return refusal;
    // Counted at the notional the credit check measured (a market order's at its risk price).
    const exposure = orderNotional(ctx);
    return {
      ok: true,
      hold: {
        instrument: req.instrument,
        side: req.side,
        qty: req.qty,
        exposure: Number.isFinite(exposure) ? exposure : 0,
      },
      partition: instrument.partition,
      body: {
        $case: "newOrder",
        value: {
          clientOrderId: req.clientOrderId,
          instrument: req.instrument,
          side: req.side,
          orderType: req.orderType,
          timeInForce: req.timeInForce,
          price: req.price,
          stopPrice: req.stopPrice,
          qty: req.qty,
          postOnly: req.postOnly,
          stpMode: resolvedStpMode(req.stpMode, record?.defaultStpMode ?? 0),
          expireTime: req.expireTime,
          displayQty: req.displayQty,
          stpGroup: req.stpGroup,
        },
      },
    };
  };

  const submit = async (req: SubmitOrderRequest, caller: Caller): Promise<{ reports: ExecutionReport[] }> => {
    const account = authorise(caller, req.account);
    const prepared = prepareSubmit(account, req);
    if (!prepared.ok)
      return {
        reports: [rejectReport(account, RequestKind.NEW_ORDER, req.clientOrderId, prepared.reason, prepared.text)],
      };
    const seq = await appendTracked(account, req.clientOrderId, prepared.partition, prepared.body, prepared.hold);
    const reports = await reportsOf(account, seq);
    const rejected = reports[0]?.execType === ExecType.REJECTED;
    outcomes.inc({
      kind: "submit",
      outcome: rejected ? "rejected" : "accepted",
      reason: rejected ? rejectReasonLabel(reports[0]!.rejectReason) : "",
    });
    return { reports };
  };

  /** Resolves a cancel/replace target to an order id of the account, or a reject reason. */
  const target = (
    account: string,
    t: { $case: "orderId"; value: number } | { $case: "origClientOrderId"; value: string } | undefined,
  ): number | undefined => {
    if (t === undefined) return undefined;
    if (t.$case === "orderId") return Number.isSafeInteger(t.value) && t.value > 0 ? t.value : undefined;
    return deps.projection.orderIdByClientId(account, t.value);
  };

  /** Checks of a cancel: the command to write, or why not. */
  const prepareCancel = (account: string, req: CancelOrderRequest): Prepared => {
    if (req.clientOrderId !== "") {
      const idProblem = clientOrderIdProblem("client_order_id", req.clientOrderId);
      if (idProblem !== undefined)
        return { ok: false, reason: RejectReason.MALFORMED_REQUEST, text: `${idProblem.field}: ${idProblem.message}` };
    }
    const orderId = target(account, req.target);
    if (orderId === undefined) return { ok: false, reason: RejectReason.UNKNOWN_ORDER, text: "no such open order" };
    const instrument = deps.projection.orderById(orderId)?.instrument ?? req.instrument;
    return {
      ok: true,
      partition: partitionOf(instrument),
      body: { $case: "cancelOrder", value: { instrument, orderId, clientOrderId: req.clientOrderId, reason: 0 } },
    };
  };

  /** Checks of a replace: the command to write, or why not. */
  const prepareReplace = (account: string, req: ReplaceOrderRequest): Prepared => {
    const problem =
      clientOrderIdProblem("client_order_id", req.clientOrderId) ??
      (Number.isSafeInteger(req.qty) && req.qty >= 1 ? undefined : { field: "qty", message: "must be >= 1" }) ??
      (Number.isSafeInteger(req.price) && req.price >= 1 ? undefined : { field: "price", message: "must be >= 1" });
    if (problem !== undefined)
      return { ok: false, reason: RejectReason.MALFORMED_REQUEST, text: `${problem.field}: ${problem.message}` };
    const orderId = target(account, req.target);
    if (orderId === undefined) return { ok: false, reason: RejectReason.UNKNOWN_ORDER, text: "no such open order" };
    const existing = deps.projection.orderById(orderId);
    const instrument = existing?.instrument ?? req.instrument;
    // The engine refuses replaces on a halted or closed instrument; so does the gateway, sooner.
    const refused = tradingStateReason(venueHalted(), instrumentTradingState(instrument));
    if (refused !== PASS)
      return {
        ok: false,
        reason: refused,
        text: refused === RejectReason.MARKET_CLOSED ? `${instrument} is closed` : `${instrument} is halted`,
      };
    // The replaced order passes the same checks as a new one: a replace must not be a way
    // around the quantity, value, collar, position or credit limits.
    if (existing !== undefined) {
      const ctx = checkContext(
        account,
        { instrument, side: existing.side, price: req.price, qty: req.qty, clientOrderId: req.clientOrderId },
        existing,
      );
      const refusal = runChecks("replace", ctx);
      if (refusal !== undefined) return refusal;
    }
    return {
      ok: true,
      ...(existing === undefined ? {} : { hold: replaceHold(existing, req) }),
      partition: partitionOf(instrument),
      body: {
        $case: "replaceOrder",
        value: {
          instrument,
          orderId,
          clientOrderId: req.clientOrderId,
          price: req.price,
          stopPrice: req.stopPrice,
          qty: req.qty,
        },
      },
    };
  };

  /** Checks of a mass cancel: one command per partition involved, or why not. */
  const prepareMassCancel = (
    req: MassCancelRequest,
  ): { ok: false; reason: number; text: string } | { ok: true; partitions: number[]; body: Command["body"] } => {
    if (req.instrument !== "" && !deps.instruments.has(req.instrument))
      return { ok: false, reason: RejectReason.UNKNOWN_INSTRUMENT, text: `unknown instrument ${req.instrument}` };
    const partitions = [
      ...new Set(
        req.instrument === "" ? [...deps.instruments.values()].map((i) => i.partition) : [partitionOf(req.instrument)],
      ),
    ];
    return {
      ok: true,
      partitions,
      body: {
        $case: "massCancel",
        value: {
          instrument: req.instrument,
          side: req.side,
          allAccounts: false,
          reason: 0,
          clientOrderId: req.clientOrderId,
        },
      },
    };
  };

  return {
    submitOrder: unary(submit),
    cancelOrder: unary(async (req, caller) => {
      const account = authorise(caller, req.account);
      const prepared = prepareCancel(account, req);
      if (!prepared.ok)
        return {
          report: rejectReport(account, RequestKind.CANCEL_ORDER, req.clientOrderId, prepared.reason, prepared.text),
        };
      const reports = await reportsOf(account, await append(account, prepared.partition, prepared.body));
      const rejected = reports[0]?.execType === ExecType.REJECTED;
      outcomes.inc({
        kind: "cancel",
        outcome: rejected ? "rejected" : "accepted",
        reason: rejected ? rejectReasonLabel(reports[0]!.rejectReason) : "",
      });
      return {
        report:
          reports[0] ??
          rejectReport(account, RequestKind.CANCEL_ORDER, req.clientOrderId, RejectReason.UNKNOWN_ORDER, "no report"),
      };
    }),
    replaceOrder: unary(async (req, caller) => {
      const account = authorise(caller, req.account);
      const prepared = prepareReplace(account, req);
      if (!prepared.ok)
        return {
          reports: [
            rejectReport(account, RequestKind.REPLACE_ORDER, req.clientOrderId, prepared.reason, prepared.text),
          ],
        };
      const seq = await appendTracked(account, req.clientOrderId, prepared.partition, prepared.body, prepared.hold);
      return { reports: await reportsOf(account, seq) };
    }),
    massCancel: unary(async (req, caller) => {
      const account = authorise(caller, req.account);
      const prepared = prepareMassCancel(req);
      if (!prepared.ok) throw new ValidationError(prepared.text, [{ path: "instrument", message: "unknown" }]);
      let cancelled = 0;
      const commands = [];
      for (const partition of prepared.partitions) {
        const seq = await append(account, partition, prepared.body);
        cancelled += (await reportsOf(account, seq)).filter((r) => r.execType === ExecType.CANCELLED).length;
        commands.push({ partition, commandSeq: seq });
      }
      return { cancelledCount: cancelled, commands };
    }),
    getOrder: unary(async (req, caller) => getOrder(deps.projection, authorise(caller, req.account), req)),
    listOpenOrders: unary(async (req, caller) => {
      const account = authorise(caller, req.account);
      return {
        orders: deps.projection.openOrders(account, req.instrument),
        asOfSequence: deps.projection.lastReportSequence(account),
      };
    }),
    streamExecutionReports: (
      call: ServerWritableStream<StreamExecutionReportsRequest, StreamExecutionReportsResponse>,
    ) => {
      let account: string;
      const malformed = malformedRequest(call.request);
      if (malformed !== undefined) {
        call.emit("error", Object.assign(new Error(malformed), { code: GrpcStatus.INVALID_ARGUMENT }));
        return;
      }
      try {
        account = authorise(call, call.request.account);
      } catch (err) {
        call.emit("error", Object.assign(new Error((err as Error).message), toGrpcError(err)));
        return;
      }
      const from = call.request.fromSequence ?? deps.projection.lastReportSequence(account) + 1;
      let next = Math.max(1, from);
      // Subscribe first (buffering), then write the kept backlog, then go live: nothing is
      // missed between the two and nothing is sent twice (sequences only move forward).
      const queued: ExecutionReport[] = [];
      let live = false;
      let waitingForDrain = false;
      const send = (report: ExecutionReport): boolean => {
        if (report.sequence < next) return true;
        next = report.sequence + 1;
        return call.write({ sequence: report.sequence, message: { $case: "report", value: report } });
      };
      const flush = (): void => {
        waitingForDrain = false;
        while (queued.length > 0) {
          if (!send(queued.shift()!)) {
            // Back-pressure: wait for the client; a client that never reads is cut off below.
            waitingForDrain = true;
            call.once("drain", flush);
            return;
          }
        }
      };
      const unsubscribe = deps.follower.onReport(account, (report) => {
        queued.push(report);
        if (queued.length > MAX_QUEUED_REPORTS) {
          unsubscribe();
          call.emit(
            "error",
            Object.assign(new Error("client reads too slowly: resume from the last sequence received"), {
              code: GrpcStatus.RESOURCE_EXHAUSTED,
            }),
          );
          return;
        }
        if (live && !waitingForDrain) flush();
      });
      const backlog = deps.projection.reportsSince(account, next - 1);
      if (backlog === undefined) {
        unsubscribe();
        call.emit(
          "error",
          Object.assign(
            new Error("reports before the requested sequence are no longer kept: reconcile with ListOpenOrders"),
            { code: GrpcStatus.OUT_OF_RANGE },
          ),
        );
        return;
      }
      queued.unshift(...backlog);
      live = true;
      flush();
      const heartbeat = setInterval(() => {
        if (!waitingForDrain)
          call.write({
            sequence: next - 1,
            message: { $case: "heartbeat", value: { time: timestampOfMs(Date.now()) } },
          });
      }, HEARTBEAT_MS);
      const end = (): void => {
        clearInterval(heartbeat);
        unsubscribe();
      };
      call.on("cancelled", end);
      call.on("close", end);
      call.on("error", end);
    },
    session: (call: ServerDuplexStream<SessionRequest, SessionResponse>) => {
      let expected = 1;
      let outSeq = 0;
      let account: string | undefined;
      let cancelOnDisconnect = false;
      let heartbeatMs = DEFAULT_SESSION_HEARTBEAT_MS;
      let lastInbound = Date.now();
      let ended = false;
      /** The last batch's acks written: each batch's acks go out after the previous batch's. */
      let acksWritten: Promise<void> = Promise.resolve();
      let batchesInFlight = 0;
      const timers: NodeJS.Timeout[] = [];
      let unsubscribe: () => void = () => undefined;
      const write = (message: SessionResponse["message"]): boolean => call.write({ sequence: ++outSeq, message });
      const fail = (code: GrpcStatus, text: string): void => {
        if (ended) return;
        call.emit("error", Object.assign(new Error(text), { code, details: text }));
        finish();
      };
      const finish = (): void => {
        if (ended) return;
        ended = true;
        for (const t of timers) clearInterval(t);
        unsubscribe();
        if (cancelOnDisconnect && account !== undefined) {
          const who = account;
          cancelEverywhere(
            deps.log,
            [...deps.instruments.values()].map((x) => x.partition),
            { account: who, allAccounts: false, reason: CancelReason.CANCEL_ON_DISCONNECT, source: deps.instanceId },
          ).catch((err: unknown) => deps.logger.error({ err, account: who }, "cancel-on-disconnect failed"));
          deps.logger.info({ account: who }, "session ended: cancelling open orders (cancel on disconnect)");
        }
      };

      const open = (o: SessionOpen): void => {
        try {
          account = authorise(call, o.account);
        } catch (err) {
          const e = toGrpcError(err);
          fail(e.code, e.details);
          return;
        }
        const who = account;
        cancelOnDisconnect = o.cancelOnDisconnect;
        heartbeatMs = o.heartbeatIntervalMs === 0 ? DEFAULT_SESSION_HEARTBEAT_MS : Math.max(100, o.heartbeatIntervalMs);
        let next = o.reportsFromSequence ?? deps.projection.lastReportSequence(who) + 1;
        write({
          $case: "opened",
          value: {
            sessionId: `${deps.instanceId}-${++sessionCounter}`,
            maxBatchSize: MAX_SESSION_BATCH,
            heartbeatIntervalMs: heartbeatMs,
            nextReportSequence: next,
          },
        });
        // Reports: the kept backlog from the requested sequence, then live ones, in batches.
        const queued: ExecutionReport[] = [];
        let scheduled = false;
        const flush = (): void => {
          scheduled = false;
          const batch = queued.splice(0).filter((r) => r.sequence >= next);
          if (batch.length === 0 || ended) return;
          next = batch[batch.length - 1]!.sequence + 1;
          write({ $case: "reports", value: { reports: batch } });
        };
        unsubscribe = deps.follower.onReport(who, (report) => {
          queued.push(report);
          if (queued.length > MAX_QUEUED_REPORTS)
            return fail(GrpcStatus.RESOURCE_EXHAUSTED, "client reads too slowly: reopen with reports_from_sequence");
          if (!scheduled) {
            scheduled = true;
            queueMicrotask(flush);
          }
        });
        if (o.reportsFromSequence !== undefined) {
          const backlog = deps.projection.reportsSince(who, next - 1);
          if (backlog === undefined)
            return fail(
              GrpcStatus.OUT_OF_RANGE,
              "reports before reports_from_sequence are no longer kept: reconcile with ListOpenOrders",
            );
          queued.unshift(...backlog);
          flush();
        }
        timers.push(
          setInterval(() => {
            if (Date.now() - lastInbound > heartbeatMs * 3)
              return fail(GrpcStatus.DEADLINE_EXCEEDED, "no message from the client for three heartbeat intervals");
            write({ $case: "heartbeat", value: { time: timestampOfMs(Date.now()) } });
          }, heartbeatMs),
        );
      };

      /**
       * Checks each request of a batch and appends it to the command log, synchronously and in
       * order; resolves with the batch's acks once every append is stored. The appends of the
       * next batch are issued right after, without waiting for these to be stored: the log
       * keeps the order in which appends are issued (per instrument; see orderEntry), so a
       * session's pipeline is not one storage round trip per batch.
       */
      const batch = (who: string, requests: OrderRequest[]): Promise<RequestAck[]> => {
        const acks: Promise<RequestAck>[] = requests.map((r, index) => {
          const base = {
            index,
            requestKind: RequestKind.UNSPECIFIED,
            clientOrderId: "",
            accepted: false,
            orderId: 0,
            commands: [],
            rejectReason: RejectReason.UNSPECIFIED,
            text: "",
          };
          const refused = (kind: RequestKind, id: string, reason: number, text: string): Promise<RequestAck> =>
            Promise.resolve({
              ...base,
              requestKind: kind,
              clientOrderId: id,
              rejectReason: reason as RejectReason,
              text,
            });
          const written = (
            kind: RequestKind,
            id: string,
            partition: number,
            seq: Promise<number>,
            isNew: boolean,
          ): Promise<RequestAck> =>
            seq.then(
              (commandSeq) => ({
                ...base,
                requestKind: kind,
                clientOrderId: id,
                accepted: true,
                orderId: isNew ? commandSeq : 0,
                commands: [{ partition, commandSeq }],
              }),
              () => ({
                ...base,
                requestKind: kind,
                clientOrderId: id,
                rejectReason: RejectReason.UNAVAILABLE,
                text: "the command log did not store the request; it is safe to retry",
              }),
            );
          const request = r.request;
          if (request === undefined)
            return refused(RequestKind.UNSPECIFIED, "", RejectReason.MALFORMED_REQUEST, "empty request");
          if (request.value.account !== "" && request.value.account !== who)
            return refused(
              RequestKind.UNSPECIFIED,
              "",
              RejectReason.ACCOUNT_NOT_PERMITTED,
              "a session trades its own account only",
            );
          switch (request.$case) {
            case "submitOrder": {
              const req = request.value;
              const prepared = prepareSubmit(who, req);
              if (!prepared.ok)
                return refused(RequestKind.NEW_ORDER, req.clientOrderId, prepared.reason, prepared.text);
              return written(
                RequestKind.NEW_ORDER,
                req.clientOrderId,
                prepared.partition,
                appendTracked(who, req.clientOrderId, prepared.partition, prepared.body, prepared.hold),
                true,
              );
            }
            case "cancelOrder": {
              const req = request.value;
              const prepared = prepareCancel(who, req);
              if (!prepared.ok)
                return refused(RequestKind.CANCEL_ORDER, req.clientOrderId, prepared.reason, prepared.text);
              return written(
                RequestKind.CANCEL_ORDER,
                req.clientOrderId,
                prepared.partition,
                append(who, prepared.partition, prepared.body),
                false,
              );
            }
            case "replaceOrder": {
              const req = request.value;
              const prepared = prepareReplace(who, req);
              if (!prepared.ok)
                return refused(RequestKind.REPLACE_ORDER, req.clientOrderId, prepared.reason, prepared.text);
              return written(
                RequestKind.REPLACE_ORDER,
                req.clientOrderId,
                prepared.partition,
                appendTracked(who, req.clientOrderId, prepared.partition, prepared.body, prepared.hold),
                false,
              );
            }
            case "massCancel": {
              const req = request.value;
              const prepared = prepareMassCancel(req);
              if (!prepared.ok)
                return refused(RequestKind.MASS_CANCEL, req.clientOrderId, prepared.reason, prepared.text);
              // One command per partition; the ack names the first (all are in the log when it is sent).
              const seqs = prepared.partitions.map((partition) => append(who, partition, prepared.body));
              return written(
                RequestKind.MASS_CANCEL,
                req.clientOrderId,
                prepared.partitions[0]!,
                Promise.all(seqs).then((all) => all[0]!),
                false,
              );
            }
          }
        });
        return Promise.all(acks);
      };

      call.on("data", (req: SessionRequest) => {
        if (ended) return;
        lastInbound = Date.now();
        const malformed = malformedRequest(req);
        if (malformed !== undefined) return fail(GrpcStatus.INVALID_ARGUMENT, malformed);
        if (req.sequence !== expected)
          return fail(GrpcStatus.INVALID_ARGUMENT, `message sequence ${req.sequence}, expected ${expected}`);
        expected++;
        const message = req.message;
        if (message === undefined) return fail(GrpcStatus.INVALID_ARGUMENT, "empty session message");
        if (message.$case === "open") {
          if (account !== undefined) return fail(GrpcStatus.INVALID_ARGUMENT, "the session is already open");
          return open(message.value);
        }
        if (account === undefined) return fail(GrpcStatus.FAILED_PRECONDITION, "the first message must be open");
        if (message.$case === "batch") {
          const requests = message.value.requests;
          if (requests.length === 0 || requests.length > MAX_SESSION_BATCH)
            return fail(GrpcStatus.INVALID_ARGUMENT, `a batch holds 1..${MAX_SESSION_BATCH} requests`);
          let acks: Promise<RequestAck[]>;
          try {
            acks = batch(account, requests);
          } catch (err) {
            // An unexpected fault in the checks ends up in the log below, not as a crash.
            acks = Promise.reject(err);
          }
          const requestSequence = req.sequence;
          // Back-pressure on a client that writes faster than the log stores: stop reading
          // its stream while too many of its batches wait for storage.
          if (++batchesInFlight === MAX_SESSION_BATCHES_IN_FLIGHT) call.pause();
          acksWritten = acksWritten
            .then(() => acks)
            .then((all) => {
              if (!ended) write({ $case: "acks", value: { requestSequence, acks: all } });
            })
            .catch((err: unknown) => deps.logger.error({ err }, "session batch failed"))
            .finally(() => {
              if (batchesInFlight-- === MAX_SESSION_BATCHES_IN_FLIGHT && !ended) call.resume();
            });
        }
      });
      call.on("end", () => {
        finish();
        call.end();
      });
      call.on("cancelled", finish);
      call.on("error", finish);
    },
  };
}

/**
 * The self-trade prevention mode a new order carries to the engine: its own, else the
 * account's default, else CANCEL_TAKER (risk_admin.proto: an account's UNSPECIFIED default
 * means CANCEL_TAKER; the engine would read UNSPECIFIED as CANCEL_MAKER, so the gateway
 * always resolves it).
 */
export function resolvedStpMode(requested: number, accountDefault: number): StpMode {
  if (requested !== StpMode.UNSPECIFIED) return requested as StpMode;
  return accountDefault > StpMode.UNSPECIFIED ? (accountDefault as StpMode) : StpMode.CANCEL_TAKER;
}

/** The names of the checks, in order, for metrics and docs. */
export const CHECK_NAMES = NEW_ORDER_CHECKS.map(([name]) => name);

/** A reject reason's name for metric labels (a bounded set: the enum's names). */
function rejectReasonLabel(reason: number): string {
  return Object.entries(RejectReason).find(([, v]) => v === reason)?.[0] ?? String(reason);
}
