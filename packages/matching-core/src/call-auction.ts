import type { Book } from "./book.ts";
import type { EngineState } from "./engine-state.ts";
import { ORDER_RECORD } from "./order-record.ts";

const { BUY, SELL, F_PRIO, I_LEAVES, I_SHOWN, I_NEXT, B_SIDE } = ORDER_RECORD;

/**
 * The call-auction uncross: one price that maximises executed volume; ties by least imbalance,
 * then nearest the reference price (the reference price itself when two candidates are equally
 * near). Orders trade with their whole leaves (hidden included) in price-time priority; the
 * earlier order of each pair is reported as maker.
 */
export function uncross(e: EngineState, b: Book): void {
  if (b.bestBid < 0 || b.bestAsk < 0 || b.bestBid < b.bestAsk) return;
  const lo = b.bestAsk;
  const hi = b.bestBid;
  // Candidate prices: every level inside [lo, hi], ascending, with the total (visible + hidden)
  // quantity of bids and asks at that price.
  const levels = new Map<number, { bid: number; ask: number }>();
  for (let rel = hi; rel >= lo && rel >= 0; rel = b.nextLevel(BUY, rel))
    levels.set(rel, { bid: levelTotal(e, b, BUY, rel), ask: 0 });
  for (let rel = lo; rel >= 0 && rel <= hi; rel = b.nextLevel(SELL, rel)) {
    const l = levels.get(rel);
    if (l === undefined) levels.set(rel, { bid: 0, ask: levelTotal(e, b, SELL, rel) });
    else l.ask = levelTotal(e, b, SELL, rel);
  }
  const candidates = [...levels.keys()].sort((x, y) => x - y);
  // Demand at p = bids priced >= p (suffix sum); supply at p = asks priced <= p (prefix sum).
  const demand = new Array<number>(candidates.length);
  let d = 0;
  for (let i = candidates.length - 1; i >= 0; i--) {
    d += levels.get(candidates[i]!)!.bid;
    demand[i] = d;
  }
  let bestV = 0;
  let bestImb = 0;
  let tied: number[] = [];
  let supply = 0;
  for (let i = 0; i < candidates.length; i++) {
    const p = candidates[i]!;
    supply += levels.get(p)!.ask;
    const v = Math.min(demand[i]!, supply);
    const imb = Math.abs(demand[i]! - supply);
    if (v > bestV || (v === bestV && imb < bestImb)) {
      bestV = v;
      bestImb = imb;
      tied = [p];
    } else if (v === bestV && imb === bestImb) tied.push(p);
  }
  if (bestV === 0) return;
  const ref = b.cfg.referencePrice;
  let minDist = Infinity;
  for (const p of tied) minDist = Math.min(minDist, Math.abs(b.relToPrice(p) - ref));
  const near = tied.filter((p) => Math.abs(b.relToPrice(p) - ref) === minDist);
  const pr = near.length > 1 ? b.refRel : near[0]!;
  const price = b.relToPrice(pr);

  const oi = e.oi;
  const of = e.of;
  const touched: [number[], number[]] = [[], []];
  const touchedAgg: [number[], number[]] = [[], []];
  const inst = b.index;
  while (b.bestBid >= 0 && b.bestAsk >= 0 && b.bestBid >= pr && b.bestAsk <= pr) {
    const bRel = b.bestBid;
    const aRel = b.bestAsk;
    const bli = BUY * b.wSize + (bRel - b.wBase);
    const ali = SELL * b.wSize + (aRel - b.wBase);
    if (touched[BUY].at(-1) !== bRel) {
      touched[BUY].push(bRel);
      touchedAgg[BUY].push(b.agg[bli]!);
    }
    if (touched[SELL].at(-1) !== aRel) {
      touched[SELL].push(aRel);
      touchedAgg[SELL].push(b.agg[ali]!);
    }
    const bo = b.head[bli]!;
    const ao = b.head[ali]!;
    const fill = Math.min(oi[(bo << 4) + I_LEAVES]!, oi[(ao << 4) + I_LEAVES]!);
    auctionFill(e, b, bo, bli, fill);
    auctionFill(e, b, ao, ali, fill);
    const bidIsMaker = of[(bo << 3) + F_PRIO]! < of[(ao << 3) + F_PRIO]!;
    const maker = bidIsMaker ? bo : ao;
    const taker = bidIsMaker ? ao : bo;
    e.emitTrade(
      inst,
      e.ob[(taker << 6) + B_SIDE]! + 1,
      price,
      fill,
      of[maker << 3]!,
      of[taker << 3]!,
      oi[(maker << 4) + I_LEAVES]!,
      oi[(taker << 4) + I_LEAVES]!,
    );
    b.lastPrice = price;
    if (oi[(bo << 4) + I_LEAVES] === 0) {
      e.dropHead(b, bo, bli);
      if (b.head[bli] === -1) e.levelEmptied(b, BUY, bRel);
    }
    if (oi[(ao << 4) + I_LEAVES] === 0) {
      e.dropHead(b, ao, ali);
      if (b.head[ali] === -1) e.levelEmptied(b, SELL, aRel);
    }
  }
  // At most one order is left partially filled; an iceberg whose shown part went refills at the back.
  for (let side = 0; side < 2; side++) {
    const rel = touched[side as 0 | 1].at(-1)!;
    const li = side * b.wSize + (rel - b.wBase);
    const h = b.head[li]!;
    if (h !== -1 && oi[(h << 4) + I_SHOWN] === 0) {
      const dsp = e.displayOf(h);
      const l = oi[(h << 4) + I_LEAVES]!;
      const ns = l < dsp ? l : dsp;
      oi[(h << 4) + I_SHOWN] = ns;
      b.agg[li] = b.agg[li]! + ns;
      e.moveToBack(b, h, li);
      of[(h << 3) + F_PRIO] = ++e.prioCounter;
    }
  }
  for (let side = 0; side < 2; side++) {
    const rels = touched[side as 0 | 1];
    const aggs = touchedAgg[side as 0 | 1];
    for (let i = 0; i < rels.length; i++) {
      const li = side * b.wSize + (rels[i]! - b.wBase);
      const now = b.head[li] === -1 ? 0 : b.agg[li]!;
      if (now !== aggs[i]) e.emitDelta(inst, side + 1, b.relToPrice(rels[i]!), now);
    }
  }
}

/** Applies an auction fill to a head order: leaves down, the shown part down by at most its size. */
function auctionFill(e: EngineState, b: Book, s: number, li: number, fill: number): void {
  const oi = e.oi;
  const s4 = s << 4;
  oi[s4 + I_LEAVES] = oi[s4 + I_LEAVES]! - fill;
  const shown = oi[s4 + I_SHOWN]!;
  const dec = fill < shown ? fill : shown;
  oi[s4 + I_SHOWN] = shown - dec;
  b.agg[li] = b.agg[li]! - dec;
}

function levelTotal(e: EngineState, b: Book, side: number, rel: number): number {
  let total = 0;
  for (let s = b.head[side * b.wSize + (rel - b.wBase)]!; s !== -1; s = e.oi[(s << 4) + I_NEXT]!)
    total += e.oi[(s << 4) + I_LEAVES]!;
  return total;
}
