import { BarInterval, instrumentStateToJSON, Side, type BookLevel } from "@tradeplane/contracts";
import type { Target } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { enumLabel, formatPrice, formatTime } from "../format.ts";
import { printTable } from "../output.ts";
import { parseCount } from "../prices.ts";

export const BAR_INTERVALS: Record<string, BarInterval> = {
  "1s": BarInterval.SECOND_1,
  "1m": BarInterval.MINUTE_1,
  "5m": BarInterval.MINUTE_5,
  "15m": BarInterval.MINUTE_15,
  "1h": BarInterval.HOUR_1,
  "1d": BarInterval.DAY_1,
};

function price(target: Target, symbol: string, units: number): string | number {
  const unit = target.priceUnit(symbol);
  return unit === undefined ? units : formatPrice(units, unit);
}

/** The aggregated book, bids and asks side by side, best first. */
export async function showBook(target: Target, symbol: string, flags: { depth: string }): Promise<void> {
  const depth = parseCount(flags.depth, "--depth");
  const client = target.marketData();
  const res = await target.call("marketData", undefined, client.getSnapshot.bind(client), {
    instrument: symbol,
    depth,
    includeOrders: false,
  });
  const bids: readonly BookLevel[] = res.book?.bids ?? [];
  const asks: readonly BookLevel[] = res.book?.asks ?? [];
  const rows: (string | number)[][] = [];
  for (let i = 0; i < Math.max(bids.length, asks.length); i++) {
    const b = bids[i];
    const a = asks[i];
    rows.push([
      b?.orderCount ?? "",
      b?.qty ?? "",
      b === undefined ? "" : price(target, symbol, b.price),
      a === undefined ? "" : price(target, symbol, a.price),
      a?.qty ?? "",
      a?.orderCount ?? "",
    ]);
  }
  if (target.flags.json !== true) {
    const state = enumLabel(instrumentStateToJSON(res.status?.state ?? 0), "INSTRUMENT_STATE_");
    const stats = res.stats;
    process.stdout.write(
      `${symbol}  ${state}  last ${stats?.last ? price(target, symbol, stats.last) : "-"}  volume ${stats?.volume ?? 0}  trades ${stats?.tradeCount ?? 0}  (log position ${res.sourceSequence})\n`,
    );
  }
  printTable(
    target.flags.json === true,
    res,
    ["orders", "bid qty", "bid", "ask", "ask qty", "orders"],
    rows,
    "(empty book)",
  );
}

export async function showTrades(target: Target, symbol: string, flags: { limit: string }): Promise<void> {
  const limit = parseCount(flags.limit, "--limit");
  const client = target.marketData();
  const res = await target.call("marketData", undefined, client.getTrades.bind(client), {
    instrument: symbol,
    fromTradeId: 0,
    limit,
  });
  printTable(
    target.flags.json === true,
    res,
    ["trade id", "time", "price", "qty", "aggressor"],
    res.trades.map((t) => [
      t.tradeId,
      formatTime(t.time),
      price(target, symbol, t.price),
      t.qty,
      t.aggressorSide === Side.BUY ? "BUY" : t.aggressorSide === Side.SELL ? "SELL" : "auction",
    ]),
    "(no trades)",
  );
}

export async function showBars(
  target: Target,
  symbol: string,
  flags: { interval: string; limit: string },
): Promise<void> {
  const interval = BAR_INTERVALS[flags.interval];
  if (interval === undefined)
    throw new CliError(
      EXIT.USAGE,
      `--interval ${flags.interval}: must be one of ${Object.keys(BAR_INTERVALS).join(", ")}`,
    );
  const client = target.marketData();
  const res = await target.call("marketData", undefined, client.getBars.bind(client), {
    instrument: symbol,
    interval,
    startTime: undefined,
    endTime: undefined,
    limit: parseCount(flags.limit, "--limit"),
  });
  printTable(
    target.flags.json === true,
    res,
    ["start", "open", "high", "low", "close", "volume", "trades", "closed"],
    res.bars.map((b) => [
      formatTime(b.startTime),
      price(target, symbol, b.open),
      price(target, symbol, b.high),
      price(target, symbol, b.low),
      price(target, symbol, b.close),
      b.volume,
      b.tradeCount,
      b.closed ? "yes" : "",
    ]),
    "(no bars)",
  );
}
