/** Workload sides, as `parseWorkload` numbers them: 1 buy (`B`), 2 sell (`S`). */
export const BUY = 1;
export const SELL = 2;
export type WorkloadSide = typeof BUY | typeof SELL;

/** An order resting in the book: its id, side, limit price and the quantity it has left. */
export interface RestingOrder {
  readonly id: number;
  readonly side: WorkloadSide;
  readonly price: number;
  qty: number;
  /** Its place in the book's list of resting orders (`restingAt`), kept by the book. */
  slot: number;
}

/** Called for every trade: the resting order, the incoming one, the maker's price, the lots. */
export type TradeListener = (maker: number, taker: number, price: number, qty: number) => void;

/**
 * One instrument's book under the workload format's rules, for the generator to know which
 * orders rest: price-time priority, a trade at the resting order's price, market orders never
 * rest, a replace is a cancel and a new limit with the same id. No accounts, so no self-trade
 * prevention, and no bands or ticks: every whole price is valid. It is small on purpose, not
 * fast: the generator's own cost, and the workload tests replay its output through the real
 * matching core to check it against this book.
 */
export class WorkloadBook {
  /** Price levels per side (index 1 buy, 2 sell), each a FIFO of its orders. */
  private readonly levels: [null, Map<number, RestingOrder[]>, Map<number, RestingOrder[]>] = [
    null,
    new Map(),
    new Map(),
  ];
  /** Best price per side; meaningful while the side has orders (`counts`). */
  private readonly best = [0, 0, 0];
  private readonly counts = [0, 0, 0];
  private readonly byId = new Map<number, RestingOrder>();
  /** Every resting order, in no particular order, for picking one at random. */
  private readonly list: RestingOrder[] = [];
  private readonly onTrade: TradeListener | undefined;

  constructor(onTrade?: TradeListener) {
    this.onTrade = onTrade;
  }

  /** Orders resting now. */
  get size(): number {
    return this.list.length;
  }

  /** Orders resting on one side. */
  count(side: WorkloadSide): number {
    return this.counts[side]!;
  }

  /** The best bid (buy) or offer (sell), or undefined when that side is empty. */
  bestPrice(side: WorkloadSide): number | undefined {
    return this.counts[side]! > 0 ? this.best[side] : undefined;
  }

  /** The resting order of this id, if it rests. */
  get(id: number): RestingOrder | undefined {
    return this.byId.get(id);
  }

  /** The resting order at place `i` of 0..size-1 (places change as orders come and go). */
  restingAt(i: number): RestingOrder {
    return this.list[i]!;
  }

  /**
   * Enters a new order: it trades against the other side while prices cross, then a limit's
   * rest goes to the back of its price level and a market order's rest is dropped. `price` is
   * ignored for a market order. Returns the quantity that traded.
   */
  enter(id: number, side: WorkloadSide, market: boolean, price: number, qty: number): number {
    const other: WorkloadSide = side === BUY ? SELL : BUY;
    const levels = this.levels[other];
    let left = qty;
    while (left > 0 && this.counts[other]! > 0) {
      const at = this.best[other]!;
      if (!market && (side === BUY ? at > price : at < price)) break;
      const level = levels.get(at)!;
      const maker = level[0]!;
      const q = Math.min(left, maker.qty);
      maker.qty -= q;
      left -= q;
      this.onTrade?.(maker.id, id, at, q);
      if (maker.qty === 0) {
        level.shift();
        this.unlist(maker);
        if (level.length === 0) this.dropLevel(other, at);
      }
    }
    if (left > 0 && !market) this.rest({ id, side, price, qty: left, slot: 0 });
    return qty - left;
  }

  /** Takes a resting order out; false when the id does not rest (the format's cancel then does nothing). */
  cancel(id: number): boolean {
    const order = this.byId.get(id);
    if (order === undefined) return false;
    const level = this.levels[order.side].get(order.price)!;
    level.splice(level.indexOf(order), 1);
    this.unlist(order);
    if (level.length === 0) this.dropLevel(order.side, order.price);
    return true;
  }

  /** The format's replace: cancels the resting order, then enters a limit with its id and side. Returns the quantity that traded, or -1 when the id does not rest. */
  replace(id: number, price: number, qty: number): number {
    const order = this.byId.get(id);
    if (order === undefined) return -1;
    this.cancel(id);
    return this.enter(id, order.side, false, price, qty);
  }

  private rest(order: RestingOrder): void {
    const levels = this.levels[order.side];
    const level = levels.get(order.price);
    if (level === undefined) levels.set(order.price, [order]);
    else level.push(order);
    const n = this.counts[order.side]!;
    const best = this.best[order.side]!;
    if (n === 0 || (order.side === BUY ? order.price > best : order.price < best)) this.best[order.side] = order.price;
    this.counts[order.side] = n + 1;
    order.slot = this.list.length;
    this.list.push(order);
    this.byId.set(order.id, order);
  }

  /** Forgets an order that left the book (its level is the caller's). */
  private unlist(order: RestingOrder): void {
    const last = this.list.pop()!;
    if (last !== order) {
      this.list[order.slot] = last;
      last.slot = order.slot;
    }
    this.byId.delete(order.id);
    this.counts[order.side] = this.counts[order.side]! - 1;
  }

  /**
   * Removes an empty level; when it was the best, walks away from the spread to the next
   * level. The walk is short: orders crowd near the touch, and the generator cancels the ones
   * far from it first.
   */
  private dropLevel(side: WorkloadSide, price: number): void {
    const levels = this.levels[side];
    levels.delete(price);
    if (this.counts[side] === 0 || this.best[side] !== price) return;
    const step = side === BUY ? -1 : 1;
    let p = price + step;
    while (!levels.has(p)) p += step;
    this.best[side] = p;
  }
}
