import { z } from "zod";
import { ExecType, InstrumentState, OrderType, Side, TimeInForce } from "@tradeplane/contracts";
import type { Strategy, StrategyContext } from "@tradeplane/sdk";
import { othersBest } from "./own-book.ts";

export const twapParams = z
  .object({
    side: z.enum(["BUY", "SELL"]).describe("Side of the parent order"),
    totalQty: z.number().int().min(1).max(1e12).describe("Parent quantity, in lots"),
    durationMs: z.number().int().min(1).describe("Time window over which the parent is executed, ms"),
    slices: z.number().int().min(1).max(100_000).default(10).describe("Number of child slices over the window"),
    limitPrice: z
      .number()
      .int()
      .min(1)
      .describe("Worst price the parent accepts, in ticks: never buys above it, never sells below it"),
    maxParticipation: z
      .number()
      .gt(0)
      .max(1)
      .default(1)
      .describe("Largest share of the traded volume (ours included) the parent may take, 0..1"),
  })
  .strict();

export type TwapParams = z.infer<typeof twapParams>;

/** Where a TWAP stands (lots; times in ms from the start of the window). */
export interface TwapProgress {
  readonly elapsedMs: number;
  readonly filled: number;
  /** Quantity of child orders not answered yet. */
  readonly working: number;
  /** Volume traded by others in the instrument since the start. */
  readonly othersVolume: number;
}

/** The slice (1..slices) the window is in at `elapsedMs`. */
export function twapSlice(p: TwapParams, elapsedMs: number): number {
  return Math.min(p.slices, Math.floor((elapsedMs * p.slices) / p.durationMs) + 1);
}

/** What the schedule has due by the end of `slice`: slice k of n is k/n of the parent, rounded up. */
export function twapDue(p: TwapParams, slice: number): number {
  return Math.min(p.totalQty, Math.ceil((p.totalQty * slice) / p.slices));
}

/**
 * The TWAP's decision, pure: the quantity of the next child so that the parent is on
 * schedule (slice k of n due by k/n of the window), never beyond the parent, and never
 * more than `maxParticipation` of all volume traded since the start (ours included).
 */
export function twapChildQty(p: TwapParams, s: TwapProgress): number {
  const due = twapDue(p, twapSlice(p, s.elapsedMs));
  let qty = due - s.filled - s.working;
  if (p.maxParticipation < 1) {
    // own <= p x (others + own)  <=>  own <= p / (1 - p) x others
    const cap = Math.floor((p.maxParticipation / (1 - p.maxParticipation)) * s.othersVolume);
    qty = Math.min(qty, cap - s.filled - s.working);
  }
  return Math.max(0, qty);
}

/**
 * Executes a parent order over a window: at each slice it sends an immediate-or-cancel
 * child at the best opposite price, bounded by the limit, for what is due (when the book
 * shows nothing within the limit at the slice's timer, at its first book change that does). Unfilled child
 * quantity is due again at the next slice; at the end of the window it stops. It logs its
 * schedule on its own clock (`twap child`: slice, elapsedMs, qty, price, filled before it;
 * `twap complete`: elapsedMs, filled), so a run can be checked against its parameters.
 */
export function twap(p: TwapParams, instruments: readonly string[]): Strategy {
  const instrument = instruments[0]!;
  const side = p.side === "BUY" ? Side.BUY : Side.SELL;
  let startMs = 0;
  let filled = 0;
  let volume = 0;
  /** The last slice a child went in: a book change sends one only in a slice that has none yet. */
  let sentSlice = 0;
  const tick = (ctx: StrategyContext, onBook = false): void => {
    const elapsedMs = ctx.now() - startMs;
    if (filled >= p.totalQty || elapsedMs > p.durationMs || ctx.pendingCount > 0) return;
    const slice = twapSlice(p, elapsedMs);
    if (onBook && slice === sentSlice) return;
    if (ctx.market.state(instrument) !== InstrumentState.CONTINUOUS) return;
    const qty = twapChildQty(p, { elapsedMs, filled, working: 0, othersVolume: volume - filled });
    if (qty <= 0) return;
    const best = othersBest(ctx, instrument, side === Side.BUY ? Side.SELL : Side.BUY);
    if (best === undefined) return;
    if (side === Side.BUY ? best > p.limitPrice : best < p.limitPrice) return;
    const sent = ctx.submit({
      instrument,
      side,
      price: best,
      qty,
      orderType: OrderType.LIMIT,
      timeInForce: TimeInForce.IOC,
    });
    if (!sent.ok) return;
    sentSlice = slice;
    ctx.log("twap child", { slice, elapsedMs, qty, price: best, filled });
  };
  return {
    onStart: (ctx) => {
      startMs = ctx.now();
      ctx.setTimer("slice", Math.max(1, Math.floor(p.durationMs / p.slices)));
      tick(ctx);
    },
    onTrade: (_ctx, trade) => {
      if (trade.instrument === instrument) volume += trade.qty;
    },
    onExecutionReport: (ctx, report) => {
      if (report.execType !== ExecType.TRADE || report.order?.instrument !== instrument) return;
      filled += report.lastQty;
      if (filled >= p.totalQty) ctx.log("twap complete", { elapsedMs: ctx.now() - startMs, filled });
    },
    onTimer: (ctx) => tick(ctx),
    // The book may show no liquidity at a slice's timer (or not be loaded yet at the start):
    // the slice's child then goes at the first book change that brings some.
    onBook: (ctx, changed) => {
      if (changed === instrument) tick(ctx, true);
    },
  };
}
