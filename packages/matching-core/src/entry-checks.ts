import type { Book } from "./book.ts";
import { StpMode } from "./constants.ts";
import type { EngineState } from "./engine-state.ts";
import { ORDER_RECORD } from "./order-record.ts";

/*
 * The checks an order passes at entry that read the opposite side of the book: the call
 * auction's self-trade prevention (NSE refuses, at entry, an order that would cross its owner's)
 * and whether a FOK order can fill. Run only for those orders, never for a plain limit order.
 */

const { BUY, SELL, I_LEAVES, I_ACCOUNT, I_GROUP, I_NEXT } = ORDER_RECORD;

/**
 * Whether a resting order of the owner (`account`, or nonzero STP `group`) on the side
 * opposite `side` is at a price an order of `side` at `limit` would trade with.
 */
export function crossesOwn(
  e: EngineState,
  b: Book,
  side: number,
  limit: number,
  account: number,
  group: number,
): boolean {
  const oi = e.oi;
  const opp = side ^ 1;
  let rel = opp === SELL ? b.bestAsk : b.bestBid;
  while (rel >= 0 && (side === BUY ? rel <= limit : rel >= limit)) {
    for (let m = b.head[opp * b.wSize + (rel - b.wBase)]!; m !== -1; m = oi[(m << 4) + I_NEXT]!)
      if (oi[(m << 4) + I_ACCOUNT] === account || (group !== 0 && oi[(m << 4) + I_GROUP] === group)) return true;
    rel = b.nextLevel(opp, rel);
  }
  return false;
}

/** Whether a FOK taker could fill `qty` completely, self-trade prevention included. */
export function fokFillable(
  e: EngineState,
  b: Book,
  side: number,
  limit: number,
  qty: number,
  account: number,
  group: number,
  stp: number,
): boolean {
  const oi = e.oi;
  const opp = side ^ 1;
  let rel = opp === SELL ? b.bestAsk : b.bestBid;
  let need = qty;
  while (rel >= 0 && (side === BUY ? rel <= limit : rel >= limit)) {
    let m = b.head[opp * b.wSize + (rel - b.wBase)]!;
    while (m !== -1) {
      const m4 = m << 4;
      if (oi[m4 + I_ACCOUNT] === account || (group !== 0 && oi[m4 + I_GROUP] === group)) {
        if (stp !== StpMode.CANCEL_RESTING) return false;
      } else {
        need -= oi[m4 + I_LEAVES]!;
        if (need <= 0) return true;
      }
      m = oi[m4 + I_NEXT]!;
    }
    rel = b.nextLevel(opp, rel);
  }
  return false;
}
