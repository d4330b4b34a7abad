import { DeliverPolicy, type ConsumerMessages, type JetStreamClient } from "@nats-io/jetstream";
import { eventStreamName, type EngineEvent } from "@tradeplane/contracts";
import { decodeEventMessage, type Logger } from "@tradeplane/platform";
import type { MarketState } from "../domain/market-state.ts";

const PULL_EXPIRES_MS = 5_000;
const STALL_CHECK_MS = 1_000;
const STALL_AFTER_MS = 3_000;

export interface EventFollowerDeps {
  readonly js: JetStreamClient;
  readonly venue: string;
  readonly state: MarketState;
  readonly logger: Logger;
  /** Called for every event applied, with its arrival time (performance.now()). */
  readonly onEvent: (receivedAt: number) => void;
  /** Called after at most `batchEvents` events (and after each batch that arrived together). */
  readonly onBatch: () => void;
  /** Events applied before the follower flushes and yields to I/O (writes, drains, requests). */
  readonly batchEvents: number;
}

/**
 * Follows the venue's event stream from the event after the state's position (its first
 * event for a fresh state, the one after a snapshot's otherwise; each replica builds its
 * state from the log on its own) with an ordered pull consumer, into the market state. Replaces
 * a consumer that stops delivering while the stream grows (as the risk gateway does).
 * `caughtUp` resolves once the state reflects the stream as it was at start.
 */
export class EventFollower {
  private readonly deps: EventFollowerDeps;
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private lastMessageAt = performance.now();
  private watchdog: NodeJS.Timeout | undefined;
  /** Events that did not decode (skipped). */
  undecodable = 0;
  private target = 0;
  private caughtUpResolve: (() => void) | undefined;
  readonly caughtUp: Promise<void>;
  /** Events applied since start, and when the follower started / caught up (performance.now()). */
  applied = 0;
  startedAt = 0;
  caughtUpAt = 0;

  constructor(deps: EventFollowerDeps) {
    this.deps = deps;
    this.caughtUp = new Promise((resolve) => (this.caughtUpResolve = resolve));
  }

  get position(): number {
    return this.deps.state.position;
  }

  async start(): Promise<void> {
    this.startedAt = performance.now();
    this.target = await this.lastSeq();
    this.checkCaughtUp();
    this.loop = this.follow();
    this.watchdog = setInterval(() => void this.checkStall(), STALL_CHECK_MS);
    this.watchdog.unref();
  }

  private async lastSeq(): Promise<number> {
    const jsm = await this.deps.js.jetstreamManager();
    const info = await jsm.streams.info(eventStreamName(this.deps.venue));
    return info.state.last_seq;
  }

  private checkCaughtUp(): void {
    if (this.caughtUpResolve !== undefined && this.position >= this.target) {
      this.caughtUpAt = performance.now();
      this.caughtUpResolve();
      this.caughtUpResolve = undefined;
    }
  }

  private async checkStall(): Promise<void> {
    if (this.stopping || performance.now() - this.lastMessageAt < STALL_AFTER_MS) return;
    try {
      if ((await this.lastSeq()) <= this.position) return;
    } catch {
      return;
    }
    this.deps.logger.warn({ position: this.position }, "event consumer stalled with events waiting; resubscribing");
    this.lastMessageAt = performance.now();
    this.messages?.stop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.messages?.stop();
    await this.loop?.catch(() => undefined);
  }

  private async follow(): Promise<void> {
    const { js, venue, state, logger, onEvent } = this.deps;
    let inBatch = 0;
    for (let failures = 0; !this.stopping;) {
      try {
        const consumer = await js.consumers.get(eventStreamName(venue), {
          ...(this.position > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.position + 1 }
            : { deliver_policy: DeliverPolicy.All }),
        });
        this.messages = await consumer.consume({ max_messages: 4_096, expires: PULL_EXPIRES_MS });
        failures = 0;
        for await (const m of this.messages) {
          const now = performance.now();
          this.lastMessageAt = now;
          if (m.seq <= this.position) continue;
          let events: EngineEvent[];
          try {
            events = decodeEventMessage(m.data);
          } catch (err) {
            this.undecodable++;
            state.position = m.seq;
            logger.error({ seq: m.seq, err: (err as Error).message }, "undecodable event message skipped");
            continue;
          }
          // A message is one step of the log: its events share the position m.seq.
          for (const event of events) state.apply(m.seq, event);
          this.applied++;
          onEvent(now);
          // Buffered messages are handed over in microtasks: without a pause here a backlog
          // would be applied in one go while no socket drains and no request is served.
          if (++inBatch >= this.deps.batchEvents) {
            inBatch = 0;
            this.deps.onBatch();
            await new Promise((r) => setImmediate(r));
          }
          if (this.caughtUpResolve !== undefined && m.seq >= this.target) this.checkCaughtUp();
        }
      } catch (err) {
        failures++;
        if (!this.stopping) logger.warn({ err: (err as Error).message }, "event consumer failed; resubscribing");
      }
      if (!this.stopping) await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** Math.min(failures, 5))));
    }
  }
}
