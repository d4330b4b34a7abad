import type { KV } from "@nats-io/kv";
import type { SessionSequences } from "../domain/session.ts";

/** Most messages one ResendRequest is answered with from the store; older ones are gap-filled. */
export const MAX_RESEND_MESSAGES = 10_000;

interface StoredState extends SessionSequences {
  /** Bumped by each sequence reset: messages live under their generation, so a reset forgets them at once. */
  readonly generation: number;
}

/**
 * One FIX session's state in the venue's FIX KV bucket, so a restarted gateway resumes each
 * session where it was:
 *   `<session>.state`              {"generation","nextSenderSeq","nextTargetSeq"}
 *   `<session>.g<gen>.<seq>`       the message we sent with that MsgSeqNum
 * Writes are issued in the order the session acted and chained, so the state in the bucket
 * never goes back; `flush()` waits for them (shutdown). A message is handed to the socket
 * before its put is acknowledged (the order path does not wait on the store): a crash in
 * between can lose the last messages, which a resend then gap-fills, and the client's
 * order status request (H) recovers.
 */
export class SessionStore {
  private readonly kv: KV;
  private readonly session: string;
  private state: StoredState = { generation: 0, nextSenderSeq: 1, nextTargetSeq: 1 };
  private chain: Promise<unknown> = Promise.resolve();
  private stateDirty = false;
  private failed: unknown;

  constructor(kv: KV, session: string) {
    this.kv = kv;
    this.session = session;
  }

  async load(): Promise<SessionSequences> {
    const entry = await this.kv.get(`${this.session}.state`);
    if (entry !== null && entry.length > 0) {
      const s = entry.json<StoredState>();
      this.state = { generation: s.generation, nextSenderSeq: s.nextSenderSeq, nextTargetSeq: s.nextTargetSeq };
    }
    return { nextSenderSeq: this.state.nextSenderSeq, nextTargetSeq: this.state.nextTargetSeq };
  }

  /** A message we sent (`bytes` is copied before the call returns). */
  storeSent(seq: number, bytes: Uint8Array): void {
    this.enqueue(this.kv.put(`${this.session}.g${this.state.generation}.${seq}`, Uint8Array.from(bytes)));
  }

  /** New sequence numbers: written once per turn however often they change within it. */
  setSequences(sequences: Readonly<SessionSequences>): void {
    this.state = { ...this.state, ...sequences };
    if (this.stateDirty) return;
    this.stateDirty = true;
    queueMicrotask(() => {
      this.stateDirty = false;
      this.enqueue(this.kv.put(`${this.session}.state`, JSON.stringify(this.state)));
    });
  }

  /** A sequence reset: later messages go to a new generation; the old one's keys are purged in the background. */
  reset(): void {
    const old = this.state.generation;
    this.state = { generation: old + 1, nextSenderSeq: 1, nextTargetSeq: 1 };
    this.enqueue(this.purgeGeneration(old));
  }

  /** The stored messages from..to (at most MAX_RESEND_MESSAGES, the newest). */
  async sent(from: number, to: number): Promise<Map<number, Uint8Array>> {
    await this.chain;
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

  /** Waits for every write issued so far; throws the first that failed. */
  async flush(): Promise<void> {
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    await this.chain;
    if (this.failed !== undefined) throw this.failed;
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
