import { MarketDataChannel, type SubscribeResponse } from "@tradeplane/contracts";

/** What the tracker made of an update. */
export type Verdict =
  /** Next in sequence (or a conflatable channel moving forward): apply it. */
  | "ok"
  /** Already seen (a replay overlapping what was processed): skip it. */
  | "duplicate"
  /** Updates are missing before this one: resubscribe from `resumeFrom`. */
  | "gap"
  /** Missing updates that a resume could not bring back (the server no longer holds them). */
  | "lost";

export interface Gap {
  readonly key: string;
  readonly expected: number;
  readonly got: number;
}

/** Channels whose every update must arrive: a jump in their sequence is a loss. */
function strict(channel: MarketDataChannel): boolean {
  return (
    channel === MarketDataChannel.L3 || channel === MarketDataChannel.TRADES || channel === MarketDataChannel.STATE
  );
}

function keyOf(u: SubscribeResponse): string {
  const bar = u.update?.$case === "bar" ? `/${u.update.value.interval}` : "";
  return `${u.instrument}/${u.channel}${bar}`;
}

/**
 * Per (instrument, channel) sequence tracking for a subscriber, by market_data.proto's
 * rules. L3, TRADES and STATE must be gap-free: a jump is a gap (an L3 snapshot restarts the
 * count). L1, L2, BARS, STATS and AUCTION may jump (conflation; an L2 update that does not
 * touch a subscriber's depth is not sent to it): each update applies on top of the last.
 * `resumeFrom` is one before the largest source_sequence processed: the from_sequence of a
 * resume. One source_sequence (one event message) may carry many updates, and a gap can fall
 * among them, so a resume asks again for the whole of the newest message and skips the
 * updates of it already processed as duplicates.
 * Pure: no I/O, no clock.
 */
export class SequenceTracker {
  private readonly last = new Map<string, number>();
  /** Keys not yet seen since the last resume: their first jump cannot be recovered by replay. */
  private resumed = new Set<string>();
  private resuming = false;
  private maxSource: number | undefined;
  lastGap: Gap | undefined;

  /** The from_sequence of a resume: every update of the messages before the newest was seen. */
  get resumeFrom(): number | undefined {
    return this.maxSource === undefined ? undefined : Math.max(0, this.maxSource - 1);
  }

  /** A resubscribe from `resumeFrom` is starting. */
  markResume(): void {
    this.resuming = true;
    this.resumed = new Set();
  }

  observe(u: SubscribeResponse): Verdict {
    const key = keyOf(u);
    const last = this.last.get(key);
    const snapshot = u.update?.$case === "orderBookSnapshot" || u.update?.$case === "bookSnapshot";
    let verdict: Verdict = "ok";
    if (snapshot || last === undefined) verdict = "ok";
    else if (u.sequence <= last) verdict = strict(u.channel) || u.sequence < last ? "duplicate" : "ok";
    else if (strict(u.channel) && u.sequence !== last + 1) {
      const firstAfterResume = this.resuming && !this.resumed.has(key);
      this.lastGap = { key, expected: last + 1, got: u.sequence };
      verdict = firstAfterResume ? "lost" : "gap";
    }
    if (this.resuming) this.resumed.add(key);
    if (verdict === "gap" || verdict === "duplicate") return verdict;
    this.last.set(key, u.sequence);
    if (this.maxSource === undefined || u.sourceSequence > this.maxSource) this.maxSource = u.sourceSequence;
    return verdict;
  }
}
