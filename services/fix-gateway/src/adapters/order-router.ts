import { Metadata, status, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import {
  OrderStatus,
  type ExecutionReport,
  type OrderEntryClient,
  type OrderRequest,
  type ReplaceOrderRequest,
  type StreamExecutionReportsResponse,
} from "@tradeplane/contracts";
import { context, trace, SpanStatusCode, type Span, type Tracer } from "@opentelemetry/api";
import { traceparentOf, type Logger } from "@tradeplane/platform";
import { BusinessRejectReason, MsgType, Tag } from "../domain/fix-tags.ts";
import type { FixMessage } from "../domain/fix-message.ts";
import type { InstrumentTable } from "../domain/instruments.ts";
import {
  cancelRequest,
  massCancelRequest,
  newOrderRequest,
  replaceRequest,
  OrdRejReason,
  statusRequest,
  type Refusal,
} from "../domain/order-requests.ts";
import {
  msgTypeOf,
  writeBusinessReject,
  writeCancelRefusal,
  writeMassCancelReport,
  writeOrderRefusal,
  writeOrderStatus,
  writeReport,
} from "../domain/execution-reports.ts";
import { FlowControl, type FlowChange } from "../domain/flow-control.ts";
import { ackOutcome } from "../domain/session-acks.ts";
import type { ApplicationHandler, SessionLink } from "./fix-acceptor.ts";
import { OrderSessionStream } from "./order-session.ts";

/** What the router knows of a configured session. */
export interface RoutedSession {
  readonly id: string;
  readonly account: string;
  /** Bearer token of the session's principal at OrderEntry (read from a file or the environment). */
  readonly token: string;
  /** Cancel this session's open orders (only its own) when it disconnects. */
  readonly cancelOnDisconnect: boolean;
}

export interface OrderRouterDeps {
  readonly sessions: readonly RoutedSession[];
  readonly orderEntry: OrderEntryClient;
  readonly instruments: InstrumentTable;
  readonly logger: Logger;
  /** Each order request is a span whose context travels to OrderEntry (and on to the log and the engine). */
  readonly tracer?: Tracer;
  readonly clock?: () => number;
  readonly deadlineMs?: number;
  /** Called with the session and the ms from a D's arrival to its first ExecutionReport (D-to-8 latency). */
  readonly onAcknowledged?: (session: string, ms: number) => void;
  /** Called for each BusinessMessageReject sent, with its session and BusinessRejectReason (380). */
  readonly onBusinessReject?: (session: string, reason: number) => void;
  /** Bounds on OrderEntry requests in flight (per session, gateway-wide); defaults when absent. */
  readonly flow?: FlowControl;
}

export interface StatusQuery {
  readonly account: string;
  readonly instrument: string;
  readonly clientOrderId: string;
  readonly orderId: number;
  readonly statusReqId: string;
}

/**
 * The application layer: FIX orders to OrderEntry with the session's own token, and the
 * account's execution reports back to the session that owns each order. D, F and G go as
 * requests on one OrderEntry.Session stream per FIX session (its own token and principal,
 * so never shared between sessions; batched per event-loop turn, each request with its
 * span's traceparent); q and H are unary calls (Session has no equivalent answer). Reports
 * come from one StreamExecutionReports per account (started from ListOpenOrders'
 * as_of_sequence, so none is missed between logon and the first order) or a unary call's
 * answer, whichever brings a report first; a Session request refused at its ack is answered
 * from the ack.
 * Cancel-on-disconnect is per FIX session: the orders this session entered, not the account's.
 */
export class OrderRouter implements ApplicationHandler {
  private readonly deps: OrderRouterDeps;
  private readonly sessions: ReadonlyMap<string, RoutedSession>;
  private readonly links = new Map<string, SessionLink>();
  /** Client order ids (orders' and requests') -> the session that sent them. */
  private readonly owners = new Map<string, string>();
  /** Per session: its open orders (order id -> instrument). */
  private readonly openOrders = new Map<string, Map<number, { instrument: string; clientOrderId: string }>>();
  private readonly streams = new Map<string, AccountStream>();
  /** D arrival times by ClOrdID, until the first report (latency metric). */
  private readonly pending = new Map<string, number>();
  private rejectCounter = 0;
  /** Reports already sent (account and sequence), so that the second of two paths skips them. */
  private routed = new Set<string>();
  /** Reports of orders of sessions logged out now, sent at their next Logon (not across a gateway restart). */
  private readonly held = new Map<string, ExecutionReport[]>();
  /** Accounts traded by exactly one FIX session -> that session. */
  private readonly soleSession = new Map<string, string>();
  private routedBefore = new Set<string>();
  private readonly sessionMetadata = new Map<string, Metadata>();
  /** Per FIX session: its OrderEntry.Session stream (its own token), opened at its first order. */
  private readonly orderSessions = new Map<string, OrderSessionStream>();
  readonly flow: FlowControl;

  constructor(deps: OrderRouterDeps) {
    this.deps = deps;
    this.flow = deps.flow ?? new FlowControl();
    this.sessions = new Map(deps.sessions.map((s) => [s.id, s]));
    for (const s of deps.sessions)
      if (deps.sessions.filter((t) => t.account === s.account).length === 1) this.soleSession.set(s.account, s.id);
  }

  loggedOn(link: SessionLink): void {
    const s = this.sessions.get(link.id);
    if (s === undefined) return;
    this.links.set(link.id, link);
    this.applyFlow(this.flow.admit(link.id));
    if (!this.openOrders.has(link.id)) this.openOrders.set(link.id, new Map());
    const held = this.held.get(link.id);
    this.held.delete(link.id);
    for (const report of held ?? []) this.deliver(link, report);
    if (!this.streams.has(s.account)) {
      const stream = new AccountStream(s, this.deps, (r) => this.route(s.account, r));
      this.streams.set(s.account, stream);
      stream.start();
    }
  }

  disconnected(link: SessionLink): void {
    this.links.delete(link.id);
    this.flow.forget(link.id);
    this.orderSessions.get(link.id)?.close();
    this.orderSessions.delete(link.id);
    const s = this.sessions.get(link.id);
    if (s === undefined || !s.cancelOnDisconnect) return;
    const open = this.openOrders.get(link.id);
    if (open === undefined) return;
    for (const [orderId, o] of open) {
      this.deps.orderEntry.cancelOrder(
        {
          account: s.account,
          instrument: o.instrument,
          target: { $case: "orderId", value: orderId },
          clientOrderId: "",
        },
        this.metadata(s),
        { deadline: this.deadline() },
        (err) => {
          if (err)
            this.deps.logger.warn({ session: link.id, orderId, err: err.message }, "cancel on disconnect failed");
        },
      );
    }
    this.deps.logger.info({ session: link.id, orders: open.size }, "cancel on disconnect");
  }

  close(): void {
    for (const s of this.streams.values()) s.stop();
    for (const s of this.orderSessions.values()) s.close();
  }

  message(link: SessionLink, m: FixMessage): void {
    const s = this.sessions.get(link.id);
    if (s === undefined) return;
    const ctx = { account: s.account, instruments: this.deps.instruments };
    const seq = m.int(Tag.MsgSeqNum);
    const msgType = m.msgType;
    switch (msgType) {
      case MsgType.NewOrderSingle: {
        const r = newOrderRequest(m, ctx);
        if (!r.ok) return this.refuseOrder(link, m, seq, msgType, r.refusal);
        const req = r.request;
        this.owners.set(req.clientOrderId, link.id);
        this.pending.set(req.clientOrderId, this.now());
        this.viaSession(link, s, seq, msgType, { $case: "submitOrder", value: req }, req.clientOrderId);
        return;
      }
      case MsgType.OrderCancelRequest:
      case MsgType.OrderCancelReplaceRequest: {
        const r = msgType === MsgType.OrderCancelRequest ? cancelRequest(m, ctx) : replaceRequest(m, ctx);
        if (!r.ok) return this.refuseOrder(link, m, seq, msgType, r.refusal);
        const req = r.request;
        this.owners.set(req.clientOrderId, link.id);
        this.viaSession(
          link,
          s,
          seq,
          msgType,
          msgType === MsgType.OrderCancelRequest
            ? { $case: "cancelOrder", value: req }
            : { $case: "replaceOrder", value: req as ReplaceOrderRequest },
          req.clientOrderId,
        );
        return;
      }
      case MsgType.OrderMassCancelRequest: {
        // Unary: its answer counts the orders cancelled (TotalAffectedOrders), a Session ack does not.
        const r = massCancelRequest(m, ctx);
        if (!r.ok) return this.refuseOrder(link, m, seq, msgType, r.refusal);
        const { type, ...req } = r.request;
        this.owners.set(req.clientOrderId, link.id);
        const span = this.span(link, msgType, req.clientOrderId);
        const answered = this.requestSent(link);
        this.deps.orderEntry.massCancel(req, this.metadata(s, span), { deadline: this.deadline() }, (err, res) => {
          answered();
          this.endSpan(span, err);
          link.send(MsgType.OrderMassCancelReport, (e) =>
            writeMassCancelReport(
              e,
              req.clientOrderId,
              type,
              err
                ? { rejectedText: err.code === status.UNAVAILABLE ? "order entry unavailable" : err.details }
                : { cancelled: res.cancelledCount },
            ),
          );
        });
        return;
      }
      case MsgType.OrderStatusRequest: {
        const r = statusRequest(m, ctx);
        if (!r.ok) return this.refuseOrder(link, m, seq, msgType, r.refusal);
        this.status(link, r.request);
        return;
      }
      default:
        this.businessReject(
          link,
          seq,
          msgType,
          BusinessRejectReason.UnsupportedMessageType,
          `MsgType ${msgType.slice(0, 2)} is not supported`,
        );
    }
  }

  /**
   * D, F and G on the FIX session's OrderEntry.Session stream, with the request's span as its
   * traceparent. An accepted request's reports come on the account's report stream; a refused
   * one is answered from its ack; a stream failure is "outcome unknown" (380=4), as a failed
   * unary call was.
   */
  private viaSession(
    link: SessionLink,
    s: RoutedSession,
    seq: number,
    msgType: string,
    r: NonNullable<OrderRequest["request"]>,
    clOrdId: string,
  ): void {
    const span = this.span(link, msgType, clOrdId);
    const answered = this.requestSent(link);
    const request: OrderRequest = {
      request: r,
      traceparent: span === undefined ? "" : traceparentOf(trace.setSpan(context.active(), span)),
    };
    let stream = this.orderSessions.get(s.id);
    if (stream === undefined) {
      stream = new OrderSessionStream(this.deps.orderEntry, s.token, s.account, this.deps.logger);
      this.orderSessions.set(s.id, stream);
    }
    stream.send({
      request,
      acked: (ack) => {
        answered();
        const outcome = ackOutcome(request, ack, s.account, this.now());
        if (outcome.kind === "accepted") return this.endSpan(span, null);
        const err = serviceError(
          outcome.kind === "unavailable" ? status.UNAVAILABLE : status.OK,
          outcome.kind === "unavailable" ? outcome.text : outcome.report.text,
        );
        // A refusal is an answer (as the unary calls' OK response holding a REJECTED report was).
        this.endSpan(span, outcome.kind === "unavailable" ? err : null);
        if (outcome.kind === "unavailable") return this.unavailable(link, seq, msgType, err);
        this.deliver(link, outcome.report);
      },
      failed: (err) => {
        answered();
        this.endSpan(span, err);
        this.unavailable(link, seq, msgType, err);
      },
    });
  }

  /** H: OrderEntry.GetOrder for the session's account; the order as it stands (ExecType I), or a reject. */
  private status(link: SessionLink, q: StatusQuery): void {
    const s = this.sessions.get(link.id)!;
    const target =
      q.orderId > 0
        ? { $case: "orderId" as const, value: q.orderId }
        : { $case: "clientOrderId" as const, value: q.clientOrderId };
    const answered = this.requestSent(link);
    this.deps.orderEntry.getOrder(
      { account: s.account, target },
      this.metadata(s),
      { deadline: this.deadline() },
      (err, res) => {
        answered();
        const order = err ? undefined : res.order;
        if (order === undefined || (q.instrument !== "" && order.instrument !== q.instrument)) {
          link.send(MsgType.ExecutionReport, (e) => {
            writeOrderRefusal(
              e,
              { clOrdId: q.clientOrderId || "NONE", symbol: q.instrument },
              OrdRejReason.UnknownOrder,
              err ? "order entry unavailable" : "unknown order",
              this.rejectExecId(),
              this.now(),
            );
            if (q.statusReqId !== "") e.string(Tag.OrdStatusReqID, q.statusReqId);
          });
          return;
        }
        link.send(MsgType.ExecutionReport, (e) => {
          writeOrderStatus(e, order, this.deps.instruments, this.now());
          if (q.statusReqId !== "") e.string(Tag.OrdStatusReqID, q.statusReqId);
        });
      },
    );
  }

  /**
   * A report in a call's answer: sent at once (the account's stream brings the same report
   * a little later and is then skipped); reports that never reached the log (sequence 0)
   * only come this way.
   */
  private answered(link: SessionLink, account: string, report: ExecutionReport): void {
    if (report.sequence === 0) this.deliver(link, report);
    else this.route(account, report);
  }

  /** A report of the account, from a call's answer or the stream, whichever comes first: to the session that owns its order. */
  private route(account: string, report: ExecutionReport): void {
    const key = `${account}\u0000${report.sequence}`;
    if (this.routed.has(key) || this.routedBefore.has(key)) return;
    this.routed.add(key);
    // Two generations instead of evicting one by one (an iterator from a Set's start walks
    // every deleted slot): what went out is remembered for at least MAX_ROUTED reports.
    if (this.routed.size >= MAX_ROUTED) {
      this.routedBefore = this.routed;
      this.routed = new Set();
    }
    const o = report.order;
    const owner =
      (report.requestClientOrderId !== "" ? this.owners.get(report.requestClientOrderId) : undefined) ??
      (o !== undefined ? this.owners.get(o.clientOrderId) : undefined) ??
      (report.origClientOrderId !== "" ? this.owners.get(report.origClientOrderId) : undefined) ??
      // Orders entered before this gateway started (or through gRPC): an account with a
      // single FIX session gets them there; with several, nobody can tell whose they are.
      this.soleSession.get(account);
    if (owner === undefined) return;
    if (o !== undefined && o.orderId > 0) {
      const open = this.openOrders.get(owner);
      if (open !== undefined) {
        if (o.status === OrderStatus.NEW || o.status === OrderStatus.PARTIALLY_FILLED)
          open.set(o.orderId, { instrument: o.instrument, clientOrderId: o.clientOrderId });
        else open.delete(o.orderId);
      }
    }
    const link = this.links.get(owner);
    if (link !== undefined) return this.deliver(link, report);
    // Logged out: kept (bounded) and sent at the next Logon, oldest first.
    let held = this.held.get(owner);
    if (held === undefined) this.held.set(owner, (held = []));
    if (held.length < MAX_HELD_REPORTS) held.push(report);
    else this.deps.logger.warn({ session: owner }, "reports held for a logged-out session past the bound: dropped");
  }

  private deliver(link: SessionLink, report: ExecutionReport): void {
    const execId = report.sequence > 0 ? String(report.sequence) : this.rejectExecId();
    link.send(msgTypeOf(report), (e) => writeReport(e, report, this.deps.instruments, execId, this.now()));
    const id = report.requestClientOrderId || report.order?.clientOrderId || "";
    const started = this.pending.get(id);
    if (started !== undefined) {
      this.pending.delete(id);
      this.deps.onAcknowledged?.(link.id, this.now() - started);
    }
  }

  private refuseOrder(link: SessionLink, m: FixMessage, seq: number, msgType: string, refusal: Refusal): void {
    if (refusal.kind === "session-reject") {
      link.send(MsgType.Reject, (e) => {
        if (seq > 0) e.int(Tag.RefSeqNum, seq);
        if (refusal.refTag > 0) e.int(Tag.RefTagID, refusal.refTag);
        e.string(Tag.RefMsgType, msgType).int(Tag.SessionRejectReason, refusal.reason).string(Tag.Text, refusal.text);
      });
      return;
    }
    const clOrdId = m.string(Tag.ClOrdID) ?? "NONE";
    if (msgType === MsgType.OrderCancelRequest || msgType === MsgType.OrderCancelReplaceRequest) {
      const orig = m.string(Tag.OrigClOrdID) ?? "NONE";
      link.send(MsgType.OrderCancelReject, (e) =>
        writeCancelRefusal(e, clOrdId, orig, msgType === MsgType.OrderCancelRequest ? "F" : "G", refusal.text),
      );
    } else if (msgType === MsgType.OrderMassCancelRequest) {
      link.send(MsgType.OrderMassCancelReport, (e) =>
        writeMassCancelReport(e, clOrdId, m.string(Tag.MassCancelRequestType) ?? "0", { rejectedText: refusal.text }),
      );
    } else {
      const symbol = m.string(Tag.Symbol);
      link.send(MsgType.ExecutionReport, (e) =>
        writeOrderRefusal(
          e,
          { clOrdId, symbol: symbol?.slice(0, 32), sideChar: m.char(Tag.Side) },
          refusal.reason,
          refusal.text,
          this.rejectExecId(),
          this.now(),
        ),
      );
    }
  }

  private unavailable(link: SessionLink, seq: number, msgType: string, err: ServiceError): void {
    this.deps.logger.warn({ session: link.id, code: err.code, err: err.details }, "OrderEntry call failed");
    const reason =
      err.code === status.UNAUTHENTICATED || err.code === status.PERMISSION_DENIED
        ? BusinessRejectReason.NotAuthorized
        : BusinessRejectReason.ApplicationNotAvailable;
    this.businessReject(
      link,
      seq,
      msgType,
      reason,
      reason === BusinessRejectReason.NotAuthorized
        ? "not authorized"
        : "order entry unavailable: the outcome is unknown, ask with H",
    );
  }

  private businessReject(link: SessionLink, seq: number, msgType: string, reason: number, text: string): void {
    if (link.send(MsgType.BusinessMessageReject, (e) => writeBusinessReject(e, seq, msgType, reason, text)))
      this.deps.onBusinessReject?.(link.id, reason);
  }

  /**
   * Counts a request of the session in flight (pausing sessions at a bound); the function
   * returned counts its answer (resuming them below the low-water mark), once.
   */
  private requestSent(link: SessionLink): () => void {
    this.applyFlow(this.flow.started(link.id));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.applyFlow(this.flow.finished(link.id));
    };
  }

  private applyFlow(change: FlowChange): void {
    for (const id of change.pause) this.links.get(id)?.pauseReading();
    for (const id of change.resume) this.links.get(id)?.resumeReading();
  }

  private rejectExecId(): string {
    return `R${++this.rejectCounter}`;
  }

  /**
   * The call's metadata: the session's own, made once (grpc-js copies what it is given),
   * plus the span's traceparent when the request is traced.
   */
  private metadata(s: RoutedSession, span?: Span): Metadata {
    let md = this.sessionMetadata.get(s.id);
    if (md === undefined) {
      md = new Metadata();
      md.set("authorization", `Bearer ${s.token}`);
      this.sessionMetadata.set(s.id, md);
    }
    if (span === undefined) return md;
    const traceparent = traceparentOf(trace.setSpan(context.active(), span));
    if (traceparent === "") return md;
    const traced = md.clone();
    traced.set("traceparent", traceparent);
    return traced;
  }

  /**
   * A span for a request, or none when the sampler drops it: an unsampled context sent on
   * would still make the risk gateway enter it for every order.
   */
  private span(link: SessionLink, msgType: string, clOrdId: string): Span | undefined {
    const span = this.deps.tracer?.startSpan(`fix ${msgType}`, {
      attributes: { "fix.session": link.id, "fix.msg_type": msgType, "fix.cl_ord_id": clOrdId },
    });
    if (span === undefined || span.isRecording()) return span;
    span.end();
    return undefined;
  }

  private endSpan(span: Span | undefined, err: ServiceError | null): void {
    if (span === undefined) return;
    if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: err.details });
    span.end();
  }

  private deadline(): Date {
    return new Date(this.now() + (this.deps.deadlineMs ?? 10_000));
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }
}

