import {
  MarketDataChannel,
  Side,
  type BookLevel,
  type BookSnapshot,
  type LevelChange,
  type SubscribeResponse,
} from "@tradeplane/contracts";

/**
 * The L2 changes that take a subscriber's view of the top `before` levels to the top
 * `after` levels (both best first, one side each): a level that left the view is sent
 * with qty 0, a level that entered or changed with its full quantity (BookUpdate's rule).
 */
export function levelDiff(side: Side, before: readonly BookLevel[], after: readonly BookLevel[]): LevelChange[] {
  const out: LevelChange[] = [];
  const old = new Map<number, BookLevel>();
  for (const l of before) old.set(l.price, l);
  for (const l of after) {
    const o = old.get(l.price);
    if (o === undefined || o.qty !== l.qty || o.orderCount !== l.orderCount)
      out.push({ side, price: l.price, qty: l.qty, orderCount: l.orderCount });
    old.delete(l.price);
  }
  for (const o of old.values()) out.push({ side, price: o.price, qty: 0, orderCount: 0 });
  return out;
}

/** Applies level changes to a book snapshot (qty 0 removes), keeping it sorted and cut to its depth. */
export function applyToSnapshot(snapshot: BookSnapshot, changes: readonly LevelChange[]): BookSnapshot {
  const bids = new Map(snapshot.bids.map((l) => [l.price, l]));
  const asks = new Map(snapshot.asks.map((l) => [l.price, l]));
  for (const c of changes) {
    const side = c.side === Side.BUY ? bids : asks;
    if (c.qty === 0) side.delete(c.price);
    else side.set(c.price, { price: c.price, qty: c.qty, orderCount: c.orderCount });
  }
  return {
    depth: snapshot.depth,
    bids: [...bids.values()].sort((a, b) => b.price - a.price).slice(0, snapshot.depth),
    asks: [...asks.values()].sort((a, b) => a.price - b.price).slice(0, snapshot.depth),
  };
}

/** One list of level changes equivalent to applying `a` then `b` (levels are absolute: the later wins). */
export function mergeLevelChanges(a: readonly LevelChange[], b: readonly LevelChange[]): LevelChange[] {
  const merged = new Map<number, LevelChange>();
  for (const c of a) merged.set(c.side === Side.BUY ? c.price : -c.price, c);
  for (const c of b) {
    const key = c.side === Side.BUY ? c.price : -c.price;
    merged.delete(key);
    merged.set(key, c);
  }
  return [...merged.values()];
}

/** Channels whose updates may be merged (the others are never conflated). */
export function isConflatable(channel: MarketDataChannel): boolean {
  return (
    channel === MarketDataChannel.L1 ||
    channel === MarketDataChannel.L2 ||
    channel === MarketDataChannel.BARS ||
    channel === MarketDataChannel.STATS ||
    channel === MarketDataChannel.AUCTION
  );
}

/**
 * Conflation: one update that stands for `pending` followed by `next` on the same
 * instrument and channel (for BARS, the same bar). Full-state channels keep the later one;
 * L2 merges level changes, or applies them to a pending snapshot. The result carries the
 * later sequence, source sequence and time, so applying it on top of what the subscriber
 * had before `pending` gives the state after `next`.
 */
export function conflate(pending: SubscribeResponse, next: SubscribeResponse): SubscribeResponse {
  const p = pending.update;
  const n = next.update;
  if (pending.channel === MarketDataChannel.L2 && p !== undefined && n?.$case === "bookUpdate") {
    if (p.$case === "bookSnapshot")
      return { ...next, update: { $case: "bookSnapshot", value: applyToSnapshot(p.value, n.value.changes) } };
    if (p.$case === "bookUpdate")
      return {
        ...next,
        update: { $case: "bookUpdate", value: { changes: mergeLevelChanges(p.value.changes, n.value.changes) } },
      };
  }
  return next;
}

/** The key under which a conflatable update waits: one slot per instrument and channel (and bar). */
export function conflationKey(u: SubscribeResponse): string {
  if (u.update?.$case === "bar")
    return `${u.instrument}/${u.channel}/${u.update.value.interval}/${u.update.value.startTime?.seconds ?? 0}`;
  return `${u.instrument}/${u.channel}`;
}
