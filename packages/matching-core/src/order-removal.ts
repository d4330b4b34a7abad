import type { Book } from "./book.ts";
import { CancelReason, EventKind, RejectReason, TimeInForce } from "./constants.ts";
import type { EngineState } from "./engine-state.ts";
import { ORDER_RECORD } from "./order-record.ts";

const { BUY, F_PRICE, I_LEAVES, I_ACCOUNT, I_NEXT, B_TIF } = ORDER_RECORD;

/** Which live orders `removeWhere` removes: all, one account's (arg), DAY ones, GTD ones expiring at or before arg. */
export const FILTER_ALL = 0;
export const FILTER_ACCOUNT = 1;
export const FILTER_DAY = 2;
export const FILTER_GTD = 3;

function matchesFilter(e: EngineState, s: number, filter: number, arg: number): boolean {
  switch (filter) {
    case FILTER_ACCOUNT:
      return e.oi[(s << 4) + I_ACCOUNT] === arg;
    case FILTER_DAY:
      return e.ob[(s << 6) + B_TIF] === TimeInForce.DAY;
    case FILTER_GTD:
      return e.ob[(s << 6) + B_TIF] === TimeInForce.GTD && e.oExpire[s]! <= arg;
    default:
      return true;
  }
}

/**
 * Removes every live order of `b` on `sideFilter` (0 = both, 1 buy, 2 sell) that matches the
 * filter, in book order: bids best to worst, asks best to worst (FIFO within a level; one
 * BOOK_DELTA per changed level), then buy stops and sell stops in trigger order.
 */
export function removeWhere(
  e: EngineState,
  b: Book,
  sideFilter: number,
  filter: number,
  arg: number,
  kind: number,
  reason: number,
): void {
  const oi = e.oi;
  for (let side = 0; side < 2; side++) {
    if (sideFilter !== 0 && sideFilter !== side + 1) continue;
    let rel = side === BUY ? b.bestBid : b.bestAsk;
    while (rel >= 0) {
      const next = b.nextLevel(side, rel);
      const li = side * b.wSize + (rel - b.wBase);
      const before = b.agg[li]!;
      let s = b.head[li]!;
      while (s !== -1) {
        const n = oi[(s << 4) + I_NEXT]!;
        if (matchesFilter(e, s, filter, arg)) {
          e.unlinkResting(b, s, li);
          e.emitOrder(kind, s, e.of[(s << 3) + F_PRICE]!, oi[(s << 4) + I_LEAVES]!, 0, reason);
          e.indexRemove(s);
          e.free(s);
        }
        s = n;
      }
      const now = b.agg[li]!;
      if (now !== before) e.emitDelta(b.index, side + 1, b.relToPrice(rel), now);
      if (b.head[li] === -1) e.levelEmptied(b, side, rel);
      rel = next;
    }
  }
  for (let side = 0; side < 2; side++) {
    if (sideFilter !== 0 && sideFilter !== side + 1) continue;
    let s = b.stopHead[side]!;
    while (s !== -1) {
      const n = oi[(s << 4) + I_NEXT]!;
      if (matchesFilter(e, s, filter, arg)) {
        e.unlinkStop(b, s);
        e.emitOrder(kind, s, e.of[(s << 3) + F_PRICE]!, oi[(s << 4) + I_LEAVES]!, 0, reason);
        e.indexRemove(s);
        e.free(s);
      }
      s = n;
    }
  }
}

/** The `massCancel` command (see `MatchingEngine.massCancel`). */
export function massCancelOrders(
  e: EngineState,
  seq: number,
  account: number,
  instrument: number,
  side: number,
): number {
  e.begin(seq);
  const inst = instrument >>> 0 === instrument && instrument < e.books.length ? instrument : -1;
  if (!(seq > e.lastSeq) || !Number.isSafeInteger(seq)) return e.reject(RejectReason.INVALID_SEQUENCE, 0, inst);
  e.lastSeq = seq;
  if (account !== -1 && ((account | 0) !== account || account < 0))
    return e.reject(RejectReason.INVALID_ACCOUNT, 0, inst);
  if (instrument !== -1 && inst === -1) return e.reject(RejectReason.UNKNOWN_INSTRUMENT, 0, -1);
  if (side !== 0 && side !== 1 && side !== 2) return e.reject(RejectReason.INVALID_COMMAND, 0, inst);
  const filter = account === -1 ? FILTER_ALL : FILTER_ACCOUNT;
  for (let i = 0; i < e.books.length; i++) {
    if (inst !== -1 && i !== inst) continue;
    removeWhere(e, e.books[i]!, side, filter, account, EventKind.CANCELLED, CancelReason.MASS_CANCEL);
  }
  return 0;
}

/** The `expire` command (see `MatchingEngine.expire`). */
export function expireOrders(e: EngineState, seq: number, timeNs: number): number {
  e.begin(seq);
  if (!(seq > e.lastSeq) || !Number.isSafeInteger(seq)) return e.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
  e.lastSeq = seq;
  if (!Number.isInteger(timeNs) || timeNs < 0) return e.reject(RejectReason.INVALID_TIME, 0, -1);
  if (e.gtdLive === 0) return 0;
  for (const b of e.books) removeWhere(e, b, 0, FILTER_GTD, timeNs, EventKind.EXPIRED, CancelReason.EXPIRY);
  return 0;
}
