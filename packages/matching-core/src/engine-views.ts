import { type InstrumentState, OrderType } from "./constants.ts";
import type { EngineState } from "./engine-state.ts";
import { ORDER_RECORD } from "./order-record.ts";

// What the engine's queries return, as plain objects: for tests, diagnostics, admin views and
// the service's book snapshots, never for the command path (they allocate).

const { BUY, SELL, F_PRICE, I_LEAVES, I_SHOWN, I_QTY, I_ACCOUNT, I_GROUP, I_NEXT, B_SIDE, B_TYPE, B_TIF } =
  ORDER_RECORD;

export interface BookLevel {
  readonly price: number;
  /** Visible quantity (iceberg orders count with their shown part). */
  readonly qty: number;
  /** Visible plus hidden quantity. */
  readonly totalQty: number;
  readonly orders: number;
}

export interface BookView {
  readonly instrument: number;
  readonly symbol: string;
  readonly state: InstrumentState;
  readonly lastPrice: number;
  readonly bids: BookLevel[];
  readonly asks: BookLevel[];
  readonly stopOrders: number;
}

/** One live order as `orders()` reports it. */
export interface LiveOrder {
  readonly orderId: number;
  readonly side: number;
  readonly type: number;
  readonly tif: number;
  readonly price: number;
  readonly stopPrice: number;
  readonly qty: number;
  readonly leaves: number;
  readonly shown: number;
  readonly displayQty: number;
  readonly account: number;
  readonly stpGroup: number;
  /** A stop order waiting for its trigger (not in the book). */
  readonly parked: boolean;
}

export interface EngineStats {
  readonly instruments: number;
  readonly liveOrders: number;
  readonly restingOrders: number;
  readonly stopOrders: number;
  readonly gtdOrders: number;
  readonly priceLevels: number;
  readonly orderCapacity: number;
  readonly maxOrders: number;
  readonly eventCapacity: number;
  readonly lastSeq: number;
}

/** Aggregated levels of one instrument, best first, at most `depth` per side (allocates). */
export function bookView(e: EngineState, instrument: number, depth: number): BookView {
  const b = e.books[instrument];
  if (b === undefined) throw new RangeError(`unknown instrument ${instrument}`);
  const side = (sd: number): BookLevel[] => {
    const out: BookLevel[] = [];
    let rel = sd === BUY ? b.bestBid : b.bestAsk;
    while (rel >= 0 && out.length < depth) {
      const li = sd * b.wSize + (rel - b.wBase);
      let orders = 0;
      let total = 0;
      for (let s = b.head[li]!; s !== -1; s = e.oi[(s << 4) + I_NEXT]!) {
        orders++;
        total += e.oi[(s << 4) + I_LEAVES]!;
      }
      out.push({ price: b.relToPrice(rel), qty: b.agg[li]!, totalQty: total, orders });
      rel = b.nextLevel(sd, rel);
    }
    return out;
  };
  return {
    instrument,
    symbol: b.cfg.symbol,
    state: b.state as InstrumentState,
    lastPrice: b.lastPrice,
    bids: side(BUY),
    asks: side(SELL),
    stopOrders: b.stopCount,
  };
}

/**
 * Live orders of one instrument in book order (bids best to worst, asks best to worst, FIFO
 * within a level, then parked buy and sell stops in trigger order), as plain objects. Allocates:
 * for tests, diagnostics and admin views.
 */
export function liveOrders(e: EngineState, instrument: number): LiveOrder[] {
  const b = e.books[instrument];
  if (b === undefined) throw new RangeError(`unknown instrument ${instrument}`);
  const out: LiveOrder[] = [];
  const view = (s: number, parked: boolean): LiveOrder => {
    const i4 = s << 4;
    const b6 = s << 6;
    const type = e.ob[b6 + B_TYPE]!;
    return {
      orderId: e.of[s << 3]!,
      side: e.ob[b6 + B_SIDE]! + 1,
      type,
      tif: e.ob[b6 + B_TIF]!,
      price: e.of[(s << 3) + F_PRICE]!,
      stopPrice: type >= OrderType.STOP_MARKET ? e.oStop[s]! : 0,
      qty: e.oi[i4 + I_QTY]!,
      leaves: e.oi[i4 + I_LEAVES]!,
      shown: e.oi[i4 + I_SHOWN]!,
      displayQty: e.displayOf(s),
      account: e.oi[i4 + I_ACCOUNT]!,
      stpGroup: e.oi[i4 + I_GROUP]!,
      parked,
    };
  };
  for (let side = 0; side < 2; side++)
    for (let rel = side === BUY ? b.bestBid : b.bestAsk; rel >= 0; rel = b.nextLevel(side, rel))
      for (let s = b.head[side * b.wSize + (rel - b.wBase)]!; s !== -1; s = e.oi[(s << 4) + I_NEXT]!)
        out.push(view(s, false));
  for (let side = 0; side < 2; side++)
    for (let s = b.stopHead[side]!; s !== -1; s = e.oi[(s << 4) + I_NEXT]!) out.push(view(s, true));
  return out;
}

/** Counts of the engine's orders, levels and capacities. */
export function engineStats(e: EngineState): EngineStats {
  let resting = 0;
  let stops = 0;
  let levels = 0;
  for (const b of e.books) {
    resting += b.resting;
    stops += b.stopCount;
    levels += b.levels[0]! + b.levels[1]!;
  }
  return {
    instruments: e.books.length,
    liveOrders: e.index.size,
    restingOrders: resting,
    stopOrders: stops,
    gtdOrders: e.gtdLive,
    priceLevels: levels,
    orderCapacity: e.capacity,
    maxOrders: e.config.maxOrders,
    eventCapacity: e.events.capacity,
    lastSeq: e.lastSeq,
  };
}
