import { Side } from "@tradeplane/contracts";
import type { MarketView, StrategyContext } from "@tradeplane/sdk";

const SHALLOW = 2;
const DEPTH = 10;

/**
 * The best price of one side that is not only the strategy's own orders: a maker that
 * centred on a mid including its own quotes would chase itself.
 */
export function othersBest(ctx: StrategyContext, instrument: string, side: Side): number | undefined {
  return othersBestBeside(ctx.market, ctx.openOrders(instrument), instrument, side);
}

/** `othersBest` with the strategy's open orders of the instrument already read (a maker asks for both sides per event). */
export function othersBestBeside(
  market: MarketView,
  own: readonly { side: Side; price: number; leavesQty: number }[],
  instrument: string,
  side: Side,
): number | undefined {
  // A strategy has a few orders a side: the top levels nearly always hold the answer.
  // Indexed loops: called per event, and for-of over the shared frozen lists allocates.
  for (let d = 0; d < DEPTHS.length; d++) {
    const depth = DEPTHS[d]!;
    const levels = market.levels(instrument, depth);
    const list = side === Side.BUY ? levels.bids : levels.asks;
    for (let i = 0; i < list.length; i++) if (list[i]!.qty > ownAt(own, side, list[i]!.price)) return list[i]!.price;
    if (list.length < depth) return undefined;
  }
  return undefined;
}

const DEPTHS: readonly number[] = [SHALLOW, DEPTH];

/** The strategy's own quantity at one price of one side (a scan: a few orders, no map per call). */
function ownAt(own: readonly { side: Side; price: number; leavesQty: number }[], side: Side, price: number): number {
  let qty = 0;
  for (let i = 0; i < own.length; i++) {
    const o = own[i]!;
    if (o.side === side && o.price === price) qty += o.leavesQty;
  }
  return qty;
}
