import { status as GrpcStatus, type ServerDuplexStream } from "@grpc/grpc-js";
import {
  CancelReason,
  RejectReason,
  RequestKind,
  type ExecutionReport,
  type OrderRequest,
  type RequestAck,
  type SessionOpen,
  type SessionRequest,
  type SessionResponse,
} from "@tradeplane/contracts";
import { context, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import {
  contextOfTraceparent,
  malformedRequest,
  timestampOfMs,
  toGrpcError,
  type CommandLogWriter,
  type Logger,
} from "@tradeplane/platform";
import { echoedClientOrderId, type InstrumentInfo } from "../domain/order-intake.ts";
import { INVALID, kindOfSessionRequest, outcomeOfAck, UNAVAILABLE } from "../domain/request-outcome.ts";
import type { OrderProjection } from "@tradeplane/positions/order-projection";
import { cancelEverywhere } from "./cancel-all.ts";
import type { AccountRegistry } from "./accounts.ts";
import type { EventFollower } from "./event-follower.ts";
import { MAX_QUEUED_REPORTS } from "./execution-report-stream.ts";
import type { Caller } from "./order-entry-auth.ts";
import type { OrderEntryMetrics, RequestKindLabel } from "./order-entry-metrics.ts";
import type { OrderIntake } from "./order-intake.ts";

const DEFAULT_SESSION_HEARTBEAT_MS = 1_000;
/** Most requests one session batch may carry. */
export const MAX_SESSION_BATCH = 1_000;
/** Batches of one session written to the log but not yet stored before the gateway stops reading the session. */
const MAX_SESSION_BATCHES_IN_FLIGHT = 64;
let sessionCounter = 0;

export interface SessionDeps {
  readonly instanceId: string;
  readonly accounts: AccountRegistry;
  readonly instruments: ReadonlyMap<string, InstrumentInfo>;
  readonly projection: OrderProjection;
  readonly follower: EventFollower;
  readonly log: CommandLogWriter;
  readonly logger: Logger;
  readonly intake: OrderIntake;
  /** Counts each request of the session's batches once, here where it arrived, by its ack. */
  readonly metrics: OrderEntryMetrics;
  readonly authorise: (caller: Caller, requested: string) => string;
  /**
   * With several gateway replicas (ADR 0003): batches of an account this replica does not
   * decide go to its owner, in order; cancel on disconnect too. Absent with one replica.
   */
  readonly routed?: SessionRouting;
  /** Spans of the requests that carry a traceparent (children of it). */
  readonly tracer?: Tracer;
}

export interface SessionRouting {
  /** The epoch this replica decides the account at; undefined when another replica (or none yet) does. */
  epochOf(account: string): number | undefined;
  /** The batch decided by the account's owner (here after acquiring it, or over GatewayPeer). */
  batch(account: string, caller: Caller, requests: OrderRequest[]): Promise<RequestAck[]>;
  /** Cancels the account's open orders everywhere, through its owner. */
  cancelAll(account: string, caller: Caller): Promise<void>;
}

/**
 * OrderEntry.Session: one bidirectional stream that opens for one account, carries batches
 * of requests (each acknowledged once its commands are in the log) and the account's
 * execution reports (unless opened `acks_only`), with heartbeats both ways and cancel on
 * disconnect.
 */
export function orderEntrySession(
  deps: SessionDeps,
): (call: ServerDuplexStream<SessionRequest, SessionResponse>) => void {
  return (call) => {
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
    /** Batches sent to the account's owner, one after another (never rejects); how many are pending. */
    let routedChain: Promise<unknown> = Promise.resolve();
    let routedPending = 0;
    const timers: NodeJS.Timeout[] = [];
    let unsubscribe: () => void = () => undefined;
    let unwatchToken: () => void = () => undefined;
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
      unwatchToken();
      if (cancelOnDisconnect && account !== undefined && deps.routed !== undefined) {
        const who = account;
        deps.routed
          .cancelAll(who, call)
          .catch((err: unknown) => deps.logger.error({ err, account: who }, "cancel-on-disconnect failed"));
        deps.logger.info({ account: who }, "session ended: cancelling open orders (cancel on disconnect)");
      } else if (cancelOnDisconnect && account !== undefined) {
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
        account = deps.authorise(call, o.account);
      } catch (err) {
        const e = toGrpcError(err);
        fail(e.code, e.details);
        return;
      }
      if (o.acksOnly && o.reportsFromSequence !== undefined)
        return fail(GrpcStatus.INVALID_ARGUMENT, "reports_from_sequence asks for reports that acks_only turns off");
      const who = account;
      // A token revoked while its session is open ends the session once this replica's watch shows it.
      unwatchToken = deps.accounts.whenRevoked(call.metadata, () => fail(GrpcStatus.UNAUTHENTICATED, "token revoked"));
      cancelOnDisconnect = o.cancelOnDisconnect;
      heartbeatMs = o.heartbeatIntervalMs === 0 ? DEFAULT_SESSION_HEARTBEAT_MS : Math.max(100, o.heartbeatIntervalMs);
      const next = o.reportsFromSequence ?? deps.projection.lastReportSequence(who) + 1;
      write({
        $case: "opened",
        value: {
          sessionId: `${deps.instanceId}-${++sessionCounter}`,
          maxBatchSize: MAX_SESSION_BATCH,
          heartbeatIntervalMs: heartbeatMs,
          nextReportSequence: next,
        },
      });
      if (!o.acksOnly) sendReports(who, next, o.reportsFromSequence !== undefined);
      if (ended) return; // the replay asked for is no longer kept
      timers.push(
        setInterval(() => {
          if (Date.now() - lastInbound > heartbeatMs * 3)
            return fail(GrpcStatus.DEADLINE_EXCEEDED, "no message from the client for three heartbeat intervals");
          write({ $case: "heartbeat", value: { time: timestampOfMs(Date.now()) } });
        }, heartbeatMs),
      );
    };

    /** The account's reports on the session: the kept backlog from `next` when `replay`, then live ones, in batches. */
    const sendReports = (who: string, from: number, replay: boolean): void => {
      let next = from;
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
      if (replay) {
        const backlog = deps.projection.reportsSince(who, next - 1);
        if (backlog === undefined)
          return fail(
            GrpcStatus.OUT_OF_RANGE,
            "reports before reports_from_sequence are no longer kept: reconcile with ListOpenOrders",
          );
        queued.unshift(...backlog);
        flush();
      }
    };

    /** A batch the session refuses as a whole, ending the stream: each of its requests is invalid. */
    const refusedWhole = (message: SessionRequest["message"]): void => {
      if (message?.$case === "batch") deps.metrics.counted("any", INVALID, message.value.requests.length);
    };

    call.on("data", (req: SessionRequest) => {
      if (ended) return;
      lastInbound = Date.now();
      const malformed = malformedRequest(req);
      if (malformed !== undefined) {
        refusedWhole(req.message);
        return fail(GrpcStatus.INVALID_ARGUMENT, malformed);
      }
      if (req.sequence !== expected) {
        refusedWhole(req.message);
        return fail(GrpcStatus.INVALID_ARGUMENT, `message sequence ${req.sequence}, expected ${expected}`);
      }
      expected++;
      const message = req.message;
      if (message === undefined) return fail(GrpcStatus.INVALID_ARGUMENT, "empty session message");
      if (message.$case === "open") {
        if (account !== undefined) return fail(GrpcStatus.INVALID_ARGUMENT, "the session is already open");
        return open(message.value);
      }
      if (account === undefined) {
        refusedWhole(message);
        return fail(GrpcStatus.FAILED_PRECONDITION, "the first message must be open");
      }
      if (message.$case === "batch") {
        const requests = message.value.requests;
        if (requests.length === 0 || requests.length > MAX_SESSION_BATCH) {
          refusedWhole(message);
          return fail(GrpcStatus.INVALID_ARGUMENT, `a batch holds 1..${MAX_SESSION_BATCH} requests`);
        }
        let acks: Promise<RequestAck[]>;
        const { routed } = deps;
        try {
          // Decided here when this replica owns the account and no earlier batch is still on
          // its way to an owner (batches are decided in the order they came).
          if (routed === undefined || (routedPending === 0 && routed.epochOf(account) !== undefined))
            acks = sessionBatch(deps.intake, deps.metrics, account, requests, deps.tracer);
          else {
            const who = account;
            routedPending++;
            const next = routedChain
              .then(() => routed.batch(who, call, requests))
              .catch((err: unknown) => {
                deps.logger.warn({ err: (err as Error).message, account: who }, "session batch not routed");
                return unavailableAcks(requests);
              })
              .finally(() => routedPending--);
            routedChain = next;
            acks = next;
          }
        } catch (err) {
          // An unexpected fault in the checks ends up in the log below, not as a crash.
          acks = Promise.reject(err);
        }
        const requestSequence = req.sequence;
        // Each request counted once, by its ack, wherever the batch was decided; a batch that
        // failed before its acks (a fault, logged) counts as unavailable and gets no acks.
        const counted = acks.then(
          (all) => {
            requests.forEach((r, i) => deps.metrics.counted(kindOfSessionRequest(r), outcomeOfAck(r, all[i])));
            return all;
          },
          (err: unknown) => {
            for (const r of requests) deps.metrics.counted(kindOfSessionRequest(r), UNAVAILABLE);
            deps.logger.error({ err }, "session batch failed");
            return undefined;
          },
        );
        // Back-pressure on a client that writes faster than the log stores: stop reading
        // its stream while too many of its batches wait for storage.
        if (++batchesInFlight === MAX_SESSION_BATCHES_IN_FLIGHT) call.pause();
        acksWritten = acksWritten
          .then(() => counted)
          .then((all) => {
            if (all !== undefined && !ended) write({ $case: "acks", value: { requestSequence, acks: all } });
          })
          .catch((err: unknown) => deps.logger.error({ err }, "session acks not written"))
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
  };
}

const KIND_OF_CASE: Readonly<Record<string, RequestKind>> = {
  submitOrder: RequestKind.NEW_ORDER,
  cancelOrder: RequestKind.CANCEL_ORDER,
  replaceOrder: RequestKind.REPLACE_ORDER,
  massCancel: RequestKind.MASS_CANCEL,
};

/** "Retry" for every request of a batch that no replica could decide (the account is changing owner). */
function unavailableAcks(requests: readonly OrderRequest[]): RequestAck[] {
  return requests.map((r, index) => ({
    index,
    requestKind: KIND_OF_CASE[r.request?.$case ?? ""] ?? RequestKind.UNSPECIFIED,
    clientOrderId: echoedClientOrderId(r.request?.value.clientOrderId ?? ""),
    accepted: false,
    orderId: 0,
    commands: [],
    rejectReason: RejectReason.UNAVAILABLE,
    text: "the account is being handed over between gateway replicas; it is safe to retry",
  }));
}

/** The metric label of each kind of request a Session carries. */
const KIND_LABELS: Readonly<Record<number, RequestKindLabel>> = {
  [RequestKind.NEW_ORDER]: "submit",
  [RequestKind.CANCEL_ORDER]: "cancel",
  [RequestKind.REPLACE_ORDER]: "replace",
  [RequestKind.MASS_CANCEL]: "mass_cancel",
};

/**
 * Checks each request of a batch and appends it to the command log, synchronously and in
 * order; resolves with the batch's acks once every append is stored. The appends of the
 * next batch are issued right after, without waiting for these to be stored: the log
 * keeps the order in which appends are issued (per instrument; see orderEntry), so a
 * session's pipeline is not one storage round trip per batch.
 *
 * A request that carries a `traceparent` (and a tracer given) is decided inside a server
 * span that is its child, active while its command is appended, so the command carries the
 * span to the engine: the same trace as a unary call's (whose context is in its metadata).
 */
export function sessionBatch(
  intake: OrderIntake,
  metrics: OrderEntryMetrics,
  who: string,
  requests: OrderRequest[],
  tracer?: Tracer,
): Promise<RequestAck[]> {
  const arrived = performance.now();
  const acks = requests.map((r, index) =>
    tracer === undefined || r.traceparent === ""
      ? sessionRequest(intake, metrics, who, r, index, arrived)
      : tracedRequest(tracer, r, () => sessionRequest(intake, metrics, who, r, index, arrived)),
  );
  return Promise.all(acks);
}

const RPC_OF_CASE: Readonly<Record<string, string>> = {
  submitOrder: "SubmitOrder",
  cancelOrder: "CancelOrder",
  replaceOrder: "ReplaceOrder",
  massCancel: "MassCancel",
};

/** The request decided in a span of its own trace context, ended when its ack is known. */
function tracedRequest(tracer: Tracer, r: OrderRequest, decide: () => Promise<RequestAck>): Promise<RequestAck> {
  const parent = contextOfTraceparent(r.traceparent);
  const span = tracer.startSpan(
    `tradeplane.v1.OrderEntry/Session ${RPC_OF_CASE[r.request?.$case ?? ""] ?? "Request"}`,
    { kind: SpanKind.SERVER },
    parent,
  );
  const ack = context.with(trace.setSpan(parent, span), decide);
  return ack.then(
    (a) => {
      if (!a.accepted) span.setStatus({ code: SpanStatusCode.ERROR, message: a.text });
      span.end();
      return a;
    },
    (err: unknown) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      span.end();
      throw err;
    },
  );
}

/**
 * One request of a batch: refused at once, or acknowledged once its commands are stored.
 * Counted by the session that received it, from the ack (the batch may be decided at the
 * account's owner); timed here.
 */
function sessionRequest(
  intake: OrderIntake,
  metrics: OrderEntryMetrics,
  who: string,
  r: OrderRequest,
  index: number,
  arrived: number,
): Promise<RequestAck> {
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
      clientOrderId: echoedClientOrderId(id),
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
      (commandSeq) => {
        metrics.acknowledged(KIND_LABELS[kind] ?? "any", arrived);
        return {
          ...base,
          requestKind: kind,
          clientOrderId: id,
          accepted: true,
          orderId: isNew ? commandSeq : 0,
          commands: [{ partition, commandSeq }],
        };
      },
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
      const prepared = intake.prepareSubmit(who, req);
      if (!prepared.ok) return refused(RequestKind.NEW_ORDER, req.clientOrderId, prepared.reason, prepared.text);
      return written(
        RequestKind.NEW_ORDER,
        req.clientOrderId,
        prepared.partition,
        intake.appendTracked(who, req.clientOrderId, prepared.partition, prepared.body, prepared.hold),
        true,
      );
    }
    case "cancelOrder": {
      const req = request.value;
      const prepared = intake.prepareCancel(who, req);
      if (!prepared.ok) return refused(RequestKind.CANCEL_ORDER, req.clientOrderId, prepared.reason, prepared.text);
      return written(
        RequestKind.CANCEL_ORDER,
        req.clientOrderId,
        prepared.partition,
        intake.append(who, prepared.partition, prepared.body),
        false,
      );
    }
    case "replaceOrder": {
      const req = request.value;
      const prepared = intake.prepareReplace(who, req);
      if (!prepared.ok) return refused(RequestKind.REPLACE_ORDER, req.clientOrderId, prepared.reason, prepared.text);
      return written(
        RequestKind.REPLACE_ORDER,
        req.clientOrderId,
        prepared.partition,
        intake.appendTracked(who, req.clientOrderId, prepared.partition, prepared.body, prepared.hold),
        false,
      );
    }
    case "massCancel": {
      const req = request.value;
      const prepared = intake.prepareMassCancel(req);
      if (!prepared.ok) return refused(RequestKind.MASS_CANCEL, req.clientOrderId, prepared.reason, prepared.text);
      // One command per partition; the ack names the first (all are in the log when it is sent).
      const seqs = prepared.partitions.map((partition) => intake.append(who, partition, prepared.body));
      return written(
        RequestKind.MASS_CANCEL,
        req.clientOrderId,
        prepared.partitions[0]!,
        Promise.all(seqs).then((all) => all[0]!),
        false,
      );
    }
  }
}
