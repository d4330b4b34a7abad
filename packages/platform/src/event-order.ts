/**
 * Keeping each engine partition's events in command order for readers of the event stream.
 *
 * An engine publishes with a window of messages awaiting their acks. When one of them is
 * lost (a connection that drops under it, a refusal during a stream leader change) while
 * later ones of the window are stored, its resend lands after them: the stream no longer
 * holds that partition's messages in command order, and no JetStream expectation can stop
 * it without one round trip per message (the stream's sequences are shared by every
 * partition). So each message names the partition's message before it, and readers hold a
 * message back until its predecessor is applied.
 */

/** Where a partition's events are: the last event's (command sequence, index). */
export interface EventMark {
  readonly cmdSeq: number;
  readonly index: number;
}

export const NO_EVENT: EventMark = { cmdSeq: 0, index: -1 };

/** The id of the partition's message before this one (`<cmdSeq>-<index>`; `0--1` for none). */
export const PREVIOUS_EVENT_HEADER = "Tp-Prev-Msg-Id";
/**
 * The partition's last message that the stream held, with every one before it, when this
 * one was sent: where a restarted or promoted engine publishes from, since messages after it
 * may be missing even when later ones are stored.
 */
export const PUBLISHED_EVENT_HEADER = "Tp-Published-Msg-Id";

/** `"<cmdSeq>-<index>"`: the JetStream message id that makes republishing harmless. */
export function eventMessageId(cmdSeq: number, index: number): string {
  return `${cmdSeq}-${index}`;
}

/** Parses a message id back into its mark; undefined for ids not of our form. */
export function eventMarkOf(msgId: string | undefined): EventMark | undefined {
  if (msgId === undefined || msgId.length === 0) return undefined;
  const dash = msgId.indexOf("-");
  if (dash <= 0) return undefined;
  const cmdSeq = Number(msgId.slice(0, dash));
  const index = Number(msgId.slice(dash + 1));
  return Number.isSafeInteger(cmdSeq) && Number.isSafeInteger(index) ? { cmdSeq, index } : undefined;
}

/** Whether `a` comes after `b` in a partition's events. */
export function eventAfter(a: EventMark, b: EventMark): boolean {
  return a.cmdSeq > b.cmdSeq || (a.cmdSeq === b.cmdSeq && a.index > b.index);
}

interface Held<T> {
  readonly streamSeq: number;
  readonly id: EventMark;
  readonly previous: EventMark;
  readonly item: T;
}

/** One event-stream message as the sequencer sees it. */
export interface EventArrival<T> {
  readonly partition: number;
  /** The message's stream sequence (where a reader would have to read again from). */
  readonly streamSeq: number;
  /** Its id: the mark of its last event. */
  readonly id: EventMark;
  /** The partition's message before it; undefined for messages written without one (applied as they come). */
  readonly previous: EventMark | undefined;
  /**
   * The prefix its publisher knew stored when it sent it (PUBLISHED_EVENT_HEADER), if given.
   * Every message of that prefix has a lower stream sequence than this one, so a reader
   * going in stream order has passed them all: one it has not applied is gone for good.
   */
  readonly published?: EventMark;
  readonly item: T;
}

/**
 * Per partition, hands a reader messages in the partition's order: a message whose
 * predecessor is applied goes through (with any held ones it unblocks), one already
 * applied is dropped (stored twice), and one that arrives before its predecessor is held.
 * Pure: the reader applies what `accept` returns, in order.
 */
export class EventSequencer<T> {
  private readonly marks = new Map<number, EventMark | undefined>();
  private readonly held = new Map<number, Held<T>[]>();
  private readonly initial: (partition: number) => EventMark | undefined;
  private readonly maxHeld: number;
  private readonly onGapSkipped: (partition: number, lost: EventMark) => void;
  private heldCount = 0;
  /**
   * Predecessors given up on: each a lost message (deleted from the stream, or aged out), known
   * lost because a later message's publisher had it stored, or because more than `maxHeld`
   * messages of its partition waited for it.
   */
  gapsSkipped = 0;

  /**
   * `initial` is where the reader's state already is (a loaded snapshot's marks), or undefined
   * for a partition whose first message the reader sees starts it (a reader that starts after
   * messages the stream no longer holds). `maxHeld` bounds what waits per partition: a publisher resends a
   * lost message before it sends more than its window (TP_PUBLISH_WINDOW, 4,096 by default),
   * so more than that waiting means the message is gone for good (aged out, a stream
   * recreated); the oldest waiting one is then applied and the gap counted in `gapsSkipped`.
   */
  constructor(
    initial: (partition: number) => EventMark | undefined,
    maxHeld = 100_000,
    onGapSkipped: (partition: number, lost: EventMark) => void = () => undefined,
  ) {
    this.initial = initial;
    this.maxHeld = maxHeld;
    this.onGapSkipped = onGapSkipped;
  }

