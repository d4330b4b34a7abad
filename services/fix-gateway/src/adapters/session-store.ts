import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetStreamAsyncPublisher } from "@tradeplane/platform";
import type { SessionSequences } from "../domain/session.ts";

/** Most messages one ResendRequest is answered with from the store; older ones are gap-filled. */
export const MAX_RESEND_MESSAGES = 10_000;

interface StoredState extends SessionSequences {
  /** Bumped by each sequence reset: messages live under their generation, so a reset forgets them at once. */
  readonly generation: number;
}

/** Where the store publishes messages without waiting for each: the connection its KV uses and the bucket's name. */
export interface StorePublisher {
  readonly nc: NatsConnection;
  readonly bucket: string;
  /**
   * Publishes a turn's state put with its acknowledgement, on `nc` (one for the gateway):
   * `kv.put` is a nats.js request, which builds a timer and an Error with a stack trace for
   * every put, measured as 5% of the gateway's CPU at 2,000 orders/s (docs/performance.md).
   */
  readonly acks?: JetStreamAsyncPublisher;
}

const encoder = new TextEncoder();

/**
 * One FIX session's state in the venue's FIX KV bucket, so a restarted gateway resumes each
 * session where it was:
 *   `<session>.state`              {"generation","nextSenderSeq","nextTargetSeq"}
 *   `<session>.g<gen>.<seq>`       the message we sent with that MsgSeqNum
 * Work is grouped in turns: commit() publishes the turn's messages without waiting for each
 * (a core NATS publish to the key's subject: no request, no reply inbox) and ends the turn
 * with one acknowledged put of the state. JetStream stores what one
 * connection publishes to one stream in order, so that acknowledgement means every message
 * of the turn is stored too: the acceptor writes a turn's messages to the socket only after
 * it (a message is stored before it is sent, so a resend after any crash finds it), and a
 * turn's whole cost at the store is one round trip whatever the number of messages.
 */
export class SessionStore {
  private readonly kv: KV;
  private readonly session: string;
  private readonly publisher: StorePublisher | undefined;
  private state: StoredState = { generation: 0, nextSenderSeq: 1, nextTargetSeq: 1 };
  private chain: Promise<unknown> = Promise.resolve();
  private dirty = false;
  /** The turn's messages not yet published: subject, bytes, subject, bytes, ... */
  private readonly pending: (string | Uint8Array)[] = [];
  private failed: unknown;
  /** Why the purge of an old generation failed (its keys stay until the bucket's limits remove them). */
  purgeFailed: unknown;

  /** Without `publisher`, messages are put one by one (acknowledged before the turn's commit resolves all the same). */
  constructor(kv: KV, session: string, publisher?: StorePublisher) {
    this.kv = kv;
    this.session = session;
    this.publisher = publisher;
  }

  async load(): Promise<SessionSequences> {
    const entry = await this.kv.get(`${this.session}.state`);
    if (entry !== null && entry.length > 0) {
      const s = entry.json<StoredState>();
      this.state = { generation: s.generation, nextSenderSeq: s.nextSenderSeq, nextTargetSeq: s.nextTargetSeq };
    }
    return { nextSenderSeq: this.state.nextSenderSeq, nextTargetSeq: this.state.nextTargetSeq };
  }

  /** A message we send (not changed afterwards: it is published as it is, at the turn's commit()). Durable once that resolves. */
  storeSent(seq: number, bytes: Uint8Array): void {
    const key = `${this.session}.g${this.state.generation}.${seq}`;
    this.dirty = true;
    if (this.publisher !== undefined) this.pending.push(`$KV.${this.publisher.bucket}.${key}`, bytes);
    else this.enqueue(this.kv.put(key, Uint8Array.from(bytes)));
  }

  /** New sequence numbers: written by the turn's commit(), once however often they changed within it. */
  setSequences(sequences: Readonly<SessionSequences>): void {
    this.state = { ...this.state, ...sequences };
    this.dirty = true;
  }

  /**
   * Ends a turn: resolves when everything given since the last commit is stored (rejects
   * when a write failed: then nothing of the turn may be sent).
   */
  commit(): Promise<void> {
    if (this.dirty) {
      this.dirty = false;
      // Published together with the state's put, so NATS sends the turn in one socket write.
      const { pending, publisher } = this;
      if (publisher !== undefined)
        for (let i = 0; i < pending.length; i += 2)
          publisher.nc.publish(pending[i] as string, pending[i + 1] as Uint8Array);
      pending.length = 0;
      this.enqueue(this.putState(publisher));
    }
    return this.chain.then(() => {
      if (this.failed !== undefined) throw this.failed;
    });
  }

  /** The state's put, after the turn's messages on the same connection (so in the stream after them). */
  private putState(publisher: StorePublisher | undefined): Promise<unknown> {
    const key = `${this.session}.state`;
    const acks = publisher?.acks;
    if (publisher === undefined || acks === undefined) return this.kv.put(key, JSON.stringify(this.state));
    const write = new Promise<void>((resolve, reject) =>
      acks.publish(`$KV.${publisher.bucket}.${key}`, encoder.encode(JSON.stringify(this.state)), undefined, (o) =>
        o.ok ? resolve() : reject(new Error(`session state not stored: ${o.error ?? "no acknowledgement"}`)),
      ),
    );
    // The end of the turn: handed to the connection now, not a turn of the event loop later.
    acks.flush();
    return write;
  }

  /** A sequence reset: later messages go to a new generation; the old one's keys are purged in the background. */
  reset(): void {
    const old = this.state.generation;
    this.state = { generation: old + 1, nextSenderSeq: 1, nextTargetSeq: 1 };
    this.dirty = true;
    // Not part of any turn: the old generation's keys are never read again, and a turn
    // (the answering Logon) must not wait for thousands of purges.
    this.purgeGeneration(old).catch((e: unknown) => {
      this.purgeFailed = e;
    });
  }

  /** The stored messages from..to (at most MAX_RESEND_MESSAGES, the newest). */
  async sent(from: number, to: number): Promise<Map<number, Uint8Array>> {
    await this.commit(); // messages of the turn under way are read back too

    const out = new Map<number, Uint8Array>();
    const first = Math.max(from, to - MAX_RESEND_MESSAGES + 1);
    const gets: Promise<void>[] = [];
    for (let seq = first; seq <= to; seq++)
      gets.push(
        this.kv.get(`${this.session}.g${this.state.generation}.${seq}`).then((e) => {
          if (e !== null && e.length > 0) out.set(seq, e.value);
        }),
      );
    await Promise.all(gets);
    return out;
  }

  /** Waits for every write issued so far (committing what is pending); throws the first that failed. */
  flush(): Promise<void> {
    return this.commit();
  }

  private enqueue(write: Promise<unknown>): void {
    // Issued now (NATS keeps the order of one connection), awaited in turn.
    write.catch((e: unknown) => {
      this.failed ??= e;
    });
    this.chain = this.chain.then(() => write).catch(() => undefined);
  }

  private async purgeGeneration(generation: number): Promise<void> {
    const keys = await this.kv.keys(`${this.session}.g${generation}.*`);
    for await (const key of keys) await this.kv.purge(key);
  }
}
