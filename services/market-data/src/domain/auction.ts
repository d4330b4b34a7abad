import { Side, type AuctionInfo } from "@tradeplane/contracts";

/** Total (visible + hidden) quantity at one price of each side. */
export interface AuctionLevel {
  readonly price: number;
  readonly bid: number;
  readonly ask: number;
}

export const NO_AUCTION: AuctionInfo = Object.freeze({
  indicativePrice: 0,
  matchedQty: 0,
  imbalanceQty: 0,
  imbalanceSide: Side.UNSPECIFIED,
});

/**
 * The indicative uncross, by the engine's rule (services/matching engine.ts `uncross`):
 * candidates are the prices with orders between the best ask and the best bid; pick the one
 * with the largest executable volume, then the least imbalance, then the nearest the reference
 * price; when two candidates are equally near, the reference price itself. Quantities are
 * whole leaves (hidden parts of icebergs included), as the engine matches them. Imbalance is
 * the unmatched demand or supply at that price.
 *
 * `bids` best (highest) first and `asks` best (lowest) first, one entry per price.
 */
export function indicativeAuction(
  bids: readonly { price: number; qty: number }[],
  asks: readonly { price: number; qty: number }[],
  referencePrice: number,
): AuctionInfo {
  const bestBid = bids[0]?.price;
  const bestAsk = asks[0]?.price;
  if (bestBid === undefined || bestAsk === undefined || bestBid < bestAsk) return NO_AUCTION;
  const levels = new Map<number, { bid: number; ask: number }>();
  for (const b of bids) {
    if (b.price < bestAsk) break;
    levels.set(b.price, { bid: b.qty, ask: 0 });
  }
  for (const a of asks) {
    if (a.price > bestBid) break;
    const l = levels.get(a.price);
    if (l === undefined) levels.set(a.price, { bid: 0, ask: a.qty });
    else l.ask = a.qty;
  }
  const candidates = [...levels.keys()].sort((x, y) => x - y);
  // Demand at p: bids priced >= p, over the whole book (bids above the cross all count).
  // Every bid above bestAsk is a candidate level, so suffix sums over candidates are exact.
  const demand = new Array<number>(candidates.length);
  let d = 0;
  for (let i = candidates.length - 1; i >= 0; i--) {
    d += levels.get(candidates[i]!)!.bid;
    demand[i] = d;
  }
  let bestV = 0;
  let bestImb = 0;
  let tied: number[] = [];
  const supplyAt: number[] = [];
  let supply = 0;
  for (let i = 0; i < candidates.length; i++) {
    supply += levels.get(candidates[i]!)!.ask;
    supplyAt.push(supply);
    const v = Math.min(demand[i]!, supply);
    const imb = Math.abs(demand[i]! - supply);
    if (v > bestV || (v === bestV && imb < bestImb)) {
      bestV = v;
      bestImb = imb;
      tied = [i];
    } else if (v === bestV && imb === bestImb) tied.push(i);
  }
  if (bestV === 0) return NO_AUCTION;
  let minDist = Infinity;
  for (const i of tied) minDist = Math.min(minDist, Math.abs(candidates[i]! - referencePrice));
  const near = tied.filter((i) => Math.abs(candidates[i]! - referencePrice) === minDist);
  let price: number;
  let dem: number;
  let sup: number;
  if (near.length === 1) {
    const i = near[0]!;
    price = candidates[i]!;
    dem = demand[i]!;
    sup = supplyAt[i]!;
  } else {
    // Equally near on both sides: the engine uncrosses at the reference price itself.
    price = referencePrice;
    dem = bids.filter((b) => b.price >= price).reduce((s, b) => s + b.qty, 0);
    sup = asks.filter((a) => a.price <= price).reduce((s, a) => s + a.qty, 0);
  }
  const matched = Math.min(dem, sup);
  return {
    indicativePrice: price,
    matchedQty: matched,
    imbalanceQty: Math.abs(dem - sup),
    imbalanceSide: dem > sup ? Side.BUY : sup > dem ? Side.SELL : Side.UNSPECIFIED,
  };
}
