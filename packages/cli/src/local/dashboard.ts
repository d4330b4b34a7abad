import { credentials, Metadata } from "@grpc/grpc-js";
import Table from "cli-table3";
import { MarketDataClient, Side, type GetSnapshotResponse, type Trade } from "@tradeplane/contracts";
import type { TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { formatPrice, formatTime } from "../format.ts";
import { COMPACT } from "../output.ts";
import type { LocalState } from "./state.ts";

interface ServiceStatus {
  readonly name: string;
  readonly restarts: number;
  readonly running: boolean;
}

/**
 * The live terminal view of local mode: top of book and last trade per instrument (from the
 * market-data service, like any client), the latest trades and the venue's trade rate, and
 * the supervised services, strategies among them. Redrawn every second.
 */
export class Dashboard {
  private readonly client: MarketDataClient;
  private timer: NodeJS.Timeout | undefined;
  /** Trades printed across the instruments at the last redraw, for the rate. */
  private lastTrades: number | undefined;
  private lastAt = Date.now();
  private readonly venue: TradingVenue;
  private readonly state: LocalState;
  private readonly services: () => readonly ServiceStatus[];

  constructor(venue: TradingVenue, state: LocalState, services: () => readonly ServiceStatus[]) {
    this.venue = venue;
    this.state = state;
    this.services = services;
    this.client = new MarketDataClient(state.endpoints.marketData, credentials.createInsecure());
  }

  start(): void {
    const draw = () =>
      void this.render()
        .then((text) => process.stdout.write(`\x1b[2J\x1b[H${text}`))
        .catch(() => undefined);
    draw();
    this.timer = setInterval(draw, 1_000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.client.close();
  }

  private snapshot(symbol: string): Promise<GetSnapshotResponse | undefined> {
    return new Promise((resolve) =>
      this.client.getSnapshot(
        { instrument: symbol, depth: 1, includeOrders: false },
        new Metadata(),
        { deadline: new Date(Date.now() + 800) },
        (err, res) => resolve(err ? undefined : res),
      ),
    );
  }

  private trades(symbol: string): Promise<Trade[]> {
    return new Promise((resolve) =>
      this.client.getTrades(
        { instrument: symbol, fromTradeId: 0, limit: 5 },
        new Metadata(),
        { deadline: new Date(Date.now() + 800) },
        (err, res) => resolve(err ? [] : res.trades),
      ),
    );
  }

  async render(): Promise<string> {
    const instruments = this.venue.spec.instruments;
    const snapshots = await Promise.all(instruments.map((i) => this.snapshot(i.symbol)));
    const trades = (
      await Promise.all(
        instruments.map(async (i) => (await this.trades(i.symbol)).map((t) => ({ symbol: i.symbol, t }))),
      )
    )
      .flat()
      .sort(
        (a, b) =>
          (b.t.time?.seconds ?? 0) - (a.t.time?.seconds ?? 0) || (b.t.time?.nanos ?? 0) - (a.t.time?.nanos ?? 0),
      )
      .slice(0, 8);
    const unit = (symbol: string) => instruments.find((i) => i.symbol === symbol)!.priceUnit;
    const px = (symbol: string, p: number | undefined) => (p ? formatPrice(p, unit(symbol)) : "-");

    const book = new Table({
      head: ["symbol", "bid qty", "bid", "ask", "ask qty", "last", "volume", "trades"],
      style: { head: [], border: [] },
    });
    instruments.forEach((i, n) => {
      const s = snapshots[n];
      if (s === undefined) return void book.push([i.symbol, "", "", "", "", "(market data unavailable)", "", ""]);
      const bid = s.topOfBook?.bid;
      const ask = s.topOfBook?.ask;
      book.push(
        [
          i.symbol,
          bid?.qty ?? "",
          px(i.symbol, bid?.price),
          px(i.symbol, ask?.price),
          ask?.qty ?? "",
          px(i.symbol, s.stats?.last),
          s.stats?.volume ?? 0,
          s.stats?.tradeCount ?? 0,
        ].map(String),
      );
    });
    const tape = new Table({
      head: ["time", "symbol", "price", "qty", "aggressor"],
      chars: COMPACT,
      style: { head: [], border: [] },
    });
    for (const { symbol, t } of trades)
      tape.push([
        formatTime(t.time).slice(11, 23),
        symbol,
        px(symbol, t.price),
        String(t.qty),
        t.aggressorSide === Side.BUY ? "BUY" : t.aggressorSide === Side.SELL ? "SELL" : "auction",
      ]);

    const now = Date.now();
    const printed = snapshots.reduce((sum, s) => sum + (s?.stats?.tradeCount ?? 0), 0);
    const rate =
      this.lastTrades === undefined ? 0 : ((printed - this.lastTrades) * 1000) / Math.max(1, now - this.lastAt);
    this.lastTrades = printed;
    this.lastAt = now;
    const status = (s: ServiceStatus) =>
      `${s.name} ${s.running ? "up" : "DOWN"}${s.restarts > 0 ? ` (${s.restarts} restarts)` : ""}`;
    const all = this.services();
    const isStrategy = (s: ServiceStatus) => s.name.startsWith("strategy-");
    const services = all
      .filter((s) => !isStrategy(s))
      .map(status)
      .join("   ");
    const strategies = all.filter(isStrategy).map(status).join("   ");
    const e = this.state.endpoints;
    return [
      `Tradeplane local venue "${this.state.venue}"   order entry ${e.orderEntry}   market data ${e.marketData}   websocket ${e.marketDataWs}`,
      `services: ${services}`,
      "",
      book.toString(),
      "",
      "latest trades",
      trades.length === 0 ? "(none yet)" : tape.toString(),
      "",
      `market: ${printed} trades, ${rate.toFixed(1)} trades/s`,
      `strategies: ${strategies === "" ? "none (the market trades only when you do)" : strategies}`,
      "",
      "Ctrl-C stops the venue; `npm start` again resumes it from its log.",
      "",
    ].join("\n");
  }
}
