import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { eventStreamName, eventSubjectPartition, type EngineEvent } from "@tradeplane/contracts";
import {
  decodeEventMessage,
  EventStreamOrder,
  NO_EVENT,
  StreamFollower,
  type EventMark,
  type Logger,
  lastStoredSeq,
} from "@tradeplane/platform";
import type { MarketState } from "../domain/market-state.ts";

export interface EventFollowerDeps {
  readonly js: JetStreamClient;
  readonly venue: string;
  readonly state: MarketState;
  readonly logger: Logger;
  /** Called for every event applied, with its arrival time (performance.now()). */
  readonly onEvent: (receivedAt: number) => void;
  /**
   * Called after each stream message is handed over (with every held message it released):
   * the only moment a snapshot may be taken, since within a hand-over messages the sequencer
   * released are not applied yet.
   */
  readonly onStep?: () => void;
  /** Called after at most `batchEvents` events (and after each batch that arrived together). */
  readonly onBatch: () => void;
  /** Events applied before the follower flushes and yields to I/O (writes, drains, requests). */
  readonly batchEvents: number;
}

/**
 * Follows the venue's event stream from the event after the state's position (its first
 * event for a fresh state, the one after a snapshot's otherwise; each replica builds its
 * state from the log on its own) into the market state, each engine partition's messages
 * in command order whatever order the stream stored them in (platform's EventStreamOrder:
 * one stored before its predecessor waits for it, one stored twice is dropped). The loop
 * (ordered consumer, resubscribe with backoff, stall watchdog) is platform's StreamFollower.
 * `caughtUp` resolves once the state reflects the stream as it was at start.
 */
export class EventFollower {
  private readonly deps: EventFollowerDeps;
  private readonly stream: StreamFollower;
  private readonly order: EventStreamOrder;
  /** Whether the follower started with every message before its start still in the stream. */
  private complete = true;
  /** Stream sequence of the message being read: the source of what it hands over (monotonic). */
  private reading = 0;
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
    this.order = new EventStreamOrder(
      (partition) => this.initialMark(partition),
      (m) => this.apply(m),
      {
        onGapSkipped: (partition, lost) =>
          deps.logger.error(
            { partition, lost: `${lost.cmdSeq}-${lost.index}` },
            "an event message is gone from the stream; the books go on without its events",
          ),
      },
    );
    const stream = eventStreamName(deps.venue);
    this.stream = new StreamFollower({
      js: deps.js,
      stream,
      logger: deps.logger,
      what: "event",
      onMessage: (m) => this.onMessage(m),
      lastSeq: async () => lastStoredSeq(await deps.js.jetstreamManager(), stream),
    });
  }

  get position(): number {
    return this.deps.state.position;
  }

  /**
   * Stream sequence a snapshot of the state may say it holds everything up to: the state's
   * position, or just before the first message still waiting for its predecessor.
   */
  get safePosition(): number {
    return this.order.safePosition(this.deps.state.position);
  }

  /** Messages waiting for a predecessor, and predecessors given up on (lost for good). */
  get waiting(): number {
    return this.order.waiting;
  }

  get gapsSkipped(): number {
    return this.order.gapsSkipped;
  }

  /** Starts after the state's position; `firstSeq` is the stream's first sequence now (older messages aged out). */
  async start(firstSeq = 1): Promise<void> {
    this.startedAt = performance.now();
    this.complete = this.position + 1 >= firstSeq;
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

  /**
   * Where the state is in `partition`'s events. For a partition it has none of: nothing yet if
   * the stream held everything after its start, else unknown (its first message starts it).
   */
  private initialMark(partition: number): EventMark | undefined {
    return this.deps.state.marks.get(partition) ?? (this.complete ? NO_EVENT : undefined);
  }

  /**
   * EventStreamOrder hands messages over synchronously (one arrival may release every held
   * message it unblocks), so the yield to I/O is taken here, after the hand-over, never in
   * the middle of one: a batch may run past `batchEvents` by what one arrival released.
   */
  private onMessage(m: JsMsg): Promise<void> | undefined {
    this.reading = m.seq;
    this.order.onMessage(m);
    this.deps.onStep?.();
    // Buffered messages are handed over in microtasks: without a pause here a backlog
    // would be applied in one go while no socket drains and no request is served.
    if (this.inBatch >= this.deps.batchEvents) {
      this.inBatch = 0;
      this.deps.onBatch();
      return new Promise((r) => setImmediate(r));
    }
    return undefined;
  }

  private apply(m: JsMsg): void {
    const { state, logger, onEvent } = this.deps;
    const now = performance.now();
    // A message released late (stored before its predecessor) is applied at the position
    // being read, so positions and the updates' source sequences never go back.
    const source = Math.max(this.reading, m.seq, state.position);
    let events: EngineEvent[];
    try {
      events = decodeEventMessage(m.data);
    } catch (err) {
      this.undecodable++;
      state.position = source;
      logger.error({ seq: m.seq, err: (err as Error).message }, "undecodable event message skipped");
      return;
    }
    const partition = eventSubjectPartition(m.subject);
    // A message is one step of the log: its events share the position.
    for (const event of events) state.apply(source, event, partition);
    this.applied++;
    this.inBatch++;
    onEvent(now);
  }
}
