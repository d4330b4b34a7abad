import { z } from "zod";
import { ExecType, InstrumentState, Side } from "@tradeplane/contracts";
import { othersBestBeside } from "./own-book.ts";
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
  const q = new MakerTargets();
  if (!q.decide(p, v)) return {};
  // One object, no spreads.
  const targets: { bid?: Quote; ask?: Quote } = {};
  if (q.hasBid) targets.bid = { price: q.bid.price, qty: q.bid.qty };
  if (q.hasAsk) targets.ask = { price: q.ask.price, qty: q.ask.qty };
  return targets;
}

/**
 * `makerQuotes`' decision written into objects kept by one maker and reused on every book
 * change (a backtest makes a million of them): `quote` reads the targets and keeps none.
 */
class MakerTargets {
  readonly bid = { price: 0, qty: 0 };
  readonly ask = { price: 0, qty: 0 };
  hasBid = false;
  hasAsk = false;
  /** The targets as `quote` reads them (absent sides undefined). */
  readonly targets: { bid: Quote | undefined; ask: Quote | undefined } = { bid: undefined, ask: undefined };

  /** Decides; false when the maker quotes nothing at all. */
  decide(p: MarketMakerParams, v: MakerView): boolean {
    this.hasBid = false;
    this.hasAsk = false;
    if (v.state !== InstrumentState.CONTINUOUS) return false;
    if (p.staleMs > 0 && v.ageMs > p.staleMs) return false;
    const centre =
      p.referencePrice > 0
        ? p.referencePrice
        : v.bestBid !== undefined && v.bestAsk !== undefined
          ? (v.bestBid + v.bestAsk) / 2
          : v.lastPrice > 0
            ? v.lastPrice
            : v.referencePrice;
    if (!(centre > 0)) return false;
    const skew = (-v.netQty * p.skewTicksPer100Lots * v.tick) / 100;
    const half = (p.spreadTicks * v.tick) / 2;
    // Post-only quotes never cross what others show.
    let bidPrice = toTick(centre - half + skew, v.tick, Side.BUY);
    if (v.bestAsk !== undefined) bidPrice = Math.min(bidPrice, v.bestAsk - v.tick);
    let askPrice = Math.max(toTick(centre + half + skew, v.tick, Side.SELL), bidPrice + v.tick);
    if (v.bestBid !== undefined) askPrice = Math.max(askPrice, v.bestBid + v.tick);
    const bidQty = Math.min(p.quoteQty, p.maxInventory - v.netQty);
    const askQty = Math.min(p.quoteQty, p.maxInventory + v.netQty);
    if (bidQty > 0 && bidPrice > 0) {
      this.hasBid = true;
      this.bid.price = bidPrice;
      this.bid.qty = bidQty;
    }
    if (askQty > 0) {
      this.hasAsk = true;
      this.ask.price = askPrice;
      this.ask.qty = askQty;
    }
    return true;
  }

  /** The last decision as targets for `quote` (the same object each time). */
  current(): QuoteTargets {
    this.targets.bid = this.hasBid ? this.bid : undefined;
    this.targets.ask = this.hasAsk ? this.ask : undefined;
    return this.targets;
  }
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Reads the maker's view of `instrument` into `v` (one object per maker, rewritten per event). */
function readView(v: Writable<MakerView>, ctx: StrategyContext, market: MarketView, instrument: string): MakerView {
  const own = ctx.openOrders(instrument);
  const bid = othersBestBeside(market, own, instrument, Side.BUY);
  const ask = othersBestBeside(market, own, instrument, Side.SELL);
  const lastPrice = market.lastPrice(instrument);
  const referencePrice = market.referencePrice(instrument);
  const anchor = bid ?? ask ?? lastPrice;
  const updated = market.updatedAtMs(instrument);
  v.state = market.state(instrument);
  v.bestBid = bid;
  v.bestAsk = ask;
  v.lastPrice = lastPrice;
  v.referencePrice = referencePrice;
  v.tick = market.tickSize(instrument, anchor > 0 ? anchor : referencePrice);
  v.netQty = ctx.position(instrument).netQty;
  v.ageMs = updated === 0 ? Infinity : ctx.now() - updated;
  return v;
}

const NO_QUOTES: QuoteTargets = Object.freeze({});

/** Quotes every instrument it is given; its own resting orders are part of the book it reads. */
export function marketMaker(p: MarketMakerParams, instruments: readonly string[]): Strategy {
  const view: Writable<MakerView> = {
    state: InstrumentState.UNSPECIFIED,
    bestBid: undefined,
    bestAsk: undefined,
    lastPrice: 0,
    referencePrice: 0,
    tick: 1,
    netQty: 0,
    ageMs: Infinity,
  };
  const decision = new MakerTargets();
  const requote = (ctx: StrategyContext, instrument: string): void => {
    const quoting = decision.decide(p, readView(view, ctx, ctx.market, instrument));
    quote(ctx, instrument, quoting ? decision.current() : NO_QUOTES);
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
