import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { eventStreamName, type EngineEvent } from "@tradeplane/contracts";
import { decodeEventMessage, StreamFollower, type Logger } from "@tradeplane/platform";
import type { MarketState } from "../domain/market-state.ts";

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
 * state from the log on its own) into the market state. The loop (ordered consumer,
 * resubscribe with backoff, stall watchdog) is platform's StreamFollower.
 * `caughtUp` resolves once the state reflects the stream as it was at start.
 */
export class EventFollower {
  private readonly deps: EventFollowerDeps;
  private readonly stream: StreamFollower;
  private inBatch = 0;
  /** Events that did not decode (skipped). */
  undecodable = 0;
  private caughtUpResolve: (() => void) | undefined;
  readonly caughtUp: Promise<void>;
  /** Events applied since start, and when the follower started / caught up (performance.now()). */
  applied = 0;
  startedAt = 0;
  caughtUpAt = 0;

  constructor(deps: EventFollowerDeps) {
    this.deps = deps;
    this.caughtUp = new Promise((resolve) => (this.caughtUpResolve = resolve));
    const stream = eventStreamName(deps.venue);
    this.stream = new StreamFollower({
      js: deps.js,
      stream,
      logger: deps.logger,
      what: "event",
      onMessage: (m) => this.onMessage(m),
      lastSeq: async () => (await (await deps.js.jetstreamManager()).streams.info(stream)).state.last_seq,
    });
  }

  get position(): number {
    return this.deps.state.position;
  }

  async start(): Promise<void> {
    this.startedAt = performance.now();
    const target = await this.stream.streamEnd();
    this.stream.start(this.position);
    void this.stream.reached(target).then(() => {
      this.caughtUpAt = performance.now();
      this.caughtUpResolve?.();
      this.caughtUpResolve = undefined;
    });
  }

  /** Resolves once every event the stream holds now is applied. */
  reachedEnd(): Promise<void> {
    return this.stream.reachedEnd();
  }

  async stop(): Promise<void> {
    await this.stream.stop();
  }

  private onMessage(m: JsMsg): Promise<void> | undefined {
    const { state, logger, onEvent } = this.deps;
    const now = performance.now();
    let events: EngineEvent[];
    try {
      events = decodeEventMessage(m.data);
    } catch (err) {
      this.undecodable++;
      state.position = m.seq;
      logger.error({ seq: m.seq, err: (err as Error).message }, "undecodable event message skipped");
      return undefined;
    }
    // A message is one step of the log: its events share the position m.seq.
    for (const event of events) state.apply(m.seq, event);
    this.applied++;
    onEvent(now);
    // Buffered messages are handed over in microtasks: without a pause here a backlog
    // would be applied in one go while no socket drains and no request is served.
    if (++this.inBatch >= this.deps.batchEvents) {
      this.inBatch = 0;
      this.deps.onBatch();
      return new Promise((r) => setImmediate(r));
    }
    return undefined;
  }
}
