import type { OrderRateWindow } from "@tradeplane/risk-checks/order-rate-window";
import { status as GrpcStatus, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import {
  ExecType,
  RejectReason,
  RequestKind,
  CancelReason,
  Side,
  type ExecutionReport,
  type OrderEntryServer,
} from "@tradeplane/contracts";
import {
  extractGrpcContext,
  malformedRequest,
  toGrpcError,
  TradeplaneError,
  type CommandLogWriter,
  type Logger,
} from "@tradeplane/platform";
import { context, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { Registry } from "prom-client";
import type { LimitOverrides } from "@tradeplane/risk-checks/limits";
import { rejectReport, type InstrumentInfo, type Refusal } from "../domain/order-intake.ts";
import { ACCEPTED, INVALID, outcomeOfReports, type RequestOutcome } from "../domain/request-outcome.ts";
import type { OrderProjection } from "@tradeplane/positions/order-projection";
import { accountReads } from "./account-reads.ts";
import type { AccountRegistry } from "./accounts.ts";
import type { EventFollower } from "./event-follower.ts";
import { streamExecutionReports } from "./execution-report-stream.ts";
import type { ForwardHandler } from "./gateway-peer.ts";
import { authoriseAccount, principalOf, type Caller } from "./order-entry-auth.ts";
import { OrderEntryMetrics, outcomeOfError, type RequestKindLabel } from "./order-entry-metrics.ts";
import { RequestRefusedError } from "./order-errors.ts";
import { orderEntrySession, sessionBatch, type SessionRouting } from "./order-entry-session.ts";
import { OrderIntake } from "./order-intake.ts";
import { getOrder } from "./order-status.ts";
import type { ForwardedRequest, ForwardedResponse, LocalDecider, OwnerRouting } from "./owner-routing.ts";

export type { InstrumentInfo } from "../domain/order-intake.ts";

/** The answer of each order call, by the $case of its request. */
type ResponseOf = { [R in ForwardedResponse as R["$case"]]: R["value"] };

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
  /** Spans of order requests: for requests that carry a trace context, and others when `startsTraces`. */
  readonly tracer?: Tracer;
  /** Whether a request without a trace context starts one (a sample ratio above 0). */
  readonly startsTraces?: boolean;
  /** With several gateway replicas (ADR 0003): who decides each account's orders. Absent with one. */
  readonly routing?: OwnerRouting;
  /** The accounts' order-rate windows, shared with the takeover that fills a new owner's (ADR 0003). */
  readonly throttles?: Map<string, OrderRateWindow>;
}

/**
 * OrderEntry: authenticate the caller, check the request's syntax and the account's
 * risk, write the command to the log, and answer with the execution reports the engine's
 * events produce for it. A refused order is an OK response holding a REJECTED report
 * with its reason (the request never reached the log); transport and auth problems are
 * gRPC errors. The unary calls are here; the intake (`order-intake.ts`), the Session
 * stream and the report stream have their own modules.
 */
export function orderEntryService(
  deps: OrderEntryDeps,
  forwardHandlerOf?: (handler: ForwardHandler) => void,
): OrderEntryServer {
  const metrics = new OrderEntryMetrics(deps.registry);
  const intake = new OrderIntake({
    ...deps,
    metrics,
    ...(deps.routing === undefined ? {} : { ownerEpochOf: (a: string) => deps.routing!.epochOf(a) }),
  });
  const authorise = (caller: Caller, requested: string): string => authoriseAccount(deps.accounts, caller, requested);
  const reads = accountReads({ ...deps, eventStreamSeq: () => deps.follower.streamSeq });
  const refusedReport = (
    account: string,
    kind: RequestKind,
    clientOrderId: string,
    refusal: Pick<Refusal, "reason" | "text" | "order">,
  ): ExecutionReport => rejectReport(account, kind, clientOrderId, refusal, Date.now());

  /** A unary call: refused as INVALID_ARGUMENT when malformed (`onMalformed` told), else `handler`'s answer. */
  const unary =
    <Req, Res>(handler: (req: Req, caller: Caller) => Promise<Res>, onMalformed?: () => void) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const malformed = malformedRequest(call.request);
      if (malformed !== undefined) {
        onMalformed?.();
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

  /**
   * A traced request: a server span around the handler, active while it writes to the log, so
   * the command carries it to the engine and the engine's span and events are its children.
   * Only where there is a trace to join or one to start: a span on every order costs.
   */
  const traced = <Res>(rpc: string, run: () => Promise<Res>): Promise<Res> => {
    const { tracer } = deps;
    if (tracer === undefined || (deps.startsTraces !== true && trace.getSpan(context.active()) === undefined))
      return run();
    return tracer.startActiveSpan(`tradeplane.v1.OrderEntry/${rpc}`, { kind: SpanKind.SERVER }, async (span) => {
      try {
        return await run();
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  };

  /**
   * An order request: traced, and its answer is its acknowledgement, timed from its arrival.
   * Counted here, once, whatever happens to it: by its answer (`outcomeOf`), by the error it
   * fails with, or as invalid when malformed. Where it is decided (here or, with several
   * replicas, at the account's owner) counts nothing.
   */
  const order =
    <Req, Res>(
      kind: RequestKindLabel,
      rpc: string,
      outcomeOf: (res: Res) => RequestOutcome,
      handler: (req: Req, caller: Caller) => Promise<Res>,
    ) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const arrived = performance.now();
      unary<Req, Res>(
        async (req, caller) => {
          let res: Res;
          try {
            res = await traced(rpc, () => handler(req, caller));
          } catch (err) {
            metrics.counted(kind, outcomeOfError(err));
            throw err;
          }
          metrics.counted(kind, outcomeOf(res));
          metrics.acknowledged(kind, arrived);
          return res;
        },
        () => metrics.counted(kind, INVALID),
      )(call, callback);
    };

  /** The order calls, decided on this replica (the account is authorised). */
  const decideHere: LocalDecider = async (account, request) => {
    switch (request.$case) {
      case "submit": {
        const req = request.value;
        const prepared = intake.prepareSubmit(account, req);
        if (!prepared.ok)
          return {
            $case: "submit",
            value: { reports: [refusedReport(account, RequestKind.NEW_ORDER, req.clientOrderId, prepared)] },
          };
        const seq = await intake.appendTracked(
          account,
          req.clientOrderId,
          prepared.partition,
          prepared.body,
          prepared.hold,
        );
        return { $case: "submit", value: { reports: await intake.reportsOf(account, seq) } };
      }
      case "cancel": {
        const req = request.value;
        const prepared = intake.prepareCancel(account, req);
        if (!prepared.ok)
          return {
            $case: "cancel",
            value: { report: refusedReport(account, RequestKind.CANCEL_ORDER, req.clientOrderId, prepared) },
          };
        const reports = await intake.reportsOf(
          account,
          await intake.append(account, prepared.partition, prepared.body),
        );
        return {
          $case: "cancel",
          value: {
            report:
              reports[0] ??
              refusedReport(account, RequestKind.CANCEL_ORDER, req.clientOrderId, {
                reason: RejectReason.UNKNOWN_ORDER,
                text: "no report",
              }),
          },
        };
      }
      case "replace": {
        const req = request.value;
        const prepared = intake.prepareReplace(account, req);
        if (!prepared.ok)
          return {
            $case: "replace",
            value: { reports: [refusedReport(account, RequestKind.REPLACE_ORDER, req.clientOrderId, prepared)] },
          };
        const seq = await intake.appendTracked(
          account,
          req.clientOrderId,
          prepared.partition,
          prepared.body,
          prepared.hold,
        );
        return { $case: "replace", value: { reports: await intake.reportsOf(account, seq) } };
      }
      case "cancelOnDisconnect": {
        // The reason a mass cancel request cannot carry; written with this replica's epoch.
        const commands = [];
        for (const partition of new Set([...deps.instruments.values()].map((i) => i.partition))) {
          const seq = await intake.append(account, partition, {
            $case: "massCancel",
            value: {
              instrument: "",
              side: Side.UNSPECIFIED,
              allAccounts: false,
              reason: CancelReason.CANCEL_ON_DISCONNECT,
              clientOrderId: "",
            },
          });
          commands.push({ partition, commandSeq: seq });
        }
        return { $case: "massCancel", value: { cancelledCount: 0, commands } };
      }
      case "sessionBatch":
        return {
          $case: "sessionAcks",
          value: {
            requestSequence: 0,
            acks: await sessionBatch(intake, metrics, account, request.value.requests, deps.tracer),
          },
        };
      case "massCancel": {
        const req = request.value;
        const prepared = intake.prepareMassCancel(req);
        if (!prepared.ok)
          throw new RequestRefusedError(prepared.reason, prepared.text, [{ path: "instrument", message: "unknown" }]);
        let cancelled = 0;
        const commands = [];
        for (const partition of prepared.partitions) {
          const seq = await intake.append(account, partition, prepared.body);
          cancelled += (await intake.reportsOf(account, seq)).filter((r) => r.execType === ExecType.CANCELLED).length;
          commands.push({ partition, commandSeq: seq });
        }
        return { $case: "massCancel", value: { cancelledCount: cancelled, commands } };
      }
    }
  };
  const { routing } = deps;
  if (routing !== undefined) forwardHandlerOf?.((req) => routing.forwarded(req, decideHere));
  /** Decided here, or with several replicas (ADR 0003) wherever the account's owner is. */
  const decide = <C extends keyof ResponseOf>(
    caller: Caller,
    account: string,
    request: Extract<ForwardedRequest, { $case: C }>,
  ): Promise<ResponseOf[C]> => {
    const answer =
      routing === undefined
        ? decideHere(account, request)
        : routing.run(account, principalOf(deps.accounts, caller) ?? "", request, decideHere);
    return answer.then((r) => r.value as ResponseOf[C]);
  };

  return {
    submitOrder: order(
      "submit",
      "SubmitOrder",
      (res) => outcomeOfReports(res.reports),
      async (req, caller) => decide(caller, authorise(caller, req.account), { $case: "submit", value: req }),
    ),
    cancelOrder: order(
      "cancel",
      "CancelOrder",
      (res) => outcomeOfReports([res.report]),
      async (req, caller) => decide(caller, authorise(caller, req.account), { $case: "cancel", value: req }),
    ),
    replaceOrder: order(
      "replace",
      "ReplaceOrder",
      (res) => outcomeOfReports(res.reports),
      async (req, caller) => decide(caller, authorise(caller, req.account), { $case: "replace", value: req }),
    ),
    massCancel: order(
      "mass_cancel",
      "MassCancel",
      () => ACCEPTED,
      async (req, caller) => decide(caller, authorise(caller, req.account), { $case: "massCancel", value: req }),
    ),
    getAccountPositions: unary(async (req, caller) => reads.positions(authorise(caller, req.account), req.instrument)),
    getAccountLimits: unary(async (req, caller) => reads.limits(authorise(caller, req.account))),
    getOrder: unary(async (req, caller) => getOrder(deps.projection, authorise(caller, req.account), req)),
    listOpenOrders: unary(async (req, caller) => {
      const account = authorise(caller, req.account);
      return {
        orders: deps.projection.openOrders(account, req.instrument),
        asOfSequence: deps.projection.lastReportSequence(account),
      };
    }),
    streamExecutionReports: streamExecutionReports({ ...deps, authorise }),
    session: orderEntrySession({
      ...deps,
      intake,
      metrics,
      authorise,
      ...(routing === undefined ? {} : { routed: sessionRouting(routing, deps.accounts, decideHere) }),
    }),
  };
}

/** A Session's batches and cancel on disconnect through the account's owner (ADR 0003). */
function sessionRouting(routing: OwnerRouting, accounts: AccountRegistry, decideHere: LocalDecider): SessionRouting {
  const principal = (caller: Caller) => principalOf(accounts, caller) ?? "";
  return {
    epochOf: (account) => routing.epochOf(account),
    batch: async (account, caller, requests) => {
      const answer = await routing.run(
        account,
        principal(caller),
        { $case: "sessionBatch", value: { requests } },
        decideHere,
      );
      return answer.$case === "sessionAcks" ? answer.value.acks : [];
    },
    cancelAll: async (account, caller) => {
      await routing.run(account, principal(caller), { $case: "cancelOnDisconnect", value: {} }, decideHere);
    },
  };
}
