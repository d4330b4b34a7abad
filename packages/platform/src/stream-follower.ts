import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "./logger.ts";

/** Messages the ordered consumer pulls at once. */
export const DEFAULT_FOLLOW_BATCH = 4_096;
/** Pull expiry: heartbeats come at half of it, so a dead server is noticed within seconds. */
const PULL_EXPIRES_MS = 5_000;
const STALL_CHECK_MS = 1_000;
/** No message for this long while the stream has more: the consumer is replaced. */
const STALL_AFTER_MS = 3_000;
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2_000;

export interface StreamFollowerDeps {
  readonly js: JetStreamClient;
  readonly stream: string;
  /** Only these subjects of the stream (all of them when absent). */
  readonly filterSubject?: string;
  readonly logger: Logger;
  /** What the stream holds, for logs: "event", "command". */
  readonly what: string;
  /**
   * Handles one message, in stream order, never one at or before the position. A returned
   * promise is awaited before the next message (to yield, or for back-pressure).
   */
  readonly onMessage: (m: JsMsg) => void | Promise<void>;
  /** The last sequence the stream holds for the filter, for the stall watchdog and `reachedEnd`. */
  readonly lastSeq: () => Promise<number>;
  readonly batch?: number;
  /** Deliver headers only, no bodies (a reader that needs message ids and sequences, not events). */
  readonly headersOnly?: boolean;
}

/**
 * Follows a JetStream stream in order with an ordered consumer, from the message after a
 * stream sequence: the one loop of every reader of the venue's streams (the engine's command
 * log, the gateway's and market data's event stream).
 *
 * nats.js's ordered consumer recreates itself on a gap or missed heartbeats, but not always
 * when the server holding it goes away (seen with a cluster node stopped), and a consume()
 * can fail outright while NATS restarts. So: a failed consumer is replaced from the message
 * after the last one handled, backing off from 50 ms to 2 s; and a watchdog replaces a
 * consumer that delivers nothing for 3 s while the stream holds messages past the position.
 */
export class StreamFollower {
  private readonly deps: StreamFollowerDeps;
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastMessageAt = performance.now();
  private reachWaiters: { seq: number; resolve: () => void }[] = [];
  /** Stream sequence of the last message handled (0 = none). */
  position = 0;
  /** Consumers replaced after a failure or a stall since start. */
  resubscribes = 0;

  constructor(deps: StreamFollowerDeps) {
    this.deps = deps;
  }

  /** Starts following after stream sequence `from` (0 = from the stream's start). */
  start(from = 0): void {
    this.position = from;
    this.lastMessageAt = performance.now();
    this.loop = this.follow();
    this.watchdog = setInterval(() => void this.checkStall(), STALL_CHECK_MS);
    this.watchdog.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.messages?.stop();
    await this.loop?.catch(() => undefined);
  }

  /** Resolves once the message at stream sequence `seq` (or a later one) is handled. */
  reached(seq: number): Promise<void> {
    if (this.position >= seq) return Promise.resolve();
    return new Promise((resolve) => this.reachWaiters.push({ seq, resolve }));
  }

  /** The last sequence the stream holds now (for the filter). */
  streamEnd(): Promise<number> {
    return this.deps.lastSeq();
  }

  /** Resolves once every message the stream holds now is handled. */
  async reachedEnd(): Promise<void> {
    await this.reached(await this.deps.lastSeq());
  }

  private wakeReached(): void {
    const due = this.reachWaiters.filter((w) => w.seq <= this.position);
    if (due.length === 0) return;
    this.reachWaiters = this.reachWaiters.filter((w) => w.seq > this.position);
    for (const w of due) w.resolve();
  }

  private async checkStall(): Promise<void> {
    if (this.stopping || performance.now() - this.lastMessageAt < STALL_AFTER_MS) return;
    try {
      if ((await this.deps.lastSeq()) <= this.position) return;
    } catch {
      return;
    }
    this.deps.logger.warn(
      { position: this.position },
      `${this.deps.what} consumer stalled with messages waiting; resubscribing`,
    );
    this.lastMessageAt = performance.now();
    this.messages?.stop();
  }

  private async follow(): Promise<void> {
    const { js, stream, filterSubject, logger, onMessage, what } = this.deps;
    for (let failures = 0; !this.stopping;) {
      try {
        const consumer = await js.consumers.get(stream, {
          ...(filterSubject === undefined ? {} : { filter_subjects: filterSubject }),
          ...(this.deps.headersOnly === true ? { headers_only: true } : {}),
          ...(this.position > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.position + 1 }
            : { deliver_policy: DeliverPolicy.All }),
        });
        this.messages = await consumer.consume({
          max_messages: this.deps.batch ?? DEFAULT_FOLLOW_BATCH,
          expires: PULL_EXPIRES_MS,
        });
        failures = 0;
        // stop() may have come while the consumer was being created (a signal during start-up).
        if (this.stopping) this.messages.stop();
        for await (const m of this.messages) {
          if (this.stopping) break;
          this.lastMessageAt = performance.now();
          if (m.seq <= this.position) continue;
          const pending = onMessage(m);
          if (pending !== undefined) await pending;
          this.position = m.seq;
          if (this.reachWaiters.length > 0) this.wakeReached();
        }
      } catch (err) {
        failures++;
        if (!this.stopping) logger.warn({ err: (err as Error).message }, `${what} consumer failed; resubscribing`);
      }
      if (this.stopping) break;
      this.resubscribes++;
      await new Promise((r) => setTimeout(r, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(failures, 6))));
    }
  }
}
