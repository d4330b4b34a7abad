import { z } from "zod";
import { InstrumentState, OrderType, Side, TimeInForce } from "@tradeplane/contracts";
import type { Strategy } from "@tradeplane/sdk";
import { othersBest } from "./own-book.ts";

export const momentumTakerParams = z
  .object({
    lookbackTrades: z.number().int().min(2).max(10_000).default(20).describe("Trades the move is measured over"),
    thresholdTicks: z
      .number()
      .int()
      .min(1)
      .default(20)
      .describe("Move, in ticks (price units), that triggers an order"),
    qty: z.number().int().min(1).default(5).describe("Size of each order, in lots"),
    maxPosition: z.number().int().min(0).default(50).describe("Largest net position either way, in lots"),
    cooldownMs: z.number().int().min(0).default(1_000).describe("Least time between two orders, ms"),
  })
  .strict();

export type MomentumTakerParams = z.infer<typeof momentumTakerParams>;

/**
 * The momentum taker's decision, pure: buy after a rise of at least the threshold over the
 * last trades, sell after a fall, within the position bound; 0 = nothing.
 */
export function momentumSignal(p: MomentumTakerParams, prices: readonly number[], netQty: number): Side | 0 {
  if (prices.length < p.lookbackTrades) return 0;
  const move = prices[prices.length - 1]! - prices[prices.length - p.lookbackTrades]!;
  if (move >= p.thresholdTicks && netQty + p.qty <= p.maxPosition) return Side.BUY;
  if (move <= -p.thresholdTicks && -(netQty - p.qty) <= p.maxPosition) return Side.SELL;
  return 0;
}

/** Takes liquidity in the direction of recent trades (for demos). */
export function momentumTaker(p: MomentumTakerParams, instruments: readonly string[]): Strategy {
  const prices = new Map<string, number[]>(instruments.map((i) => [i, []]));
  let lastOrderMs = -Infinity;
  return {
    onTrade: (ctx, trade) => {
      const series = prices.get(trade.instrument);
      if (series === undefined) return;
      series.push(trade.price);
      if (series.length > p.lookbackTrades) series.shift();
      if (ctx.now() - lastOrderMs < p.cooldownMs || ctx.pendingCount > 0) return;
      if (ctx.market.state(trade.instrument) !== InstrumentState.CONTINUOUS) return;
      const side = momentumSignal(p, series, ctx.position(trade.instrument).netQty);
      if (side === 0) return;
      const price = othersBest(ctx, trade.instrument, side === Side.BUY ? Side.SELL : Side.BUY);
      if (price === undefined) return;
      const sent = ctx.submit({
        instrument: trade.instrument,
        side,
        price,
        qty: p.qty,
        orderType: OrderType.LIMIT,
        timeInForce: TimeInForce.IOC,
      });
      if (sent.ok) lastOrderMs = ctx.now();
    },
  };
}
