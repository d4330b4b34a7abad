import type { SubscribeResponse } from "@tradeplane/contracts";
import { conflate, conflationKey, isConflatable } from "../domain/conflation.ts";
import type { Subscription } from "../domain/requests.ts";

/**
 * One update on its way out, shared by every subscriber that gets it unchanged: each
 * transport encodes it once (protobuf bytes, JSON text) and caches the result here.
 */
export interface Outgoing {
  readonly msg: SubscribeResponse;
  /** performance.now() when the oldest event it reflects arrived from the log. */
  readonly receivedAt: number;
  bytes?: Buffer;
  json?: string;
}

/** Where a subscriber's updates go: a gRPC server stream or a WebSocket. */
export interface Sink {
  /** Sends one update; false when the transport wants the sender to wait for `onDrain`. */
  write(out: Outgoing): boolean;
  onDrain(resume: () => void): void;
  /** Ends the subscription with a status (RESOURCE_EXHAUSTED for a slow consumer). */
  fail(code: "RESOURCE_EXHAUSTED", message: string): void;
}

export interface SubscriberHooks {
  sent(out: Outgoing): void;
  conflated(channel: number): void;
  overflowed(s: Subscriber): void;
}

let nextId = 0;

/**
 * A subscriber's bounded queue. Updates of L3, TRADES and STATE queue in order, at most
 * `maxQueued` of them; one more ends the subscription (the client resumes from its last
 * source sequence). Updates of L1, L2, BARS, STATS and AUCTION wait in one slot per
 * instrument and channel (per bar for BARS): a newer update merges into a slot that has not
 * gone out yet (conflation). With an interval the slots go out on a timer; without one as
 * soon as the transport takes them, so conflation happens only while the client (or the
 * server) is behind. The transport's back-pressure is honoured: nothing is written between
 * a `write` that returned false and the next drain.
 */
interface Slot {
  out: Outgoing;
  /** The marker in the queue that may send it; older markers are stale. */
  ticket: number;
  queued: boolean;
}

interface Marker {
  readonly key: string;
  readonly ticket: number;
}

export class Subscriber {
  readonly id = ++nextId;
  readonly subscription: Subscription;
  readonly transport: string;
  private readonly sink: Sink;
  private readonly hooks: SubscriberHooks;
  private readonly maxQueued: number;
  private queue: (Outgoing | Marker | undefined)[] = [];
  private head = 0;
  private readonly slots = new Map<string, Slot>();
  private events = 0;
  private waiting = false;
  closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** Event-channel updates at or before this source sequence are already covered. */
  minSource = 0;

  constructor(subscription: Subscription, transport: string, sink: Sink, hooks: SubscriberHooks, maxQueued: number) {
    this.subscription = subscription;
    this.transport = transport;
    this.sink = sink;
    this.hooks = hooks;
    this.maxQueued = maxQueued;
    if (subscription.conflationIntervalMs > 0) {
      this.timer = setInterval(() => this.releaseSlots(), subscription.conflationIntervalMs);
      this.timer.unref();
    }
  }

  /** Updates waiting (queued event updates and pending slots). */
  get depth(): number {
    return this.events + this.slots.size;
  }

  /** Takes an update for the subscriber; `initial` marks its snapshots and replay (no source filter). */
  offer(out: Outgoing, initial = false): void {
    if (this.closed) return;
    const msg = out.msg;
    if (isConflatable(msg.channel)) {
      const key = conflationKey(msg);
      const slot = this.slots.get(key);
      if (slot !== undefined) {
        slot.out = { msg: conflate(slot.out.msg, msg), receivedAt: slot.out.receivedAt };
        this.hooks.conflated(msg.channel);
        // A merged update reflects later events: it must not overtake event updates queued
        // after its marker, or a client could resume past them. Move it to the back.
        if (slot.queued && !this.isLast(key, slot.ticket)) this.mark(key, slot);
        return;
      }
      const fresh: Slot = { out, ticket: 0, queued: false };
      this.slots.set(key, fresh);
      if (this.timer === undefined) this.mark(key, fresh);
      return;
    }
    if (!initial && msg.sourceSequence <= this.minSource) return;
    if (this.events >= this.maxQueued) {
      this.close();
      this.sink.fail(
        "RESOURCE_EXHAUSTED",
        `client reads too slowly: more than ${this.maxQueued} L3/TRADES/STATE updates queued; ` +
          "resubscribe with from_sequence set to the source_sequence of the last update processed",
      );
      this.hooks.overflowed(this);
      return;
    }
    this.events++;
    this.queue.push(out);
  }

  private isLast(key: string, ticket: number): boolean {
    const last = this.queue[this.queue.length - 1];
    return last !== undefined && "key" in last && last.key === key && last.ticket === ticket;
  }

  private mark(key: string, slot: Slot): void {
    slot.ticket++;
    slot.queued = true;
    this.queue.push({ key, ticket: slot.ticket });
  }

  private releaseSlots(): void {
    for (const [key, slot] of this.slots) if (!slot.queued) this.mark(key, slot);
    this.pump();
  }

  /** Writes what is queued until the transport pushes back. */
  pump(): void {
    if (this.waiting || this.closed) return;
    const q = this.queue;
    while (this.head < q.length) {
      const item = q[this.head]!;
      q[this.head++] = undefined;
      let out: Outgoing;
      if ("key" in item) {
        const slot = this.slots.get(item.key);
        if (slot === undefined || slot.ticket !== item.ticket) continue;
        this.slots.delete(item.key);
        out = slot.out;
      } else {
        out = item;
        this.events--;
      }
      const more = this.sink.write(out);
      this.hooks.sent(out);
      if (!more) {
        this.waiting = true;
        this.sink.onDrain(() => {
          this.waiting = false;
          this.pump();
        });
        break;
      }
    }
    if (this.head === q.length) {
      q.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.queue = [];
    this.head = 0;
    this.slots.clear();
    this.events = 0;
  }
}
