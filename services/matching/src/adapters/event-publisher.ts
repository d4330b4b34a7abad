import type { MsgHdrs } from "@nats-io/transport-node";
import {
  eventAfter,
  eventMarkOf,
  eventMessageId,
  PREVIOUS_EVENT_HEADER,
  PUBLISHED_EVENT_HEADER,
  type EventMark,
  type JetStreamAsyncPublisher,
  type PublishOutcome,
} from "@tradeplane/platform";

/** One engine output ready for the event stream. */
export interface OutboundEvent {
  readonly cmdSeq: number;
  readonly index: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs | undefined;
}

/** Where the event stream already ends for this partition: nothing up to here is sent again. */
export type PublishedMark = EventMark;

export const NOTHING_PUBLISHED: PublishedMark = { cmdSeq: 0, index: -1 };

export interface PublisherHooks {
  onAck?(ack: PublishOutcome): void;
  /** `firstOfEpisode` is true for the first failure after a healthy stretch (log that one). */
  onFailure?(err: unknown, firstOfEpisode: boolean): void;
}

/** The port events leave by: platform's pipelined JetStream publisher. */
export type EventSink = Pick<JetStreamAsyncPublisher, "publish">;

export interface EventPublisherOptions {
  /** Sends messages and reports each one's ack (its timeout is the publisher's). */
  readonly sink: EventSink;
  /** Most publishes awaiting their ack at once; offer() waits when reached. */
  readonly window: number;
  /** Standby instances retain at most this many events before dropping the oldest. */
  readonly maxRetained: number;
  readonly hooks?: PublisherHooks;
}

const SlotState = { QUEUED: 0, SENT: 1, ACKED: 2, FAILED: 3 } as const;
type SlotState = (typeof SlotState)[keyof typeof SlotState];

interface Slot {
  readonly event: OutboundEvent;
  /** The partition's event message before this one: readers hold a message until it is applied. */
  readonly previous: PublishedMark;
  state: SlotState;
}

const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2_000;

/** `"<cmdSeq>-<index>"`: the JetStream message id that makes republishing harmless. */
export const messageIdOf = eventMessageId;

/** Parses a message id back into its mark; undefined for ids not of our form. */
export const markOf = eventMarkOf;

const after = eventAfter;

/**
 * Where an engine publishes from after a restart or a promotion, read from the partition's
 * last stored message: the prefix its publisher knew complete when sending it. The message's
 * own id would skip any message of its window that was lost and not yet resent. Messages
 * written before the header carry only their id.
 */
export function restartMarkOf(headers: { get(k: string): string } | undefined): PublishedMark | undefined {
  if (headers === undefined) return undefined;
  return markOf(headers.get(PUBLISHED_EVENT_HEADER)) ?? markOf(headers.get("Nats-Msg-Id"));
}

/**
 * Publishes engine events in order with a bounded window of unacknowledged messages,
 * never one round trip per event. Each message carries the id `<cmdSeq>-<index>`, so the
 * server drops anything sent twice. Events at or before `mark` (already in the stream)
 * are skipped, which makes restart and failover exact even past the dedup window.
 *
 * A resent message lands after any later one of its window that was stored, so the stream
 * may hold a partition's messages out of order: each message names its predecessor
 * (`Tp-Prev-Msg-Id`) for readers to hold it until that is applied (platform's
 * EventSequencer), and the prefix known complete (`Tp-Published-Msg-Id`) for a restarted
 * engine to publish from (restartMarkOf).
 *
 * On a failed publish it stops sending, lets everything in flight settle, and resends
 * every unacknowledged event in order (the first alone, the rest pipelined), with backoff.
 *
 * A standby runs in "retain" mode: it keeps the events the primary may not have
 * published yet, trimmed as it observes the primary's progress, and sends them on
 * promotion.
 */
export class EventPublisher {
  private readonly options: EventPublisherOptions;
  private slots: Slot[] = [];
  private head = 0;
  private inFlight = 0;
  private recovering = false;
  private attempt = 0;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private retained: Slot[] = [];
  /** The last event offered (or skipped as already published): the next one's predecessor. */
  private lastOffered: PublishedMark;
  private retainedHead = 0;
  private droppedRetained = false;
  /** During recovery, the one event sent alone to learn whether NATS takes writes again. */
  private probe: Slot | undefined;
  private resendScheduled = false;
  private mark: PublishedMark;
  /** The last event of the acknowledged prefix (publish mode): the stream holds it and everything before. */
  private acked: PublishedMark;
  mode: "publish" | "retain";

  constructor(options: EventPublisherOptions, mode: "publish" | "retain", mark: PublishedMark = NOTHING_PUBLISHED) {
    this.options = options;
    this.mode = mode;
    this.mark = mark;
    this.acked = mark;
    this.lastOffered = mark;
  }

  /**
   * How far this partition's events are known to be in the stream, with nothing missing before:
   * as primary, the last event of the acknowledged prefix (or the stream's mark at start); as
   * standby, the primary's progress last observed. Readers wait for it, not for the applied
   * command: publishing is pipelined, so an applied command's events may not be stored yet.
   */
  get published(): PublishedMark {
    const m = this.mode === "retain" || after(this.mark, this.acked) ? this.mark : this.acked;
    return { cmdSeq: m.cmdSeq, index: m.index };
  }

  /** Whether any event of command `cmdSeq` would be published or retained (callers skip encoding otherwise). */
  wants(cmdSeq: number): boolean {
    return cmdSeq >= this.mark.cmdSeq;
  }