function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

const RESTART_DELAY_MS = 500;
/** Reports remembered as sent: far more than can be in flight between a call's answer and the stream. */
const MAX_ROUTED = 100_000;
/** Reports held per logged-out session; past it the client reconciles with H. */
const MAX_HELD_REPORTS = 10_000;

/** One account's execution reports: ListOpenOrders for the starting sequence, then the stream, resumed after errors. */
class AccountStream {
  private readonly session: RoutedSession;
  private readonly deps: OrderRouterDeps;
  private readonly onReport: (r: ExecutionReport) => void;
  private call: ClientReadableStream<StreamExecutionReportsResponse> | undefined;
  private next = 0;
  private stopped = false;

  constructor(session: RoutedSession, deps: OrderRouterDeps, onReport: (r: ExecutionReport) => void) {
    this.session = session;
    this.deps = deps;
    this.onReport = onReport;
  }

  start(): void {
    if (this.stopped) return;
    const md = new Metadata();
    md.set("authorization", `Bearer ${this.session.token}`);
    if (this.next > 0) return this.open(md);
    this.deps.orderEntry.listOpenOrders({ account: this.session.account, instrument: "" }, md, (err, res) => {
      if (err) {
        this.deps.logger.warn({ account: this.session.account, err: err.details }, "ListOpenOrders failed; retrying");
        setTimeout(() => this.start(), RESTART_DELAY_MS).unref();
        return;
      }
      this.next = res.asOfSequence + 1;
      this.open(md);
    });
  }

  stop(): void {
    this.stopped = true;
    this.call?.cancel();
  }

  private open(md: Metadata): void {
    const call = this.deps.orderEntry.streamExecutionReports(
      { account: this.session.account, fromSequence: this.next },
      md,
    );
    this.call = call;
    call.on("data", (msg: StreamExecutionReportsResponse) => {
      if (msg.message?.$case !== "report") return;
      const r = msg.message.value;
      if (r.sequence < this.next) return;
      this.next = r.sequence + 1;
      this.onReport(r);
    });
    call.on("error", (e: ServiceError) => {
      if (this.stopped || e.code === status.CANCELLED) return;
      this.deps.logger.warn(
        { account: this.session.account, err: e.details },
        "execution report stream ended; resuming",
      );
      setTimeout(() => this.start(), RESTART_DELAY_MS).unref();
    });
    call.on("end", () => {
      if (!this.stopped) setTimeout(() => this.start(), RESTART_DELAY_MS).unref();
    });
  }
}
