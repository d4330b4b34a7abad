import type { SubscribeResponse } from "@tradeplane/contracts";

/**
 * The recent updates of the event channels (L3, TRADES, STATE) of the whole venue, in
 * log order, so that a subscriber resuming from a source sequence gets what followed it.
 * A ring of `capacity` entries; `heldFrom` is the lowest from_sequence it can still serve
 * (everything after it is held).
 */
export class UpdateHistory {
  private readonly ring: (SubscribeResponse | undefined)[];
  private start = 0;
  private count = 0;
  /** Source sequence of the newest entry dropped to make room (0 = none dropped). */
  private droppedUpTo = 0;

  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ring = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(u: SubscribeResponse): void {
    if (this.count === this.capacity) {
      this.droppedUpTo = this.ring[this.start]!.sourceSequence;
      this.ring[this.start] = u;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.ring[(this.start + this.count) % this.capacity] = u;
      this.count++;
    }
  }

  /** Whether every update after `from` is still held. */
  holds(from: number): boolean {
    return from >= this.droppedUpTo;
  }

  /** The held updates, oldest first, and the source sequence of the newest one dropped (0 = none). */
  exportState(): { readonly droppedUpTo: number; readonly entries: SubscribeResponse[] } {
    const entries: SubscribeResponse[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) entries[i] = this.ring[(this.start + i) % this.capacity]!;
    return { droppedUpTo: this.droppedUpTo, entries };
  }

  /** A history of `capacity` holding `entries` (oldest first; the newest `capacity` of them). */
  static restore(
    capacity: number,
    data: { readonly droppedUpTo: number; readonly entries: readonly SubscribeResponse[] },
  ): UpdateHistory {
    const h = new UpdateHistory(capacity);
    h.droppedUpTo = data.droppedUpTo;
    for (const u of data.entries) h.push(u);
    return h;
  }

  /** The held updates with source sequence > `from` that `wanted` accepts, in order. */
  since(from: number, wanted: (u: SubscribeResponse) => boolean): SubscribeResponse[] {
    const out: SubscribeResponse[] = [];
    // Binary search for the first entry after `from` (entries are in source order).
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ring[(this.start + mid) % this.capacity]!.sourceSequence <= from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.count; i++) {
      const u = this.ring[(this.start + i) % this.capacity]!;
      if (wanted(u)) out.push(u);
    }
    return out;
  }
}