  /** Events not yet acknowledged (publish mode) or retained (retain mode). */
  get backlog(): number {
    return this.mode === "publish" ? this.slots.length - this.head : this.retained.length - this.retainedHead;
  }

  /** Diagnostics for /status: what the publisher is doing right now. */
  get state(): { mode: string; backlog: number; inFlight: number; recovering: boolean; attempt: number } {
    return {
      mode: this.mode,
      backlog: this.backlog,
      inFlight: this.inFlight,
      recovering: this.recovering,
      attempt: this.attempt,
    };
  }

  /** True if a standby had to drop retained events, so it cannot take over exactly. */
  get lostRetained(): boolean {
    return this.droppedRetained;
  }

  /**
   * Hands over one event. Returns a promise only when the caller must wait for room
   * (back-pressure); otherwise undefined, so the hot loop does not allocate a promise.
   */
  offer(event: OutboundEvent): Promise<void> | undefined {
    // The mark is a message of this partition: what the caller skipped up to it (wants())
    // ends there.
    const previous = after(this.mark, this.lastOffered) ? this.mark : this.lastOffered;
    this.lastOffered = event;
    if (!after(event, this.mark)) return undefined;
    const slot: Slot = { event, previous, state: SlotState.QUEUED };
    if (this.mode === "retain") {
      this.retained.push(slot);
      if (this.retained.length - this.retainedHead > this.options.maxRetained) {
        this.retainedHead++;
        this.droppedRetained = true;
      }
      this.compactRetained();
      return undefined;
    }
    this.slots.push(slot);
    if (!this.recovering) this.send(slot);
    if (this.slots.length - this.head >= this.options.window) {
      return new Promise((resolve) => this.roomWaiters.push(resolve));
    }
    return undefined;
  }

  /** Standby: the primary's stream has reached `mark`; retained events up to it are dropped. */
  observe(mark: PublishedMark): void {
    if (after(mark, this.mark)) this.mark = mark;
    while (this.retainedHead < this.retained.length && !after(this.retained[this.retainedHead]!.event, this.mark)) {
      this.retainedHead++;
    }
    this.compactRetained();
  }

  /** Standby -> primary: publish what the old primary did not, from `mark` on. */
  promote(mark: PublishedMark): void {
    this.observe(mark);
    const pending = this.retained.slice(this.retainedHead);
    this.retained = [];
    this.retainedHead = 0;
    this.mode = "publish";
    for (const slot of pending) {
      this.slots.push(slot);
      if (!this.recovering) this.send(slot);
    }
  }

  /** Resolves when every offered event is acknowledged. */
  idle(): Promise<void> {
    if (this.backlog === 0 || this.mode === "retain") return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private send(slot: Slot): void {
    slot.state = SlotState.SENT;
    this.inFlight++;
    const { event } = slot;
    this.options.sink.publish(
      event.subject,
      event.data,
      messageIdOf(event.cmdSeq, event.index),
      (outcome) => {
        this.inFlight--;
        if (outcome.ok) {
          slot.state = SlotState.ACKED;
          this.options.hooks?.onAck?.(outcome);
          if (slot === this.probe) this.endRecovery();
        } else {
          slot.state = SlotState.FAILED;
          this.options.hooks?.onFailure?.(new Error(outcome.error), !this.recovering);
          if (slot === this.probe) this.probe = undefined;
          this.recovering = true;
        }
        this.advance();
      },
      event.headers,
      [
        [PREVIOUS_EVENT_HEADER, messageIdOf(slot.previous.cmdSeq, slot.previous.index)],
        [PUBLISHED_EVENT_HEADER, messageIdOf(this.acked.cmdSeq, this.acked.index)],
      ],
    );
  }

  private advance(): void {
    const slots = this.slots;
    const from = this.head;
    while (this.head < slots.length && slots[this.head]!.state === SlotState.ACKED) this.head++;
    if (this.head > from) this.acked = slots[this.head - 1]!.event;
    if (this.head > 4096 && this.head * 2 > slots.length) {
      this.slots = slots.slice(this.head);
      this.head = 0;
    }
    const backlog = this.slots.length - this.head;
    if (backlog < this.options.window && this.roomWaiters.length > 0) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const wake of waiters) wake();
    }
    if (backlog === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
    if (this.recovering && this.inFlight === 0 && this.probe === undefined) this.scheduleResend();
  }

  private scheduleResend(): void {
    if (this.resendScheduled) return;
    this.resendScheduled = true;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.attempt, 6));
    this.attempt++;
    setTimeout(() => {
      this.resendScheduled = false;
      const first = this.slots[this.head];
      if (first === undefined) {
        this.recovering = false;
        return;
      }
      this.probe = first;
      this.send(first);
    }, delay);
  }

  /** The probe went through: pipeline every event still unacknowledged, in order. */
  private endRecovery(): void {
    this.probe = undefined;
    this.recovering = false;
    this.attempt = 0;
    for (let i = this.head; i < this.slots.length; i++) {
      const slot = this.slots[i]!;
      if (slot.state === SlotState.QUEUED || slot.state === SlotState.FAILED) this.send(slot);
    }
  }

  private compactRetained(): void {
    if (this.retainedHead > 4096 && this.retainedHead * 2 > this.retained.length) {
      this.retained = this.retained.slice(this.retainedHead);
      this.retainedHead = 0;
    }
  }
}
