import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { eventStreamName, eventSubjectPartition, type EngineEvent, type ExecutionReport } from "@tradeplane/contracts";
import type { Tracer } from "@opentelemetry/api";
import {
  decodeEventMessage,
  EventStreamOrder,
  extractTraceContext,
  NO_EVENT,
  StreamFollower,
  type EventMark,
  type Logger,
  lastStoredSeq,
} from "@tradeplane/platform";
import type { AccountReport, OrderProjection } from "@tradeplane/positions/order-projection";

/**
 * Follows the venue's event stream into the order projection (from its start, or from the
 * event after the snapshot the projection was loaded from), and tells
 * waiting requests when their command is fully applied (its `last_in_command` event),
 * and report streams when their account has a new report. The loop (ordered consumer,
 * resubscribe with backoff, stall watchdog) is platform's StreamFollower.
 */
const COMPLETED_KEPT = 20_000;

type Waiter = (reports: AccountReport[]) => void;
type ReportListener = (report: ExecutionReport) => void;

export class EventFollower {
  private readonly projection: OrderProjection;
  private readonly logger: Logger;
  private readonly stream: StreamFollower;
  /** Each partition's messages in command order, whatever order the stream holds them in. */
  private readonly order: EventStreamOrder;
  /** Whether the follower started with every message before its start still in the stream. */
  private complete = true;
  private readonly inProgress = new Map<number, AccountReport[]>();
  private readonly completed = new Map<number, AccountReport[]>();
  /** The newest COMPLETED_KEPT command sequences in `completed`, oldest at the head (0 = free). */
  private readonly completedOrder = new Float64Array(COMPLETED_KEPT);
  private completedHead = 0;
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly listeners = new Map<string, Set<ReportListener>>();
  /** Stream sequence the projection started from (0 = the stream's start), and event messages applied since. */
  startedFrom = 0;
  appliedSinceStart = 0;

  private readonly tracer: Tracer | undefined;
  /** Told of every AccountFenced event (the account owners of ADR 0003). */
  onAccountFenced: ((account: string, partition: number, epoch: number) => void) | undefined;

  /** With `tracer`, a message that carries a trace context is applied inside a span of it. */
  constructor(js: JetStreamClient, venue: string, projection: OrderProjection, logger: Logger, tracer?: Tracer) {
    this.projection = projection;
    this.logger = logger;
    this.tracer = tracer;
    const stream = eventStreamName(venue);
    this.order = new EventStreamOrder(
      (partition) => this.initialMark(partition),
      (m) => this.onMessage(m),
      {
        onGapSkipped: (partition, lost) =>
          logger.error(
            { partition, lost: `${lost.cmdSeq}-${lost.index}` },
            "an event message is gone from the stream; the projection goes on without its events",
          ),
      },
    );
    this.stream = new StreamFollower({
      js,
      stream,
      logger,
      what: "event",
      onMessage: this.order.onMessage,
      lastSeq: async () => lastStoredSeq(await js.jetstreamManager(), stream),
    });
  }

  /** Messages held until their partition's previous message is applied (stored out of order). */
  get waiting(): number {
    return this.order.waiting;
  }

  /** Partition messages given up on as lost (should stay 0). */
  get gapsSkipped(): number {
    return this.order.gapsSkipped;
  }

  /**
   * Stream sequence the projection holds every event up to (what a snapshot records): the
   * last one read, or just before a message still waiting for its predecessor.
   */
  get streamSeq(): number {
    return this.order.safePosition(this.stream.position);
  }

  /**
   * Starts following after stream sequence `fromStreamSeq` (0 = from the stream's start);
   * `firstSeq` is the stream's first sequence now (older messages aged out).
   */
  start(fromStreamSeq = 0, firstSeq = 1): void {
    this.startedFrom = fromStreamSeq;
    this.complete = fromStreamSeq + 1 >= firstSeq;
    this.stream.start(fromStreamSeq);
  }

