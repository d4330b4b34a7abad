import { Side } from "@tradeplane/contracts";
import type { StrategyContext } from "@tradeplane/sdk";

const SHALLOW = 2;
const DEPTH = 10;

/**
 * The best price of one side that is not only the strategy's own orders: a maker that
 * centred on a mid including its own quotes would chase itself.
 */
export function othersBest(ctx: StrategyContext, instrument: string, side: Side): number | undefined {
  const own = new Map<number, number>();
  for (const o of ctx.openOrders(instrument))
    if (o.side === side) own.set(o.price, (own.get(o.price) ?? 0) + o.leavesQty);
  // A strategy has a few orders a side: the top levels nearly always hold the answer.
  for (const depth of [SHALLOW, DEPTH]) {
    const levels = ctx.market.levels(instrument, depth);
    const list = side === Side.BUY ? levels.bids : levels.asks;
    for (const l of list) if (l.qty > (own.get(l.price) ?? 0)) return l.price;
    if (list.length < depth) return undefined;
  }
  return undefined;
}
