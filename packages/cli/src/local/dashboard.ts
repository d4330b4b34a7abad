import { credentials, Metadata } from "@grpc/grpc-js";
import Table from "cli-table3";
import { MarketDataClient, Side, type GetSnapshotResponse, type Trade } from "@tradeplane/contracts";
import type { TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { formatPrice, formatTime } from "../format.ts";
import { COMPACT } from "../output.ts";
import type { DemoFlow } from "./demo-flow.ts";
import type { LocalState } from "./state.ts";

interface ServiceStatus {
  readonly name: string;
  readonly restarts: number;
  readonly running: boolean;
}

/**
 * The live terminal view of local mode: top of book and last trade per instrument (from the
 * market-data service, like any client), the latest trades, the demo flow's order rate and
 * round-trip latency, and the supervised services. Redrawn every second.
 */
export class Dashboard {
  private readonly client: MarketDataClient;
  private timer: NodeJS.Timeout | undefined;
  private lastSubmitted = 0;
  private lastAt = Date.now();
  private readonly venue: TradingVenue;
  private readonly state: LocalState;
  private readonly flow: DemoFlow | undefined;
  private readonly services: () => readonly ServiceStatus[];

  constructor(
    venue: TradingVenue,
    state: LocalState,
    flow: DemoFlow | undefined,
    services: () => readonly ServiceStatus[],
  ) {
    this.venue = venue;
    this.state = state;
    this.flow = flow;
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
    const submitted = this.flow?.submitted ?? 0;
    const rate = ((submitted - this.lastSubmitted) * 1000) / Math.max(1, now - this.lastAt);
    this.lastSubmitted = submitted;
    this.lastAt = now;
    const lat = this.flow?.latency();
    const services = this.services()
      .map((s) => `${s.name} ${s.running ? "up" : "DOWN"}${s.restarts > 0 ? ` (${s.restarts} restarts)` : ""}`)
      .join("   ");
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
      this.flow === undefined
        ? "demo flow off"
        : `demo flow: ${rate.toFixed(0)} orders/s   round trip p50 ${lat!.p50.toFixed(2)} ms  p99 ${lat!.p99.toFixed(2)} ms  max ${lat!.max.toFixed(2)} ms   fills ${this.flow.fills}   rejects ${this.flow.rejected}`,
      "",
      "Ctrl-C stops the venue; `npm start` again resumes it from its log.",
      "",
    ].join("\n");
  }
}