  /**
   * Where the projection is in `partition`'s events. For a partition it has none of: nothing
   * yet if the stream held everything after its start, else unknown (its first message starts it).
   */
  private initialMark(partition: number): EventMark | undefined {
    const m = this.projection.markOf(partition);
    if (m.commandSeq > 0) return { cmdSeq: m.commandSeq, index: m.index };
    return this.complete ? NO_EVENT : undefined;
  }

  stop(): Promise<void> {
    return this.stream.stop();
  }

  /** Resolves once the event at stream sequence `seq` (or a later one) is applied. */
  reached(seq: number): Promise<void> {
    return this.stream.reached(seq);
  }

  /** Resolves once every event the stream holds now is applied. */
  reachedEnd(): Promise<void> {
    return this.stream.reachedEnd();
  }

  /** Resolves with the reports of command `seq` once all its events are applied. */
  whenApplied(seq: number, timeoutMs: number): Promise<AccountReport[]> {
    const done = this.completed.get(seq);
    if (done !== undefined) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(seq);
        if (list !== undefined) {
          const i = list.indexOf(waiter);
          if (i >= 0) list.splice(i, 1);
        }
        reject(new Error(`command ${seq} not applied within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = (reports) => {
        clearTimeout(timer);
        resolve(reports);
      };
      const list = this.waiters.get(seq) ?? [];
      list.push(waiter);
      this.waiters.set(seq, list);
    });
  }

  /** Calls `listener` with every new report of the account until the returned function is called. */
  onReport(account: string, listener: ReportListener): () => void {
    let set = this.listeners.get(account);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(account, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** A message in its partition's order (EventStreamOrder holds the others until then). */
  private onMessage(m: JsMsg): void {
    let events: EngineEvent[];
    const partition = eventSubjectPartition(m.subject);
    try {
      if (partition === undefined) throw new Error(`subject ${m.subject} names no partition`);
      events = decodeEventMessage(m.data);
    } catch (err) {
      this.logger.error({ seq: m.seq, err: (err as Error).message }, "undecodable event message skipped");
      return;
    }
    this.appliedSinceStart++;
    // Only messages of traced commands carry headers: the common case allocates nothing here.
    if (this.tracer === undefined || m.headers === undefined || !m.headers.has("traceparent")) {
      for (const event of events) this.applyEvent(event, partition);
      return;
    }
    const span = this.tracer.startSpan(
      "risk.execution-reports",
      { attributes: { "tp.partition": partition, "tp.events": events.length, "tp.stream_seq": m.seq } },
      extractTraceContext(m.headers),
    );
    try {
      for (const event of events) this.applyEvent(event, partition);
    } finally {
      span.end();
    }
  }

  private applyEvent(event: EngineEvent, partition: number): void {
    const reports = this.projection.apply(event, partition);
    if (event.body?.$case === "accountFenced" && this.onAccountFenced !== undefined)
      this.onAccountFenced(event.body.value.account, partition, event.body.value.epoch);
    let forCommand = this.inProgress.get(event.commandSeq);
    if (forCommand === undefined) {
      forCommand = [];
      this.inProgress.set(event.commandSeq, forCommand);
    }
    forCommand.push(...reports);
    for (const r of reports) for (const listener of this.listeners.get(r.account) ?? []) listener(r.report);
    if (!event.lastInCommand) return;
    this.inProgress.delete(event.commandSeq);
    // Evicted through a ring of keys: Map#keys().next() walks every deleted slot V8 has not
    // compacted yet, which measured as the gateway's largest cost under load.
    const evicted = this.completedOrder[this.completedHead]!;
    if (evicted !== 0) this.completed.delete(evicted);
    this.completedOrder[this.completedHead] = event.commandSeq;
    this.completedHead = (this.completedHead + 1) % COMPLETED_KEPT;
    this.completed.set(event.commandSeq, forCommand);
    const waiting = this.waiters.get(event.commandSeq);
    if (waiting !== undefined) {
      this.waiters.delete(event.commandSeq);
      for (const w of waiting) w(forCommand);
    }
  }
}
