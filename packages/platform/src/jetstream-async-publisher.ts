import {
  createInbox,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";

/**
 * Pipelined JetStream publishing with one reply subscription for all acks, the way
 * high-rate publishers are built (Go's PublishAsync). `JetStreamClient.publish` pays, per
 * message, a request object, a timer and an Error built with a stack trace on every
 * successful ack (nats.js cancels the settled request with a fresh error): measured as
 * the largest cost on the engine's publish path. Here a message costs one publish and
 * one small callback; timeouts are swept by one timer.
 *
 * Every message is acknowledged individually, so a lost message is always noticed
 * (by its error or its timeout) and never hidden behind a later one that landed.
 *
 * Messages are handed to the connection together, once per turn of the event loop: nats.js
 * writes its buffer to the socket in a microtask after the first message, so a caller that
 * publishes from an async loop (one `await` per consumed message) would otherwise pay one
 * socket write per message, which measured as a quarter of the engine's time on the log path.
 */
export interface PublishOutcome {
  readonly ok: boolean;
  /** Stream sequence the message was stored at (or had, for a duplicate). */
  readonly seq: number;
  readonly duplicate: boolean;
  readonly error?: string;
}

export type PublishCallback = (outcome: PublishOutcome) => void;

/** One message from publish() to its outcome: queued for hand-over, then awaiting its ack. */
interface Pending {
  readonly id: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly msgId: string | undefined;
  /** The caller's headers; several messages may share one object (a command's trace context). */
  readonly headers: MsgHdrs | undefined;
  /** Headers of this message alone, set on `headers` just before it is encoded. */
  readonly own: readonly (readonly [string, string])[] | undefined;
  readonly done: PublishCallback;
  readonly deadline: number;
}

const SWEEP_MIN_MS = 20;
const decoder = new TextDecoder();

export class JetStreamAsyncPublisher {
  private readonly nc: NatsConnection;
  private readonly timeoutMs: number;
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private readonly sweeper: NodeJS.Timeout;
  /** Messages published since the last hand-over to the connection, in order. */
  private outbox: Pending[] = [];
  private handOverScheduled = false;

  constructor(nc: NatsConnection, timeoutMs: number) {
    this.nc = nc;
    this.timeoutMs = timeoutMs;
    this.prefix = createInbox();
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => (err ? undefined : this.onAck(msg)) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(SWEEP_MIN_MS, Math.floor(timeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Messages sent and not yet acknowledged. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Publishes, with the message id when one is given (the stream deduplicates on it), and
   * calls `done` once. `own` are headers of this message alone (`headers` may be shared).
   */
  publish(
    subject: string,
    data: Uint8Array,
    msgId: string | undefined,
    done: PublishCallback,
    headers?: MsgHdrs,
    own?: readonly (readonly [string, string])[],
  ): void {
    const id = ++this.next;
    const p: Pending = {
      id,
      subject,
      data,
      msgId,
      headers,
      own,
      done,
      deadline: performance.now() + this.timeoutMs,
    };
    this.pending.set(id, p);
    this.outbox.push(p);
    if (!this.handOverScheduled) {
      this.handOverScheduled = true;
      setImmediate(this.handOver);
    }
  }

  /**
   * Hands what is queued to the connection now, for a caller that batches on its own and
   * is already at the end of its turn (one more turn of the event loop would only add delay).
   */
  flush(): void {
    if (this.outbox.length > 0) this.handOver();
  }

  /** Gives the connection every message published since the last turn, in one synchronous run. */
  private readonly handOver = (): void => {
    this.handOverScheduled = false;
    const out = this.outbox;
    this.outbox = [];
    for (const m of out) {
      try {
        // The id is set just before the connection encodes the headers: a shared headers
        // object carries each message's own id.
        const h = m.headers ?? natsHeaders();
        if (m.msgId !== undefined) h.set("Nats-Msg-Id", m.msgId);
        if (m.own !== undefined) for (const [k, v] of m.own) h.set(k, v);
        this.nc.publish(m.subject, m.data, { headers: h, reply: `${this.prefix}.${m.id}` });
      } catch (err) {
        // Unless the sweeper has failed it already.
        if (this.pending.delete(m.id)) m.done({ ok: false, seq: 0, duplicate: false, error: (err as Error).message });
      }
    }
  };

  private onAck(msg: Msg): void {
    const id = Number(msg.subject.slice(this.prefix.length + 1));
    const p = this.pending.get(id);
    if (p === undefined) return; // timed out already
    this.pending.delete(id);
    if (msg.data.length === 0) {
      const status = msg.headers?.code ?? 0;
      p.done({
        ok: false,
        seq: 0,
        duplicate: false,
        error: status === 503 ? "no stream for the subject" : `status ${status}`,
      });
      return;
    }
    let ack: { seq?: number; duplicate?: boolean; error?: { description?: string } };
    try {
      ack = JSON.parse(decoder.decode(msg.data)) as typeof ack;
    } catch {
      p.done({ ok: false, seq: 0, duplicate: false, error: "unreadable publish ack" });
      return;
    }
    if (ack.error !== undefined || typeof ack.seq !== "number") {
      p.done({ ok: false, seq: 0, duplicate: false, error: ack.error?.description ?? "publish refused" });
      return;
    }
    p.done({ ok: true, seq: ack.seq, duplicate: ack.duplicate === true });
  }

  /** Fails messages whose ack did not come in time (insertion order = deadline order). */
  private sweep(): void {
    const now = performance.now();
    for (const [id, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(id);
      p.done({ ok: false, seq: 0, duplicate: false, error: "timeout" });
    }
  }

  /** Stops the sweeper and the reply subscription; pending messages fail. */
  close(): void {
    clearInterval(this.sweeper);
    this.outbox = [];
    this.sub.unsubscribe();
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.done({ ok: false, seq: 0, duplicate: false, error: "publisher closed" });
    }
  }
}