  /** Counts a gap given up on; the partition's events now go on after `lost`, its last missing message. */
  private skipGap(partition: number, lost: EventMark): void {
    this.gapsSkipped++;
    this.marks.set(partition, lost);
    this.onGapSkipped(partition, lost);
  }

  /** Messages held back, waiting for a predecessor. */
  get waiting(): number {
    return this.heldCount;
  }

  /**
   * The stream sequence a reader restarted from its current state must read after: the
   * position it has read to, or just before the first message it holds.
   */
  resumeAfter(position: number): number {
    let seq = position;
    for (const list of this.held.values()) for (const h of list) seq = Math.min(seq, h.streamSeq - 1);
    return seq;
  }

  /** The messages to apply now, in order (possibly none). */
  accept(arrival: EventArrival<T>): T[] {
    const { partition, id, previous, published } = arrival;
    const ready: T[] = [];
    if (published !== undefined) this.skipLost(partition, published, ready);
    let mark = this.markOf(partition);
    if (mark !== undefined && !eventAfter(id, mark)) return ready;
    if (mark !== undefined && previous !== undefined && published !== undefined) {
      // Its predecessor was stored before it, and this reader has passed it without seeing it.
      if (eventAfter(previous, mark) && !eventAfter(previous, published)) {
        this.skipGap(partition, previous);
        mark = previous;
      }
    }
    if (mark !== undefined && previous !== undefined && eventAfter(previous, mark)) {
      let list = this.held.get(partition);
      if (list === undefined) this.held.set(partition, (list = []));
      if (!list.some((h) => h.id.cmdSeq === id.cmdSeq && h.id.index === id.index)) {
        list.push({ streamSeq: arrival.streamSeq, id, previous, item: arrival.item });
        this.heldCount++;
      }
      if (list.length <= this.maxHeld) return ready;
      // Give up on the oldest gap of this partition: its first waiting message goes through.
      let first = list[0]!;
      for (const h of list) if (eventAfter(first.id, h.id)) first = h;
      this.skipGap(partition, first.previous);
      this.release(partition, list, ready);
      return ready;
    }
    this.marks.set(partition, id);
    ready.push(arrival.item);
    const list = this.held.get(partition);
    if (list !== undefined) this.release(partition, list, ready);
    return ready;
  }

  /**
   * Gives up on every gap of the partition at or before `published`: the messages missing
   * there were stored before the arrival that names it, and were not read.
   */
  private skipLost(partition: number, published: EventMark, ready: T[]): void {
    const list = this.held.get(partition);
    if (list === undefined) return;
    for (;;) {
      const mark = this.markOf(partition);
      if (mark === undefined) return;
      let first: Held<T> | undefined;
      for (const h of list) if (first === undefined || eventAfter(first.id, h.id)) first = h;
      if (first === undefined || eventAfter(first.previous, published) || !eventAfter(first.previous, mark)) return;
      this.skipGap(partition, first.previous);
      this.release(partition, list, ready);
      if (!this.held.has(partition)) return;
    }
  }

  private markOf(partition: number): EventMark | undefined {
    if (this.marks.has(partition)) return this.marks.get(partition);
    const mark = this.initial(partition);
    this.marks.set(partition, mark);
    return mark;
  }

  /** Moves held messages whose predecessor is now applied into `ready`, in order. */
  private release(partition: number, list: Held<T>[], ready: T[]): void {
    for (;;) {
      const mark = this.marks.get(partition)!;
      let next = -1;
      for (let i = list.length - 1; i >= 0; i--) {
        const h = list[i]!;
        if (!eventAfter(h.id, mark)) {
          list.splice(i, 1);
          this.heldCount--;
          next = next > i ? next - 1 : next;
        } else if (!eventAfter(h.previous, mark) && (next < 0 || eventAfter(list[next]!.id, h.id))) next = i;
      }
      if (next < 0) break;
      const [h] = list.splice(next, 1);
      this.heldCount--;
      this.marks.set(partition, h!.id);
      ready.push(h!.item);
    }
    if (list.length === 0) this.held.delete(partition);
  }
}
