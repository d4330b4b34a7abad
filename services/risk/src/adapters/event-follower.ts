import { DeliverPolicy, type ConsumerMessages, type JetStreamClient } from "@nats-io/jetstream";
import { eventStreamName, eventSubjectPartition, type EngineEvent, type ExecutionReport } from "@tradeplane/contracts";
import { decodeEventMessage, type Logger } from "@tradeplane/platform";
import type { AccountReport, OrderProjection } from "@tradeplane/positions/order-projection";

/**
 * Follows the venue's event stream into the order projection (from its start, or from the
 * event after the snapshot the projection was loaded from), and tells
 * waiting requests when their command is fully applied (its `last_in_command` event),
 * and report streams when their account has a new report.
 */
const COMPLETED_KEPT = 20_000;
const PULL_EXPIRES_MS = 5_000;
const STALL_CHECK_MS = 1_000;
const STALL_AFTER_MS = 3_000;

type Waiter = (reports: AccountReport[]) => void;
type ReportListener = (report: ExecutionReport) => void;

export class EventFollower {
  private readonly js: JetStreamClient;
  private readonly venue: string;
  private readonly projection: OrderProjection;
  private readonly logger: Logger;
  private readonly inProgress = new Map<number, AccountReport[]>();
  private readonly completed = new Map<number, AccountReport[]>();
  /** The newest COMPLETED_KEPT command sequences in `completed`, oldest at the head (0 = free). */
  private readonly completedOrder = new Float64Array(COMPLETED_KEPT);
  private completedHead = 0;
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly listeners = new Map<string, Set<ReportListener>>();
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Stream sequence of the last event applied. */
  streamSeq = 0;
  /** Stream sequence the projection started from (0 = the stream's start), and events applied since. */
  startedFrom = 0;
  appliedSinceStart = 0;
  /** Callers of `reached`, by the stream sequence they wait for. */
  private reachWaiters: { seq: number; resolve: () => void }[] = [];
  private lastMessageAt = performance.now();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(js: JetStreamClient, venue: string, projection: OrderProjection, logger: Logger) {
    this.js = js;
    this.venue = venue;
    this.projection = projection;
    this.logger = logger;
  }

  /** Starts following after stream sequence `fromStreamSeq` (0 = from the stream's start). */
  start(fromStreamSeq = 0): void {
    this.streamSeq = fromStreamSeq;
    this.startedFrom = fromStreamSeq;
    this.loop = this.follow();
    // As in the engine: replace a consumer that stops delivering while the stream grows.
    this.watchdog = setInterval(() => void this.checkStall(), STALL_CHECK_MS);
  }

  private async checkStall(): Promise<void> {
    if (this.stopping || performance.now() - this.lastMessageAt < STALL_AFTER_MS) return;
    try {
      const jsm = await this.js.jetstreamManager();
      const info = await jsm.streams.info(eventStreamName(this.venue));
      if (info.state.last_seq <= this.streamSeq) return;
    } catch {
      return;
    }
    this.logger.warn({ streamSeq: this.streamSeq }, "event consumer stalled with events waiting; resubscribing");
    this.lastMessageAt = performance.now();
    this.messages?.stop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.messages?.stop();
    await this.loop?.catch(() => undefined);
  }

  /** Resolves once the event at stream sequence `seq` (or a later one) is applied. */
  reached(seq: number): Promise<void> {
    if (this.streamSeq >= seq) return Promise.resolve();
    return new Promise((resolve) => this.reachWaiters.push({ seq, resolve }));
  }

  private wakeReached(): void {
    const due = this.reachWaiters.filter((w) => w.seq <= this.streamSeq);
    if (due.length === 0) return;
    this.reachWaiters = this.reachWaiters.filter((w) => w.seq > this.streamSeq);
    for (const w of due) w.resolve();
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

  private async follow(): Promise<void> {
    for (let failures = 0; !this.stopping;) {
      try {
        const consumer = await this.js.consumers.get(eventStreamName(this.venue), {
          ...(this.streamSeq > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.streamSeq + 1 }
            : { deliver_policy: DeliverPolicy.All }),
        });
        this.messages = await consumer.consume({ max_messages: 4_096, expires: PULL_EXPIRES_MS });
        failures = 0;
        for await (const m of this.messages) {
          this.lastMessageAt = performance.now();
          this.streamSeq = m.seq;
          this.appliedSinceStart++;
          let events: EngineEvent[];
          const partition = eventSubjectPartition(m.subject);
          try {
            if (partition === undefined) throw new Error(`subject ${m.subject} names no partition`);
            events = decodeEventMessage(m.data);
          } catch (err) {
            this.logger.error({ seq: m.seq, err: (err as Error).message }, "undecodable event message skipped");
            if (this.reachWaiters.length > 0) this.wakeReached();
            continue;
          }
          for (const event of events) this.applyEvent(event, partition);
          if (this.reachWaiters.length > 0) this.wakeReached();
        }
      } catch (err) {
        failures++;
        if (!this.stopping) this.logger.warn({ err: (err as Error).message }, "event consumer failed; resubscribing");
      }
      if (!this.stopping) await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** Math.min(failures, 5))));
    }
  }

  private applyEvent(event: EngineEvent, partition: number): void {
    const reports = this.projection.apply(event, partition);
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
