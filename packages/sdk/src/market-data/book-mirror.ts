import { OrderChangeAction, Side, type BookLevel, type BookOrder, type SubscribeResponse } from "@tradeplane/contracts";

/**
 * A client's copy of one instrument's books, kept by applying Subscribe updates: L2 levels
 * (snapshot, then level changes) and L3 orders (snapshot, then order changes), plus the
 * latest L1, stats, status and auction. No I/O: feed it updates in the order received.
 */
export class BookMirror {
  readonly bids = new Map<number, BookLevel>();
  readonly asks = new Map<number, BookLevel>();
  /** L3: orders by id, with their side; priority order is kept per level as insertion order. */
  private readonly orders = new Map<number, { side: Side; price: number; qty: number }>();
  latest = new Map<string, SubscribeResponse>();

  apply(u: SubscribeResponse): void {
    const up = u.update;
    if (up === undefined) return;
    switch (up.$case) {
      case "bookSnapshot":
        this.bids.clear();
        this.asks.clear();
        for (const l of up.value.bids) this.bids.set(l.price, l);
        for (const l of up.value.asks) this.asks.set(l.price, l);
        break;
      case "bookUpdate":
        for (const c of up.value.changes) {
          const side = c.side === Side.BUY ? this.bids : this.asks;
          if (c.qty === 0) side.delete(c.price);
          else side.set(c.price, { price: c.price, qty: c.qty, orderCount: c.orderCount });
        }
        break;
      case "orderBookSnapshot":
        this.orders.clear();
        for (const o of up.value.bids) this.orders.set(o.orderId, { side: Side.BUY, price: o.price, qty: o.qty });
        for (const o of up.value.asks) this.orders.set(o.orderId, { side: Side.SELL, price: o.price, qty: o.qty });
        break;
      case "orderBookUpdate":
        for (const c of up.value.changes) {
          if (c.action === OrderChangeAction.DELETE) this.orders.delete(c.orderId);
          else if (c.action === OrderChangeAction.ADD) {
            this.orders.delete(c.orderId);
            this.orders.set(c.orderId, { side: c.side, price: c.price, qty: c.qty });
          } else {
            const o = this.orders.get(c.orderId);
            if (o !== undefined) o.qty = c.qty;
          }
        }
        break;
      default:
        this.latest.set(up.$case, u);
    }
  }

  /** L2 levels best first. */
  levels(): { bids: BookLevel[]; asks: BookLevel[] } {
    return {
      bids: [...this.bids.values()].sort((a, b) => b.price - a.price),
      asks: [...this.asks.values()].sort((a, b) => a.price - b.price),
    };
  }

  /** L3 orders in priority order (best price first, then time of entry). */
  orderBook(): { bids: BookOrder[]; asks: BookOrder[] } {
    const side = (s: Side): BookOrder[] => {
      const list = [...this.orders.entries()].filter(([, o]) => o.side === s);
      // Map order is entry order; a stable sort by price keeps it within a level.
      list.sort(([, a], [, b]) => (s === Side.BUY ? b.price - a.price : a.price - b.price));
      return list.map(([orderId, o]) => ({ orderId, price: o.price, qty: o.qty }));
    };
    return { bids: side(Side.BUY), asks: side(Side.SELL) };
  }
}
