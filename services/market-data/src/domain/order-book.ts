import { Side, type BookLevel, type BookOrder } from "@tradeplane/contracts";

/**
 * The visible book of one instrument, order by order: per side, price levels best first,
 * each a FIFO of resting orders (time priority). Levels keep the visible (shown) quantity
 * and the order count, so L2 and L1 read straight off it. Pure data structure: no events,
 * no clock.
 */
export interface RestingOrder {
  readonly id: number;
  readonly side: Side;
  price: number;
  /** Shown quantity in lots (icebergs: the displayed part). */
  shown: number;
  prev: RestingOrder | undefined;
  next: RestingOrder | undefined;
  level: PriceLevel | undefined;
}

export interface PriceLevel {
  readonly price: number;
  /** Sum of the orders' shown quantities. */
  qty: number;
  count: number;
  head: RestingOrder | undefined;
  tail: RestingOrder | undefined;
}

class BookSide {
  readonly levels = new Map<number, PriceLevel>();
  /** Prices best first (bids descending, asks ascending). */
  readonly prices: number[] = [];
  private readonly better: (a: number, b: number) => boolean;

  constructor(side: Side) {
    this.better = side === Side.BUY ? (a, b) => a > b : (a, b) => a < b;
  }

  /** Index of the first price not better than `price` (binary search). */
  private indexOf(price: number): number {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(this.prices[mid]!, price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  levelAt(price: number): PriceLevel {
    let level = this.levels.get(price);
    if (level === undefined) {
      level = { price, qty: 0, count: 0, head: undefined, tail: undefined };
      this.levels.set(price, level);
      this.prices.splice(this.indexOf(price), 0, price);
    }
    return level;
  }

  drop(level: PriceLevel): void {
    this.levels.delete(level.price);
    const i = this.indexOf(level.price);
    if (this.prices[i] === level.price) this.prices.splice(i, 1);
  }
}

export class OrderBook {
  private readonly sides: [BookSide, BookSide] = [new BookSide(Side.BUY), new BookSide(Side.SELL)];
  private readonly orders = new Map<number, RestingOrder>();

  private sideOf(side: Side): BookSide {
    return this.sides[side === Side.BUY ? 0 : 1];
  }

  get size(): number {
    return this.orders.size;
  }

  get(id: number): RestingOrder | undefined {
    return this.orders.get(id);
  }

  /** Appends an order to the back of its price level. */
  add(id: number, side: Side, price: number, shown: number): RestingOrder {
    const order: RestingOrder = { id, side, price, shown, prev: undefined, next: undefined, level: undefined };
    this.orders.set(id, order);
    this.link(order);
    return order;
  }

  private link(order: RestingOrder): void {
    const level = this.sideOf(order.side).levelAt(order.price);
    order.level = level;
    order.prev = level.tail;
    order.next = undefined;
    if (level.tail === undefined) level.head = order;
    else level.tail.next = order;
    level.tail = order;
    level.qty += order.shown;
    level.count++;
  }

  private unlink(order: RestingOrder): void {
    const level = order.level!;
    if (order.prev === undefined) level.head = order.next;
    else order.prev.next = order.next;
    if (order.next === undefined) level.tail = order.prev;
    else order.next.prev = order.prev;
    level.qty -= order.shown;
    level.count--;
    order.level = undefined;
    order.prev = order.next = undefined;
    if (level.count === 0) this.sideOf(order.side).drop(level);
  }

  remove(id: number): RestingOrder | undefined {
    const order = this.orders.get(id);
    if (order === undefined) return undefined;
    this.unlink(order);
    this.orders.delete(id);
    return order;
  }

  /** Changes the shown quantity in place (keeps priority). */
  setShown(order: RestingOrder, shown: number): void {
    order.level!.qty += shown - order.shown;
    order.shown = shown;
  }

  /** Moves an order to the back of its level (iceberg refill), with a new shown quantity. */
  requeue(order: RestingOrder, shown: number): void {
    this.unlink(order);
    order.shown = shown;
    this.link(order);
  }

  level(side: Side, price: number): PriceLevel | undefined {
    return this.sideOf(side).levels.get(price);
  }

  /** Best `depth` levels of a side, best first. */
  levels(side: Side, depth: number = Infinity): BookLevel[] {
    const s = this.sideOf(side);
    const n = Math.min(depth, s.prices.length);
    const out: BookLevel[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const l = s.levels.get(s.prices[i]!)!;
      out[i] = { price: l.price, qty: l.qty, orderCount: l.count };
    }
    return out;
  }

  best(side: Side): BookLevel | undefined {
    const s = this.sideOf(side);
    const p = s.prices[0];
    if (p === undefined) return undefined;
    const l = s.levels.get(p)!;
    return { price: l.price, qty: l.qty, orderCount: l.count };
  }

  /** Level prices of a side, best first (read-only view). */
  prices(side: Side): readonly number[] {
    return this.sideOf(side).prices;
  }

  /** Every visible order of a side in priority order. */
  ordersOf(side: Side): BookOrder[] {
    const s = this.sideOf(side);
    const out: BookOrder[] = [];
    for (const p of s.prices)
      for (let o = s.levels.get(p)!.head; o !== undefined; o = o.next)
        out.push({ orderId: o.id, price: o.price, qty: o.shown });
    return out;
  }

  /** Orders of one level in priority order. */
  *levelOrders(side: Side, price: number): Iterable<RestingOrder> {
    for (let o = this.level(side, price)?.head; o !== undefined; o = o.next) yield o;
  }
}
