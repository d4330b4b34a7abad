import { Metadata, status, type ClientDuplexStream, type ServiceError } from "@grpc/grpc-js";
import type {
  OrderEntryClient,
  OrderRequest,
  RequestAck,
  SessionRequest,
  SessionResponse,
} from "@tradeplane/contracts";
import type { Logger } from "@tradeplane/platform";

/** Heartbeats both ways; the risk gateway ends a stream after three silent intervals (generous: a loaded host stalls). */
const HEARTBEAT_MS = 5_000;
/** What the risk gateway takes per batch until its `opened` says otherwise. */
const DEFAULT_MAX_BATCH = 1_000;

/** One request sent on the stream, and what to do with its answer. */
export interface SessionCall {
  readonly request: OrderRequest;
  /** Its acknowledgement (the request is in the log, or refused with a reason). */
  acked(ack: RequestAck): void;
  /** The stream failed before the ack: the outcome is unknown. */
  failed(err: ServiceError): void;
}

/**
 * One FIX session's OrderEntry.Session stream (opened with the session's own token, at the
 * first request, again after a failure): the requests of one event-loop turn go out as one
 * batch, acks come back per batch in order. It is opened `acksOnly`: the account's report
 * stream brings the reports (from ListOpenOrders' sequence, across stream restarts), so the
 * Session would only duplicate them, and a session slow to read them would be ended. The
 * Session's cancel-on-disconnect is off: it would cancel the whole account's orders, and
 * FIX's is per session (the router does it).
 */
export class OrderSessionStream {
  private readonly client: OrderEntryClient;
  private readonly metadata: Metadata;
  private readonly account: string;
  private readonly logger: Logger;
  private call: ClientDuplexStream<SessionRequest, SessionResponse> | undefined;
  private sequence = 0;
  private maxBatch = DEFAULT_MAX_BATCH;
  private queued: SessionCall[] = [];
  private flushScheduled = false;
  /** Batches sent and not yet acknowledged, by their message sequence (acks come in this order). */
  private readonly inFlight = new Map<number, SessionCall[]>();
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(client: OrderEntryClient, token: string, account: string, logger: Logger) {
    this.client = client;
    this.metadata = new Metadata();
    this.metadata.set("authorization", `Bearer ${token}`);
    this.account = account;
    this.logger = logger;
  }

  send(call: SessionCall): void {
    this.queued.push(call);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the I/O phase: every order that phase parsed is one batch.
    setImmediate(() => this.flush());
  }

  /** Ends the stream; requests not yet acknowledged fail (their reports still come on the report stream). */
  close(): void {
    this.closed = true;
    const call = this.call;
    this.reset(Object.assign(new Error("FIX session closed"), { code: status.CANCELLED, details: "closed" }));
    call?.end();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queued.length === 0) return;
    const calls = this.queued;
    this.queued = [];
    if (this.closed) {
      const err = Object.assign(new Error("FIX session closed"), { code: status.CANCELLED, details: "closed" });
      for (const c of calls) c.failed(err as ServiceError);
      return;
    }
    const stream = this.call ?? this.open();
    for (let from = 0; from < calls.length; from += this.maxBatch) {
      const part = calls.length <= this.maxBatch ? calls : calls.slice(from, from + this.maxBatch);
      const sequence = ++this.sequence;
      this.inFlight.set(sequence, part);
      stream.write({ sequence, message: { $case: "batch", value: { requests: part.map((c) => c.request) } } });
    }
  }

  private open(): ClientDuplexStream<SessionRequest, SessionResponse> {
    const call = this.client.session(this.metadata);
    this.call = call;
    this.sequence = 1;
    call.write({
      sequence: 1,
      message: {
        $case: "open",
        value: { account: this.account, cancelOnDisconnect: false, heartbeatIntervalMs: HEARTBEAT_MS, acksOnly: true },
      },
    });
    call.on("data", (m: SessionResponse) => {
      if (this.call !== call) return;
      const msg = m.message;
      if (msg?.$case === "acks") {
        const calls = this.inFlight.get(msg.value.requestSequence);
        this.inFlight.delete(msg.value.requestSequence);
        if (calls === undefined) return;
        for (const ack of msg.value.acks) calls[ack.index]?.acked(ack);
      } else if (msg?.$case === "opened") {
        if (msg.value.maxBatchSize > 0) this.maxBatch = msg.value.maxBatchSize;
      }
    });
    const ended = (err: ServiceError) => {
      if (this.call !== call) return;
      if (err.code !== status.CANCELLED || !this.closed)
        this.logger.warn({ account: this.account, code: err.code, err: err.details }, "OrderEntry session ended");
      this.reset(err);
    };
    call.on("error", ended);
    call.on("end", () =>
      ended(
        Object.assign(new Error("session ended"), {
          code: status.UNAVAILABLE,
          details: "session ended",
        }) as ServiceError,
      ),
    );
    this.heartbeat = setInterval(() => {
      if (this.call === call) call.write({ sequence: ++this.sequence, message: { $case: "heartbeat", value: {} } });
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    return call;
  }

  /** Forgets the stream; its unacknowledged requests fail. The next request opens a new one. */
  private reset(err: Error): void {
    clearInterval(this.heartbeat);
    this.call = undefined;
    const pending = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const calls of pending) for (const c of calls) c.failed(err as ServiceError);
  }
}
