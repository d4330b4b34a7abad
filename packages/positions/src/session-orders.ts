import type { Order } from "@tradeplane/contracts";

/** Finished orders (and retired client order ids) remembered per account. */
export const DEFAULT_FINISHED_KEPT = 100_000;

interface UsedId {
  readonly instrument: string;
  /** The finished order that last had the id; 0 for an id a replace took off a live order. */
  readonly orderId: number;
  /** When the id was last used (its `AgeQueue` stamp). */
  readonly stamp: number;
}

interface KeptOrder {
  readonly order: Order;
  /** When the order was last set (its `AgeQueue` stamp). */
  readonly stamp: number;
}

interface AccountSession {
  /** Finished orders by id, oldest first. */
  readonly orders: Map<number, KeptOrder>;
  /** Client order ids of the session no longer on a live order, oldest first. */
  readonly ids: Map<string, UsedId>;
  readonly orderAge: AgeQueue<number>;
  readonly idAge: AgeQueue<string>;
}

/**
 * The keys of one map in the order they were (last) set, to evict the oldest without
 * `Map#keys().next()`: that walks every slot deleted since V8 last compacted the table,
 * which made a long backtest's strategy account (100,000 orders kept, one evicted per
 * order) spend most of its time there. Each key is queued with a stamp when set, and the
 * map's value holds the key's newest stamp (no second map of 100,000 keys to keep in step):
 * a queued stamp that is no longer the key's newest is skipped, so the key evicted is the
 * map's first one.
 */
class AgeQueue<K> {
  private readonly keys: K[] = [];
  private readonly stamps: number[] = [];
  private head = 0;
  private next = 0;

  /** `key` is being (re)set: the stamp to keep with its value. */
  touch(key: K): number {
    const stamp = this.next++;
    this.keys.push(key);
    this.stamps.push(stamp);
    return stamp;
  }

  /** Takes the oldest key whose value in `map` still holds its queued stamp (undefined when none). */
  oldest(map: ReadonlyMap<K, { readonly stamp: number }>): K | undefined {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head]!;
      const stamp = this.stamps[this.head]!;
      this.head++;
      if (this.head > 65_536 && this.head * 2 > this.keys.length) {
        this.keys.splice(0, this.head);
        this.stamps.splice(0, this.head);
        this.head = 0;
      }
      if (map.get(key)?.stamp === stamp) return key;
    }
    return undefined;
  }
}

/**
 * What the current trading session remembers of orders that are no longer live: their
 * client order ids, which stay taken (docs/api.md: unique among the account's open orders
 * and orders of the current session), and the finished orders themselves, so that a cancel
 * or replace of one is refused as ORDER_FINISHED, with its id, rather than as unknown. An
 * instrument's session ends when it closes: its finished orders and their ids are forgotten
 * then. Each account keeps its newest `kept` finished orders and ids (memory is bounded; an
 * id older than that may be taken again). Pure bookkeeping, fed by the projection.
 */
export class SessionOrders {
  private readonly accounts = new Map<string, AccountSession>();
  private readonly kept: number;

  constructor(kept = DEFAULT_FINISHED_KEPT) {
    this.kept = kept;
  }

  /** `order` finished (filled, cancelled, expired): its id and client order id stay known. */
  finished(order: Order): void {
    const s = this.sessionOf(order.account);
    s.orders.delete(order.orderId);
    s.orders.set(order.orderId, { order, stamp: s.orderAge.touch(order.orderId) });
    this.use(s, order.clientOrderId, order.instrument, order.orderId);
    if (s.orders.size > this.kept) s.orders.delete(s.orderAge.oldest(s.orders)!);
  }

  /** A replace took `clientOrderId` off a live order of `instrument`: it stays taken. */
  retired(account: string, clientOrderId: string, instrument: string): void {
    this.use(this.sessionOf(account), clientOrderId, instrument, 0);
  }

  /** Whether the account used `clientOrderId` this session on an order that is no longer live or under that id. */
  used(account: string, clientOrderId: string): boolean {
    return this.accounts.get(account)?.ids.has(clientOrderId) ?? false;
  }

  /** The account's finished order with this id, if the session remembers it. */
  order(account: string, orderId: number): Order | undefined {
    return this.accounts.get(account)?.orders.get(orderId)?.order;
  }

  /** The account's finished order that last had this client order id, if the session remembers it. */
  orderByClientId(account: string, clientOrderId: string): Order | undefined {
    const s = this.accounts.get(account);
    const used = s?.ids.get(clientOrderId);
    return used === undefined || used.orderId === 0 ? undefined : s!.orders.get(used.orderId)?.order;
  }

  /** The instrument closed: its session is over, its finished orders and their ids are forgotten. */
  closed(instrument: string): void {
    for (const s of this.accounts.values()) {
      // A key deleted here is skipped by its age queue (its stamp is no longer in the map).
      for (const [id, kept] of s.orders) if (kept.order.instrument === instrument) s.orders.delete(id);
      for (const [id, used] of s.ids) if (used.instrument === instrument) s.ids.delete(id);
    }
  }

  /** Every account's finished orders and retired ids, oldest first (for snapshots). */
  entries(): { orders: Order[]; retired: [account: string, clientOrderId: string, instrument: string][] } {
    const orders: Order[] = [];
    const retired: [string, string, string][] = [];
    for (const [account, s] of this.accounts) {
      for (const kept of s.orders.values()) orders.push(kept.order);
      for (const [id, used] of s.ids) if (used.orderId === 0) retired.push([account, id, used.instrument]);
    }
    return { orders, retired };
  }

  private use(s: AccountSession, clientOrderId: string, instrument: string, orderId: number): void {
    s.ids.delete(clientOrderId);
    s.ids.set(clientOrderId, { instrument, orderId, stamp: s.idAge.touch(clientOrderId) });
    if (s.ids.size > this.kept) s.ids.delete(s.idAge.oldest(s.ids)!);
  }

  private sessionOf(account: string): AccountSession {
    let s = this.accounts.get(account);
    if (s === undefined) {
      s = { orders: new Map(), ids: new Map(), orderAge: new AgeQueue(), idAge: new AgeQueue() };
      this.accounts.set(account, s);
    }
    return s;
  }
}
