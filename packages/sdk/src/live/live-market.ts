import { InstrumentState, type Instrument, type SubscribeResponse } from "@tradeplane/contracts";
import { BookMirror } from "../market-data/book-mirror.ts";
import type { Level, MarketView, TradeView } from "../strategy/strategy.ts";

/** What one update changed, for the driver's callbacks. */
export type MarketChange =
  | { readonly kind: "book"; readonly instrument: string }
  | { readonly kind: "trade"; readonly trade: TradeView }
  | { readonly kind: "none" };

const NONE: MarketChange = { kind: "none" };

/**
 * The live `MarketView`: books kept by `BookMirror`s from L2 updates, the last trade from
 * TRADES, the trading state from STATE, and the terms of each instrument from
 * ListInstruments. No I/O: the host feeds it the updates of a `ResilientSubscription`.
 */
export class LiveMarket implements MarketView {
  private readonly terms = new Map<string, Instrument>();
  private readonly books = new Map<string, BookMirror>();
  private readonly last = new Map<string, number>();
  private readonly states = new Map<string, InstrumentState>();
  private readonly updated = new Map<string, number>();
  private readonly clock: () => number;

  constructor(instruments: readonly Instrument[], clock: () => number) {
    for (const i of instruments) {
      this.terms.set(i.symbol, i);
      this.books.set(i.symbol, new BookMirror());
      // Until the STATE channel says otherwise.
      this.states.set(i.symbol, i.state);
    }
    this.clock = clock;
  }

  apply(u: SubscribeResponse): MarketChange {
    const book = this.books.get(u.instrument);
    const up = u.update;
    if (book === undefined || up === undefined) return NONE;
    switch (up.$case) {
      case "bookSnapshot":
      case "bookUpdate":
        book.apply(u);
        this.updated.set(u.instrument, this.clock());
        return { kind: "book", instrument: u.instrument };
      case "status":
        this.states.set(u.instrument, up.value.state);
        this.updated.set(u.instrument, this.clock());
        return { kind: "book", instrument: u.instrument };
      case "trade":
        this.last.set(u.instrument, up.value.price);
        return {
          kind: "trade",
          trade: {
            instrument: u.instrument,
            price: up.value.price,
            qty: up.value.qty,
            aggressorSide: up.value.aggressorSide,
            timeMs: this.clock(),
          },
        };
      default:
        return NONE;
    }
  }

  instruments(): readonly string[] {
    return [...this.terms.keys()];
  }

  levels(instrument: string, depth: number): { bids: readonly Level[]; asks: readonly Level[] } {
    const book = this.books.get(instrument);
    if (book === undefined) return { bids: [], asks: [] };
    const l = book.levels();
    return { bids: l.bids.slice(0, depth), asks: l.asks.slice(0, depth) };
  }

  bestBid(instrument: string): Level | undefined {
    const book = this.books.get(instrument);
    let best: Level | undefined;
    for (const l of book?.bids.values() ?? []) if (best === undefined || l.price > best.price) best = l;
    return best;
  }

  bestAsk(instrument: string): Level | undefined {
    const book = this.books.get(instrument);
    let best: Level | undefined;
    for (const l of book?.asks.values() ?? []) if (best === undefined || l.price < best.price) best = l;
    return best;
  }

  lastPrice(instrument: string): number {
    return this.last.get(instrument) ?? 0;
  }

  referencePrice(instrument: string): number {
    return this.terms.get(instrument)?.referencePrice ?? 0;
  }

  state(instrument: string): InstrumentState {
    return this.states.get(instrument) ?? InstrumentState.UNSPECIFIED;
  }

  notionalPerTickLot(instrument: string): number {
    return this.terms.get(instrument)?.notionalPerTickLot ?? 1;
  }

  tickSize(instrument: string, price: number): number {
    let tick = 1;
    for (const band of this.terms.get(instrument)?.tickBands ?? []) if (price >= band.fromPrice) tick = band.increment;
    return tick;
  }

  updatedAtMs(instrument: string): number {
    return this.updated.get(instrument) ?? 0;
  }
}
