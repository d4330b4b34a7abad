import { Side, type Order } from "@tradeplane/contracts";
import type { SendResult, StrategyContext } from "./strategy.ts";

/** One side's wanted quote (price in ticks, quantity in lots); absent = no quote on that side. */
export interface Quote {
  readonly price: number;
  readonly qty: number;
}

export interface QuoteTargets {
  readonly bid?: Quote | undefined;
  readonly ask?: Quote | undefined;
}

/** What `quote` did on one side. */
export type QuoteAction = "kept" | "placed" | "moved" | "pulled" | "waiting" | "refused";

/**
 * Keeps one resting order per side at the wanted price and size: places it, moves it with
 * a replace, or pulls it, and cancels any extra orders on the side. While a request of the
 * side is unanswered it waits, so a fast feed never stacks orders. Every order passes the
 * account's limits first; a refused side reports `refused` and stays as it was.
 */
export function quote(
  ctx: StrategyContext,
  instrument: string,
  targets: QuoteTargets,
): {
  bid: QuoteAction;
  ask: QuoteAction;
} {
  const working = ctx.openOrders(instrument);
  return {
    bid: quoteSide(ctx, instrument, Side.BUY, targets.bid, working),
    ask: quoteSide(ctx, instrument, Side.SELL, targets.ask, working),
  };
}

function quoteSide(
  ctx: StrategyContext,
  instrument: string,
  side: Side,
  target: Quote | undefined,
  working: readonly Order[],
): QuoteAction {
  // The side's first order is the quote; any others are extra (no arrays: called per event).
  let first: Order | undefined;
  for (let i = 0; i < working.length && first === undefined; i++) if (working[i]!.side === side) first = working[i];
  if (ctx.pendingCount > 0 && first === undefined && target !== undefined) return "waiting";
  for (let i = 0; i < working.length; i++) {
    const o = working[i]!;
    if (o.side === side && o !== first) ctx.cancel(o.clientOrderId);
  }
  if (target === undefined || target.qty <= 0) {
    if (first === undefined) return "kept";
    ctx.cancel(first.clientOrderId);
    return "pulled";
  }
  let result: SendResult;
  if (first === undefined) {
    result = ctx.submit({ instrument, side, price: target.price, qty: target.qty, postOnly: true });
    return result.ok ? "placed" : "refused";
  }
  // The replace's quantity is the order's total: what it filled counts toward it.
  if (first.price === target.price && first.leavesQty === target.qty) return "kept";
  result = ctx.replace(first.clientOrderId, target.price, first.cumQty + target.qty);
  return result.ok ? "moved" : "refused";
}

/** Rounds a price in ticks down (bids) or up (asks) to a multiple of `tick`. */
export function toTick(price: number, tick: number, side: Side): number {
  const t = Math.max(1, tick);
  return side === Side.BUY ? Math.floor(price / t) * t : Math.ceil(price / t) * t;
}
