import { z } from "zod";
import { ExecType, InstrumentState, Side } from "@tradeplane/contracts";
import { othersBest } from "./own-book.ts";
import {
  quote,
  toTick,
  type MarketView,
  type Quote,
  type QuoteTargets,
  type Strategy,
  type StrategyContext,
} from "@tradeplane/sdk";

export const marketMakerParams = z
  .object({
    spreadTicks: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(4)
      .describe("Full quoted spread, in ticks of the instrument"),
    quoteQty: z.number().int().min(1).max(1_000_000).default(10).describe("Size of each quote, in lots"),
    maxInventory: z
      .number()
      .int()
      .min(0)
      .max(1e12)
      .default(100)
      .describe("Largest net position either way, in lots: quotes shrink so that a full fill stays within it"),
    // An integer per hundred lots: StrategyDeployment parameters are integers or strings, never floats.
    skewTicksPer100Lots: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .default(0)
      .describe("Quotes move this many ticks against the inventory per hundred lots held (long: lower, short: higher)"),
    referencePrice: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Quote around this price (ticks) instead of the mid; 0 = mid, else last trade, else the reference"),
    staleMs: z
      .number()
      .int()
      .min(0)
      .default(5_000)
      .describe("Pull quotes when the book has not changed for this long (0 = never)"),
    refreshMs: z.number().int().min(10).default(250).describe("How often quotes are checked without a book change, ms"),
  })
  .strict();

export type MarketMakerParams = z.infer<typeof marketMakerParams>;

/** What the maker reads of one instrument (prices in ticks, quantities in lots). */
export interface MakerView {
  readonly state: InstrumentState;
  readonly bestBid: number | undefined;
  readonly bestAsk: number | undefined;
  readonly lastPrice: number;
  readonly referencePrice: number;
  readonly tick: number;
  readonly netQty: number;
  /** ms since the book or state last changed; Infinity if never seen. */
  readonly ageMs: number;
}

/**
 * The market maker's decision, pure: two-sided quotes around the reference (the
 * configured price, else the mid, else the last trade, else the instrument's reference),
 * skewed against the inventory, sized so that a full fill of either side leaves the net
 * position within ±maxInventory. None while the instrument is not trading continuously or
 * the book is stale.
 */
export function makerQuotes(p: MarketMakerParams, v: MakerView): QuoteTargets {
  if (v.state !== InstrumentState.CONTINUOUS) return {};
  if (p.staleMs > 0 && v.ageMs > p.staleMs) return {};
  const centre =
    p.referencePrice > 0
      ? p.referencePrice
      : v.bestBid !== undefined && v.bestAsk !== undefined
        ? (v.bestBid + v.bestAsk) / 2
        : v.lastPrice > 0
          ? v.lastPrice
          : v.referencePrice;
  if (!(centre > 0)) return {};
  const skew = (-v.netQty * p.skewTicksPer100Lots * v.tick) / 100;
  const half = (p.spreadTicks * v.tick) / 2;
  // Post-only quotes never cross what others show.
  let bidPrice = toTick(centre - half + skew, v.tick, Side.BUY);
  if (v.bestAsk !== undefined) bidPrice = Math.min(bidPrice, v.bestAsk - v.tick);
  let askPrice = Math.max(toTick(centre + half + skew, v.tick, Side.SELL), bidPrice + v.tick);
  if (v.bestBid !== undefined) askPrice = Math.max(askPrice, v.bestBid + v.tick);
  const bidQty = Math.min(p.quoteQty, p.maxInventory - v.netQty);
  const askQty = Math.min(p.quoteQty, p.maxInventory + v.netQty);
  // One object, no spreads: called on every book change.
  const targets: { bid?: Quote; ask?: Quote } = {};
  if (bidQty > 0 && bidPrice > 0) targets.bid = { price: bidPrice, qty: bidQty };
  if (askQty > 0) targets.ask = { price: askPrice, qty: askQty };
  return targets;
}

function viewOf(ctx: StrategyContext, market: MarketView, instrument: string): MakerView {
  const bid = othersBest(ctx, instrument, Side.BUY);
  const ask = othersBest(ctx, instrument, Side.SELL);
  const anchor = bid ?? ask ?? market.lastPrice(instrument);
  const updated = market.updatedAtMs(instrument);
  return {
    state: market.state(instrument),
    bestBid: bid,
    bestAsk: ask,
    lastPrice: market.lastPrice(instrument),
    referencePrice: market.referencePrice(instrument),
    tick: market.tickSize(instrument, anchor > 0 ? anchor : market.referencePrice(instrument)),
    netQty: ctx.position(instrument).netQty,
    ageMs: updated === 0 ? Infinity : ctx.now() - updated,
  };
}

/** Quotes every instrument it is given; its own resting orders are part of the book it reads. */
export function marketMaker(p: MarketMakerParams, instruments: readonly string[]): Strategy {
  const requote = (ctx: StrategyContext, instrument: string): void => {
    quote(ctx, instrument, makerQuotes(p, viewOf(ctx, ctx.market, instrument)));
  };
  return {
    onStart: (ctx) => ctx.setTimer("refresh", p.refreshMs),
    onBook: (ctx, instrument) => {
      if (instruments.includes(instrument)) requote(ctx, instrument);
    },
    // After a fill the inventory changed; a reject waits for the next book change or refresh.
    onExecutionReport: (ctx, report) => {
      const instrument = report.order?.instrument ?? "";
      if (report.execType === ExecType.TRADE && instruments.includes(instrument)) requote(ctx, instrument);
    },
    onTimer: (ctx) => {
      for (const i of instruments) requote(ctx, i);
    },
  };
}
