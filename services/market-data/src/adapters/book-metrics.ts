import { Counter, Gauge, type Registry } from "prom-client";
import { Side } from "@tradeplane/contracts";
import type { MarketState } from "../domain/market-state.ts";

/** Levels counted into `tp_md_book_depth_lots`: the depth a dashboard shows, not the whole book. */
export const DEPTH_METRIC_LEVELS = 10;

const SIDES = [
  ["bid", Side.BUY],
  ["ask", Side.SELL],
] as const;

/**
 * Per-instrument gauges of the books and trades, computed when /metrics is scraped from
 * state the service keeps anyway: nothing is counted on the event path. Labels are bounded
 * by the listed instruments.
 */
export function registerBookMetrics(registry: Registry, state: MarketState): void {
  const registers = [registry];
  new Gauge({
    name: "tp_md_book_levels",
    help: "Price levels in the book, by instrument and side",
    labelNames: ["instrument", "side"],
    registers,
    collect() {
      for (const [symbol, market] of state.instruments)
        for (const [side, code] of SIDES) this.set({ instrument: symbol, side }, market.book.prices(code).length);
    },
  });
  new Gauge({
    name: "tp_md_book_depth_lots",
    help: `Lots shown in the best ${DEPTH_METRIC_LEVELS} levels of the book, by instrument and side`,
    labelNames: ["instrument", "side"],
    registers,
    collect() {
      for (const [symbol, market] of state.instruments)
        for (const [side, code] of SIDES) {
          let lots = 0;
          for (const level of market.book.levels(code, DEPTH_METRIC_LEVELS)) lots += level.qty;
          this.set({ instrument: symbol, side }, lots);
        }
    },
  });
  // The session statistics restart at each session open: a counter takes a drop as a restart.
  const sessionCounter = (
    name: string,
    help: string,
    value: (stats: { tradeCount: number; volume: number }) => number,
  ) => {
    const seen = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: ["instrument"],
      registers,
      collect() {
        for (const [symbol, market] of state.instruments) {
          const now = value(market.statsMessage());
          const last = seen.get(symbol) ?? 0;
          this.inc({ instrument: symbol }, now >= last ? now - last : now);
          seen.set(symbol, now);
        }
      },
    });
  };
  sessionCounter("tp_md_trades_total", "Trades printed, by instrument", (s) => s.tradeCount);
  sessionCounter("tp_md_traded_lots_total", "Lots traded, by instrument", (s) => s.volume);
}
