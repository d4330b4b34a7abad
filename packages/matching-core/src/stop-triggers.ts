import type { Book } from "./book.ts";
import { CancelReason, EventKind, OrderType } from "./constants.ts";
import type { MatchingEngine } from "./engine.ts";
import { ORDER_RECORD } from "./order-record.ts";

const { BUY, SELL, ST_TAKER, F_PRIO, I_LEAVES, I_ACCOUNT, B_STATUS, B_TYPE } = ORDER_RECORD;

/**
 * Triggers parked stops while the last trade price reaches one: buy stops at stop <= last,
 * sell stops at stop >= last, one at a time (buy: lowest stop first, sell: highest first, FIFO on
 * ties; between the two sides the earlier-accepted first). Each runs as a taker before the next
 * is chosen with the then last price. Only in continuous trading.
 */
export function triggerPass(e: MatchingEngine, b: Book): void {
  for (;;) {
    const last = b.lastPrice;
    const hb = b.stopHead[BUY]!;
    const hs = b.stopHead[SELL]!;
    const tb = hb !== -1 && e.oStop[hb]! <= last;
    const ts = hs !== -1 && e.oStop[hs]! >= last;
    let s: number;
    if (tb && ts) s = e.of[(hb << 3) + F_PRIO]! < e.of[(hs << 3) + F_PRIO]! ? hb : hs;
    else if (tb) s = hb;
    else if (ts) s = hs;
    else return;
    // A triggered stop is a new order entering the market: a blocked account's is cancelled
    // instead (the kill switch's mass cancel removes parked stops; this covers a block
    // written without one).
    if ((e.blocked.size !== 0 || e.allBlocked) && e.isBlocked(e.oi[(s << 4) + I_ACCOUNT]!)) {
      e.removeLive(b, s, EventKind.CANCELLED, CancelReason.KILL_SWITCH);
      continue;
    }
    e.unlinkStop(b, s);
    e.indexRemove(s);
    const b6 = s << 6;
    e.ob[b6 + B_STATUS] = ST_TAKER;
    const leaves = e.oi[(s << 4) + I_LEAVES]!;
    e.emitOrder(EventKind.TRIGGERED, s, e.oStop[s]!, leaves, leaves, 0);
    e.ob[b6 + B_TYPE] = e.ob[b6 + B_TYPE] === OrderType.STOP_MARKET ? OrderType.MARKET : OrderType.LIMIT;
    e.of[(s << 3) + F_PRIO] = ++e.prioCounter;
    e.execute(b, s);
  }
}
