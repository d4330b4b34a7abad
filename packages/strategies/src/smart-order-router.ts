import { Side } from "@tradeplane/contracts";
import type { Level } from "@tradeplane/sdk";

/** One venue's displayed book for the instrument, best first, and whether it can be traded now. */
export interface VenueBook {
  readonly venue: string;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
  /** Halted, closed, or not reachable: skipped. */
  readonly tradable: boolean;
}

/** A child order: immediate-or-cancel at `price` (the worst level it is meant to take) on one venue. */
export interface ChildOrder {
  readonly venue: string;
  readonly price: number;
  readonly qty: number;
  /** Notional of the levels it is meant to take (price x qty summed), in ticks x lots. */
  readonly expectedNotional: number;
}

export interface Route {
  readonly children: readonly ChildOrder[];
  /** What no tradable venue displays within the limit. */
  readonly unrouted: number;
}

/**
 * The router's decision, pure: takes the displayed liquidity of every tradable venue
 * within the limit, best price first (ties: the larger displayed size, then the venue
 * name, so the route is deterministic), and gives one child per venue at the worst price
 * it takes there. It never plans to pay more than the limit (buys) or receive less (sells).
 */
export function routeParent(side: Side, qty: number, limitPrice: number, books: readonly VenueBook[]): Route {
  const levels: { venue: string; price: number; qty: number }[] = [];
  for (const b of books) {
    if (!b.tradable) continue;
    for (const l of side === Side.BUY ? b.asks : b.bids) {
      if (side === Side.BUY ? l.price > limitPrice : l.price < limitPrice) break;
      if (l.qty > 0) levels.push({ venue: b.venue, price: l.price, qty: l.qty });
    }
  }
  levels.sort(
    (a, b) =>
      (side === Side.BUY ? a.price - b.price : b.price - a.price) ||
      b.qty - a.qty ||
      (a.venue < b.venue ? -1 : a.venue > b.venue ? 1 : 0),
  );
  const byVenue = new Map<string, { price: number; qty: number; notional: number }>();
  let left = qty;
  for (const l of levels) {
    if (left === 0) break;
    const take = Math.min(left, l.qty);
    left -= take;
    const c = byVenue.get(l.venue) ?? { price: l.price, qty: 0, notional: 0 };
    c.price = l.price;
    c.qty += take;
    c.notional += take * l.price;
    byVenue.set(l.venue, c);
  }
  const children = [...byVenue.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([venue, c]) => ({ venue, price: c.price, qty: c.qty, expectedNotional: c.notional }));
  return { children, unrouted: left };
}

/**
 * What the best single venue would have given for the same quantity within the limit:
 * the notional of sweeping it alone and the quantity it could fill. The router's
 * best-execution report sets its fills against this.
 */
export function bestSingleVenue(
  side: Side,
  qty: number,
  limitPrice: number,
  books: readonly VenueBook[],
): { venue: string; filled: number; notional: number } | undefined {
  let best: { venue: string; filled: number; notional: number } | undefined;
  for (const b of books) {
    if (!b.tradable) continue;
    const r = routeParent(side, qty, limitPrice, [b]);
    const filled = qty - r.unrouted;
    const notional = r.children.reduce((s, c) => s + c.expectedNotional, 0);
    const better =
      best === undefined ||
      filled > best.filled ||
      (filled === best.filled && (side === Side.BUY ? notional < best.notional : notional > best.notional));
    if (better) best = { venue: b.venue, filled, notional };
  }
  return best;
}
