import { randomUUID } from "node:crypto";
import { credentials, Metadata } from "@grpc/grpc-js";
import {
  ExecType,
  OrderEntryClient,
  OrderType,
  Side,
  TimeInForce,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import {
  notionalPerTickLot,
  tickBandsOf,
  type InstrumentSpec,
  type TradingVenue,
} from "@tradeplane/operator/api/v1alpha1";
import type { LocalState } from "./state.ts";

/**
 * The demo order flow of local mode, until the built-in strategies arrive: a market maker
 * that keeps quotes a few ticks around each instrument's last price (cancelling its oldest
 * quotes), and a taker that now and then crosses the spread, so that the book moves and
 * trades print. It goes through the risk gateway like any client, and measures the
 * round trip of every order (request to execution reports).
 */
export class DemoFlow {
  private readonly client: OrderEntryClient;
  private readonly instruments: readonly InstrumentSpec[];
  private readonly tokens: ReadonlyMap<string, string>;
  private readonly last = new Map<string, number>();
  private readonly quotes = new Map<string, number[]>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** Round trips in ms with the time they ended, newest last. */
  private readonly samples: { at: number; ms: number }[] = [];
  submitted = 0;
  rejected = 0;
  fills = 0;

  private readonly ratePerSecond: number;
  private readonly notionalExponent: number;

  constructor(venue: TradingVenue, state: LocalState, ratePerSecond: number) {
    this.ratePerSecond = ratePerSecond;
    this.notionalExponent = venue.spec.market.notionalExponent;
    this.client = new OrderEntryClient(state.endpoints.orderEntry, credentials.createInsecure());
    this.instruments = venue.spec.instruments;
    this.tokens = new Map(state.accounts.map((a) => [a.name, a.token]));
    for (const i of this.instruments) this.last.set(i.symbol, i.referencePrice);
  }

  start(): void {
    if (this.ratePerSecond <= 0) return;
    this.timer = setInterval(() => this.step(), Math.max(1, Math.round(1000 / this.ratePerSecond)));
  }

  stop(): void {
    clearInterval(this.timer);
    this.client.close();
  }

  /** Round-trip percentiles over the last windowMs, in ms. */
  latency(windowMs = 5_000): { p50: number; p99: number; max: number; count: number } {
    const since = Date.now() - windowMs;
    const ms = this.samples
      .filter((s) => s.at >= since)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    const at = (q: number) => (ms.length === 0 ? 0 : ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!);
    return { p50: at(0.5), p99: at(0.99), max: ms.at(-1) ?? 0, count: ms.length };
  }

  private step(): void {
    if (this.inFlight >= 64) return; // the venue is slower than the flow: skip, do not pile up
    const i = this.instruments[Math.floor(Math.random() * this.instruments.length)]!;
    const mid = this.last.get(i.symbol)!;
    const tick = tickAt(i, mid);
    const taker = Math.random() < 0.3;
    const side = Math.random() < 0.5 ? Side.BUY : Side.SELL;
    const away = taker ? -2 : 1 + Math.floor(Math.random() * 5);
    const raw = side === Side.BUY ? mid - away * tick : mid + away * tick;
    const price = clampToBand(i, Math.max(tick, Math.round(raw / tick) * tick));
    const account = taker ? "demo-taker" : "demo-mm";
    this.send(i.symbol, account, side, price, 1 + Math.floor(Math.random() * this.maxQty(i)), taker);
    if (!taker) void this.trimQuotes(i.symbol);
  }

  /** Orders of at most about 5 lakh INR (5e7 paise): 20 lots of an equity, 1 of an index future. */
  private maxQty(i: InstrumentSpec): number {
    const lotValue = i.referencePrice * notionalPerTickLot(i, this.notionalExponent);
    return Math.max(1, Math.min(20, Math.floor(50_000_000 / lotValue)));
  }

  private send(symbol: string, account: string, side: Side, price: number, qty: number, ioc: boolean): void {
    const started = performance.now();
    this.inFlight++;
    this.submitted++;
    this.client.submitOrder(
      {
        account,
        clientOrderId: randomUUID(),
        instrument: symbol,
        side,
        orderType: OrderType.LIMIT,
        timeInForce: ioc ? TimeInForce.IOC : TimeInForce.DAY,
        price,
        stopPrice: 0,
        qty,
        postOnly: false,
        stpMode: 0,
        expireTime: undefined,
        displayQty: 0,
        stpGroup: 0,
      },
      this.metadata(account),
      { deadline: new Date(Date.now() + 5_000) },
      (err, res) => {
        this.inFlight--;
        if (err) return void this.rejected++;
        this.samples.push({ at: Date.now(), ms: performance.now() - started });
        if (this.samples.length > 20_000) this.samples.splice(0, 10_000);
        this.onReports(symbol, account, res);
      },
    );
  }

  private onReports(symbol: string, account: string, res: SubmitOrderResponse): void {
    for (const r of res.reports) {
      if (r.execType === ExecType.REJECTED) this.rejected++;
      if (r.execType === ExecType.TRADE) {
        this.fills++;
        this.last.set(symbol, r.lastPrice);
      }
      if (account === "demo-mm" && r.execType === ExecType.NEW && r.order !== undefined)
        (this.quotes.get(symbol) ?? this.quotes.set(symbol, []).get(symbol)!).push(r.order.orderId);
    }
  }

  /** Keeps at most 20 quotes per instrument: the oldest go. */
  private async trimQuotes(symbol: string): Promise<void> {
    const quotes = this.quotes.get(symbol);
    if (quotes === undefined || quotes.length <= 20) return;
    const orderId = quotes.shift()!;
    this.inFlight++;
    this.client.cancelOrder(
      { account: "demo-mm", instrument: symbol, target: { $case: "orderId", value: orderId }, clientOrderId: "" },
      this.metadata("demo-mm"),
      { deadline: new Date(Date.now() + 5_000) },
      () => void this.inFlight--,
    );
  }

  private metadata(account: string): Metadata {
    const md = new Metadata();
    md.set("authorization", `Bearer ${this.tokens.get(account) ?? ""}`);
    return md;
  }
}

function tickAt(i: InstrumentSpec, price: number): number {
  let tick = 1;
  for (const band of tickBandsOf(i)) if (price >= band.fromPrice) tick = band.tickSize;
  return tick;
}

/** Keeps the flow inside the middle of the price band, so that it is never refused for it. */
function clampToBand(i: InstrumentSpec, price: number): number {
  const half = Math.floor((i.referencePrice * i.priceBandPercent) / 200);
  if (half === 0) return price;
  const tick = tickAt(i, i.referencePrice);
  const lo = Math.ceil((i.referencePrice - half) / tick) * tick;
  const hi = Math.floor((i.referencePrice + half) / tick) * tick;
  return Math.min(hi, Math.max(lo, price));
}
