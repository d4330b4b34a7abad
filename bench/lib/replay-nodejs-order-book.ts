import { OrderBook, Side } from "nodejs-order-book";
import { Op, type Workload } from "./workload.ts";

/** String ids for the npm book, made before timing (its API takes string ids). */
export function stringIds(w: Workload): string[] {
  const ids: string[] = new Array<string>(w.maxId + 1);
  for (let i = 0; i <= w.maxId; i++) ids[i] = String(i);
  return ids;
}

/** Replays the workload through nodejs-order-book: limit / market / cancel, R = cancel + limit. */
export function replayNodejsOrderBook(w: Workload, ids: string[]): number {
  const ob = new OrderBook();
  const { op, id, side, price, qty, count } = w;
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const sid = ids[id[i]!]!;
    const s = side[i] === 1 ? Side.BUY : Side.SELL;
    const o = op[i]!;
    if (o === Op.NEW_LIMIT) {
      if (ob.limit({ id: sid, side: s, size: qty[i]!, price: price[i]! }).err) errors++;
    } else if (o === Op.CANCEL) {
      ob.cancel(sid);
    } else if (o === Op.NEW_MARKET) {
      if (ob.market({ side: s, size: qty[i]! }).err) errors++;
    } else {
      ob.cancel(sid);
      if (ob.limit({ id: sid, side: s, size: qty[i]!, price: price[i]! }).err) errors++;
    }
  }
  return errors;
}
