import type { JsMsg } from "@nats-io/jetstream";
import { eventSubjectPartition } from "@tradeplane/contracts";
import {
  eventMarkOf,
  EventSequencer,
  PREVIOUS_EVENT_HEADER,
  PUBLISHED_EVENT_HEADER,
  type EventMark,
} from "./event-order.ts";

/**
 * An event-stream reader's per-message handler, fed each engine partition's messages in
 * command order (EventSequencer): put between StreamFollower and the reader. Messages whose
 * subject names no partition, or that carry no id, go straight through (the reader rejects
 * or applies them as before).
 */
export class EventStreamOrder {
  private readonly sequencer: EventSequencer<JsMsg>;
  private readonly handle: (m: JsMsg) => void;

  /** `initial`: the reader's marks as loaded (its snapshot's), per partition (see EventSequencer). */
  /** `onGapSkipped`: a lost message given up on (for the reader's log). */
  constructor(
    initial: (partition: number) => EventMark | undefined,
    handle: (m: JsMsg) => void,
    options: { maxHeld?: number; onGapSkipped?: (partition: number, lost: EventMark) => void } = {},
  ) {
    this.sequencer = new EventSequencer(initial, options.maxHeld, options.onGapSkipped);
    this.handle = handle;
  }

  /** For StreamFollower's onMessage. */
  readonly onMessage = (m: JsMsg): void => {
    const partition = eventSubjectPartition(m.subject);
    const id = eventMarkOf(m.headers?.get("Nats-Msg-Id"));
    if (partition === undefined || id === undefined) {
      this.handle(m);
      return;
    }
    const published = eventMarkOf(m.headers?.get(PUBLISHED_EVENT_HEADER));
    const ready = this.sequencer.accept({
      partition,
      streamSeq: m.seq,
      id,
      previous: eventMarkOf(m.headers?.get(PREVIOUS_EVENT_HEADER)),
      ...(published === undefined ? {} : { published }),
      item: m,
    });
    for (const r of ready) this.handle(r);
  };

  /** Lost messages given up on (a metric and a log line for the reader). */
  get gapsSkipped(): number {
    return this.sequencer.gapsSkipped;
  }

  /** Messages waiting for a predecessor. */
  get waiting(): number {
    return this.sequencer.waiting;
  }

  /**
   * The stream sequence a snapshot of the reader's state may say it holds everything up to,
   * given the follower's position: just before the first message still waiting.
   */
  safePosition(position: number): number {
    return this.sequencer.resumeAfter(position);
  }
}
