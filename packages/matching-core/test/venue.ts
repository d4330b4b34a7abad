/**
 * A small driver for hand-worked scenarios: numbered commands, readable event lines and book
 * tables, so golden cases read like the worked examples they are.
 */
import {
  CancelReason,
  EventKind,
  InstrumentState,
  OrderType,
  RejectReason,
  TimeInForce,
  codeName,
  createEngine,
  readEvents,
  type EngineConfig,
  type EngineEvent,
  type MatchingEngine,
  type OrderExtras,
} from "../src/index.ts";

/** One instrument, tick 1, lot 1, reference 100, 20% band (80..120). */
export const SIMPLE: EngineConfig = {
  instruments: [
    {
      symbol: "ABC",
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 1_000_000,
      maxOrderValue: 0,
      referencePrice: 100,
      bandPercent: 20,
    },
  ],
};

export interface OrderSpec extends OrderExtras {
  id: number;
  price?: number;
  qty: number;
  account?: number;
  type?: number;
  tif?: number;
  instrument?: number;
}

const sideName = (s: number) => (s === 1 ? "BUY" : s === 2 ? "SELL" : `side${s}`);

/** One event as a line of text. */
export function describeEvent(e: EngineEvent): string {
  switch (e.kind) {
    case EventKind.ACCEPTED:
      return `ACCEPTED #${e.orderId} ${sideName(e.side)} ${e.qty}@${e.price}`;
    case EventKind.REJECTED:
      return `REJECTED #${e.orderId} ${codeName(RejectReason, e.reason)}`;
    case EventKind.TRADE:
      return `TRADE #${e.makerOrderId}<-#${e.takerOrderId} ${e.qty}@${e.price} left ${e.makerLeaves}/${e.takerLeaves}`;
    case EventKind.CANCELLED:
      return `CANCELLED #${e.orderId} ${e.qty} ${codeName(CancelReason, e.reason)} left ${e.leaves}`;
    case EventKind.EXPIRED:
      return `EXPIRED #${e.orderId} ${e.qty}`;
    case EventKind.REPLACED:
      return `REPLACED #${e.orderId} ${e.qty}@${e.price} left ${e.leaves}`;
    case EventKind.TRIGGERED:
      return `TRIGGERED #${e.orderId} at ${e.price}`;
    case EventKind.STATE_CHANGED:
      return `STATE ${e.instrument} ${codeName(InstrumentState, e.state)}`;
    case EventKind.ACCOUNT_FENCED:
      return `FENCED account ${e.account} at ${e.epoch}`;
    case EventKind.ACCOUNT_BLOCK_CHANGED:
      return `${e.blocked ? "BLOCKED" : "UNBLOCKED"} account ${e.account}`;
    default:
      return `BOOK ${sideName(e.side)} ${e.price}: ${e.qty}`;
  }
}

export class Venue {
  readonly engine: MatchingEngine;
  seq = 0;
  time = 1_000;
  last: EngineEvent[] = [];

  constructor(config: EngineConfig = SIMPLE) {
    this.engine = createEngine(config);
  }

  private done(): string[] {
    this.last = readEvents(this.engine);
    return this.last.map(describeEvent);
  }

  submit(side: 1 | 2, o: OrderSpec): string[] {
    this.engine.submit(
      ++this.seq,
      this.time,
      o.id,
      o.instrument ?? 0,
      o.account ?? o.id,
      side,
      o.type ?? OrderType.LIMIT,
      o.tif ?? TimeInForce.GTC,
      o.price ?? 0,
      o.qty,
      o,
    );
    return this.done();
  }

  buy(o: OrderSpec): string[] {
    return this.submit(1, o);
  }

  sell(o: OrderSpec): string[] {
    return this.submit(2, o);
  }

  cancel(id: number, account = id): string[] {
    this.engine.cancel(++this.seq, id, account);
    return this.done();
  }

  replace(id: number, price: number, qty: number, account = id): string[] {
    this.engine.replace(++this.seq, id, account, price, qty);
    return this.done();
  }

  massCancel(account: number, instrument = -1, side = 0): string[] {
    this.engine.massCancel(++this.seq, account, instrument, side);
    return this.done();
  }

  state(state: number, instrument = 0, referencePrice = 0): string[] {
    this.engine.setState(++this.seq, this.time, instrument, state, referencePrice);
    return this.done();
  }

  expire(timeNs: number): string[] {
    this.time = timeNs;
    this.engine.expire(++this.seq, timeNs);
    return this.done();
  }

  /** The book as "price qty" rows, best first (qty is the visible quantity). */
  table(instrument = 0): { bids: string[]; asks: string[] } {
    const v = this.engine.book(instrument, 100);
    return {
      bids: v.bids.map((l) => `${l.price} ${l.qty}`),
      asks: v.asks.map((l) => `${l.price} ${l.qty}`),
    };
  }

  /** Queue of one price level: order ids, front first. */
  queue(side: 1 | 2, price: number, instrument = 0): number[] {
    return this.engine
      .orders(instrument)
      .filter((o) => o.side === side && o.price === price && !o.parked)
      .map((o) => o.orderId);
  }

  trades(): string[] {
    return this.last.filter((e) => e.kind === EventKind.TRADE).map(describeEvent);
  }
}
