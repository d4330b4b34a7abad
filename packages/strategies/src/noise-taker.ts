import { z } from "zod";
import { InstrumentState, OrderType, Side, TimeInForce } from "@tradeplane/contracts";
import type { Strategy, StrategyContext } from "@tradeplane/sdk";
import { othersBest } from "./own-book.ts";

export const noiseTakerParams = z
  .object({
    everyMs: z.number().int().min(10).max(3_600_000).default(500).describe("Time between two orders, ms"),
    maxQty: z.number().int().min(1).max(1_000_000).default(5).describe("Largest order, in lots (sizes 1..maxQty)"),
    maxPosition: z
      .number()
      .int()
      .min(0)
      .max(1e12)
      .default(50)
      .describe("Largest net position either way, in lots: at the bound it only trades back toward flat"),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1)
      .describe("Seed of its choices: the same seed, the same choices"),
  })
  .strict();

export type NoiseTakerParams = z.infer<typeof noiseTakerParams>;

/** A small, fast, seeded generator (mulberry32): the taker's choices are reproducible. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One order of the noise taker: side and size from two draws in [0, 1), within the position bound; undefined = none. */
export function noiseOrder(
  p: NoiseTakerParams,
  sideDraw: number,
  qtyDraw: number,
  netQty: number,
): { side: Side; qty: number } | undefined {
  const side = sideDraw < 0.5 ? Side.BUY : Side.SELL;
  const room = side === Side.BUY ? p.maxPosition - netQty : p.maxPosition + netQty;
  const qty = Math.min(1 + Math.floor(qtyDraw * p.maxQty), room);
  return qty > 0 ? { side, qty } : undefined;
}

/**
 * Uninformed flow for demos and tests: every `everyMs` it picks one of its instruments, a
 * side and a size from its seeded generator and takes the best price others show, immediate
 * or cancel, within its position bound. Against a market maker it makes a market that
 * trades, which is what local mode's examples need (the market maker alone never crosses).
 */
export function noiseTaker(p: NoiseTakerParams, instruments: readonly string[]): Strategy {
  const random = seededRandom(p.seed);
  const step = (ctx: StrategyContext): void => {
    const instrument = instruments[Math.floor(random() * instruments.length)]!;
    const order = noiseOrder(p, random(), random(), ctx.position(instrument).netQty);
    if (order === undefined || ctx.pendingCount > 0) return;
    if (ctx.market.state(instrument) !== InstrumentState.CONTINUOUS) return;
    const price = othersBest(ctx, instrument, order.side === Side.BUY ? Side.SELL : Side.BUY);
    if (price === undefined) return;
    ctx.submit({
      instrument,
      side: order.side,
      price,
      qty: order.qty,
      orderType: OrderType.LIMIT,
      timeInForce: TimeInForce.IOC,
    });
  };
  return {
    onStart: (ctx) => ctx.setTimer("order", p.everyMs),
    onTimer: step,
  };
}
