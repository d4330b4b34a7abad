import { createEngine, EventKind, OrderType, TimeInForce, type MatchingEngine } from "@tradeplane/matching-core";
import { parseWorkload } from "../src/workload.ts";

/** A trade as the format's fingerprint names it: the resting order, the incoming one, price, lots. */
export type Trade = readonly [maker: number, taker: number, price: number, qty: number];

/**
 * The real matching core with the workload format's semantics, as the engine benchmark runs
 * it (tick 1, lot 1, no band), for checking the generator and its book against: an order's
 * account is its side, so no order ever meets its own account's (as `WORKLOAD_ACCOUNTS`);
 * a replace is a cancel and a new limit with the same id.
 */
export class CoreBook {
  readonly trades: Trade[] = [];
  private readonly engine: MatchingEngine;
  private readonly sides = new Map<number, number>();
  private seq = 0;

  constructor() {
    this.engine = createEngine({
      instruments: [
        {
          symbol: "BENCH",
          tickSize: 1,
          lotSize: 1,
          minQty: 1,
          maxQty: 1_000_000_000,
          maxOrderValue: 0,
          referencePrice: 100_000,
          bandPercent: 0,
        },
      ],
      capacity: { maxOrders: 1 << 20, initialOrders: 1 << 10 },
    });
  }

  /** Orders resting in the core. */
  get resting(): number {
    return this.engine.stats().restingOrders;
  }

  enter(id: number, side: number, market: boolean, price: number, qty: number): void {
    this.sides.set(id, side);
    const type = market ? OrderType.MARKET : OrderType.LIMIT;
    const tif = market ? TimeInForce.IOC : TimeInForce.GTC;
    const reason = this.engine.submit(++this.seq, 0, id, 0, side, side, type, tif, market ? 0 : price, qty);
    if (reason !== 0) throw new Error(`the core rejected order ${id}: reason ${reason}`);
    this.collectTrades();
  }

  /** True when the core found the order resting and cancelled it. */
  cancel(id: number): boolean {
    return this.engine.cancel(++this.seq, id, this.sides.get(id) ?? 1) === 0;
  }

  /** True when the order was resting (then it was cancelled and entered again). */
  replace(id: number, price: number, qty: number): boolean {
    if (!this.cancel(id)) return false;
    this.enter(id, this.sides.get(id)!, false, price, qty);
    return true;
  }

  private collectTrades(): void {
    const ev = this.engine.events;
    for (let k = 0; k < ev.count; k++)
      if (ev.kind[k] === EventKind.TRADE)
        this.trades.push([ev.makerOrderId[k]!, ev.orderId[k]!, ev.price[k]!, ev.qty[k]!]);
  }
}

/**
 * Reads a workload's text with the backtest's own reader (`parseWorkload`) and plays it on
 * the core; `missed` lists the lines (1-based) whose cancel or replace found nothing resting.
 */
export function replayOnCore(text: string): { core: CoreBook; lines: number; missed: number[] } {
  const w = parseWorkload(text);
  const core = new CoreBook();
  const missed: number[] = [];
  for (let i = 0; i < w.count; i++) {
    const id = w.id[i]!;
    const kind = w.kind[i];
    if (kind === 0 || kind === 1) core.enter(id, w.side[i]!, kind === 1, w.price[i]!, w.qty[i]!);
    else if (kind === 2 ? !core.cancel(id) : !core.replace(id, w.price[i]!, w.qty[i]!)) missed.push(i + 1);
  }
  return { core, lines: w.count, missed };
}
