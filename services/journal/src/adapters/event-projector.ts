import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { eventStreamName } from "@tradeplane/contracts";
import { decodeEventMessage, lastStoredSeq, type Logger } from "@tradeplane/platform";
import { BatchProjection, type StreamMessage } from "../domain/projection.ts";
import type { JournalWrites } from "../domain/rows.ts";
import { readPosition, writeBatch } from "./journal-writer.ts";
import type { SqlExecutor, SqlStore } from "./sql-store.ts";

const PULL_EXPIRES_MS = 5_000;
const MAX_BACKOFF_MS = 2_000;
/** Batches read ahead while one is written. */
const QUEUED_BATCHES = 4;
/** Longest stretch the reader projects before it lets I/O (the batch being written) through. */
const MAX_BUSY_MS = 5;
const STALL_CHECK_MS = 1_000;
const STALL_AFTER_MS = 5_000;

export interface EventProjectorDeps {
  readonly js: JetStreamClient;
  readonly venue: string;
  readonly store: SqlStore;
  readonly logger: Logger;
  /** Name of the projector's row in projector_position. */
  readonly name: string;
  /** Most stream messages written in one transaction. */
  readonly batchMessages: number;
  /** Called with each batch written, after its rows and before the commit (tests crash here). */
  readonly beforeCommit?: (writes: JournalWrites, tx: SqlExecutor) => Promise<void>;
  /** Called after each commit. */
  readonly onCommit?: (writes: JournalWrites, messages: number) => void;
}

/**
 * Follows the venue's event stream from the stored resume position with an ordered pull
 * consumer and writes each batch of messages and the new resume position (the stream
 * sequence of the batch's last message) in ONE transaction. A crash before the commit
 * leaves neither rows nor position, so the next start rereads the same messages; a crash
 * after leaves both. Rows are keyed by the events' (commandSeq, index) and inserted with
 * ON CONFLICT DO NOTHING, so a replay (a reset position, a message JetStream stored twice)
 * writes nothing twice. A failed batch rolls back, and the projector starts over from the
 * position in the database, which is the truth, not from what it held in memory; so does a
 * batch that finds the stored position moved under it (a rebuild swapped in new tables).
 */
export class EventProjector {
  private readonly deps: EventProjectorDeps;
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Stream sequence of the last message committed. */
  position = 0;
  /** Transactions that failed (and were retried from the stored position). */
  failures = 0;
  /** Consumers replaced because they stopped delivering while the stream grew. */
  stalls = 0;
  private lastProgressAt = performance.now();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(deps: EventProjectorDeps) {
    this.deps = deps;
  }

  async start(): Promise<void> {
    this.position = await readPosition(this.deps.store, this.deps.name);
    this.loop = this.follow();
    this.watchdog = setInterval(() => void this.checkStall(), STALL_CHECK_MS);
    this.watchdog.unref();
  }

  /**
   * An ordered consumer can stop delivering without an error (the risk gateway and market data
   * have seen it): with nothing received or committed for a while and messages waiting in the
   * stream, the consumer is stopped, and the loop subscribes again from the stored position.
   */
  private async checkStall(): Promise<void> {
    if (this.stopping || performance.now() - this.lastProgressAt < STALL_AFTER_MS) return;
    try {
      const jsm = await this.deps.js.jetstreamManager();
      if ((await lastStoredSeq(jsm, eventStreamName(this.deps.venue))) <= this.position) return;
    } catch {
      return;
    }
    this.stalls++;
    this.lastProgressAt = performance.now();
    this.deps.logger.warn({ position: this.position }, "event consumer stalled with events waiting; resubscribing");
    this.messages?.stop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.messages?.stop();
    await this.loop?.catch(() => undefined);
  }

  private async follow(): Promise<void> {
    const { js, venue, logger, store, name } = this.deps;
    for (let failures = 0; !this.stopping;) {
      try {
        this.position = await readPosition(store, name);
        const consumer = await js.consumers.get(eventStreamName(venue), {
          ...(this.position > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.position + 1 }
            : { deliver_policy: DeliverPolicy.All }),
        });
        const messages = await consumer.consume({ max_messages: this.deps.batchMessages, expires: PULL_EXPIRES_MS });
        this.messages = messages;
        await this.drain(messages);
        failures = 0;
      } catch (err) {
        failures++;
        this.failures++;
        if (!this.stopping)
          logger.warn(
            { err: (err as Error).message, position: this.position },
            "projector failed; resuming from the stored position",
          );
      } finally {
        this.messages?.stop();
      }
      if (!this.stopping)
        await new Promise((r) => setTimeout(r, Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(failures, 5))));
    }
  }

  /**
   * Reads and projects messages (decoded, rows built) while the previous batch is being
   * written, and writes what has been projected (at most batchMessages) as the next batch:
   * batches grow with the backlog and shrink to one message when the projector keeps up. The
   * reader lets I/O through every few milliseconds, so the batch being written goes on in
   * PostgreSQL meanwhile, and waits while a few batches are ready, so a backlog stays in
   * JetStream, not in memory.
   */
  private async drain(messages: ConsumerMessages): Promise<void> {
    const ready: BatchProjection[] = [];
    let current = new BatchProjection();
    let readerDone = false;
    // A stopped iterator still yields the messages it had buffered: the reader quits on this.
    let writerDone = false;
    let wakeWriter: (() => void) | undefined;
    let wakeReader: (() => void) | undefined;
    const reader = (async () => {
      let yieldedAt = performance.now();
      try {
        for await (const m of messages) {
          if (writerDone) break;
          this.lastProgressAt = performance.now();
          if (m.seq <= this.position) continue;
          current.add(toStreamMessage(m));
          if (current.messages >= this.deps.batchMessages) {
            ready.push(current);
            current = new BatchProjection();
          }
          wakeWriter?.();
          if (ready.length >= QUEUED_BATCHES) await new Promise<void>((r) => (wakeReader = r));
          else if (performance.now() - yieldedAt > MAX_BUSY_MS) await new Promise((r) => setImmediate(r));
          else continue;
          yieldedAt = performance.now();
        }
      } finally {
        readerDone = true;
        wakeWriter?.();
      }
    })();
    try {
      while (!this.stopping) {
        let batch = ready.shift();
        if (batch === undefined && current.messages > 0) {
          batch = current;
          current = new BatchProjection();
        }
        if (batch === undefined) {
          if (readerDone) break;
          await new Promise<void>((r) => (wakeWriter = r));
          wakeWriter = undefined;
          continue;
        }
        await this.write(batch);
        wakeReader?.();
        wakeReader = undefined;
      }
    } finally {
      writerDone = true;
      messages.stop();
      wakeReader?.();
      await reader.catch(() => undefined);
    }
  }

  private async write(batch: BatchProjection): Promise<void> {
    const writes = batch.writes();
    await this.deps.store.transaction(async (tx) => {
      await writeBatch(tx, writes, this.deps.name, this.position);
      await this.deps.beforeCommit?.(writes, tx);
    });
    this.position = writes.resumeAfter;
    this.lastProgressAt = performance.now();
    for (const d of writes.deadLetters)
      this.deps.logger.error(
        { seq: d.streamSeq, position: d.position, reason: d.reason, detail: d.detail },
        "event dead-lettered",
      );
    this.deps.onCommit?.(writes, batch.messages);
  }
}

function toStreamMessage(m: JsMsg): StreamMessage {
  try {
    return { seq: m.seq, subject: m.subject, events: decodeEventMessage(m.data) };
  } catch (err) {
    return { seq: m.seq, subject: m.subject, undecodable: (err as Error).message, data: m.data };
  }
}
