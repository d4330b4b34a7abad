import { createHash } from "node:crypto";
import { ExecType, type Command, type RiskLimits } from "@tradeplane/contracts";
import { StrategyDriver, type Strategy } from "@tradeplane/sdk";
import { SimulatedVenue, type SimInstrument } from "./simulated-venue.ts";

export interface BacktestOptions {
  readonly instruments: readonly SimInstrument[];
  readonly strategy: Strategy;
  /** The strategy's account (distinct from every account of the flow). */
  readonly account?: string;
  readonly limits?: RiskLimits;
  readonly startMs: number;
  /** One point of the P&L and inventory series every this many ms of flow time. */
  readonly sampleEveryMs?: number;
  /** Fee per fill in minor units per lot, charged on every fill (0 = none). */
  readonly feePerLot?: number;
  /**
   * Fee per fill in basis points of its notional (price x qty x notional per tick-lot, minor
   * units), whole basis points, rounded up to the minor unit per fill (0 = none). Adds to
   * `feePerLot`.
   */
  readonly feeBps?: number;
}

/** The fee of one fill of `notional` minor units at `bps` basis points, rounded up to the minor unit (integers only). */
export function feeOf(notional: number, bps: number): number {
  if (bps === 0 || notional === 0) return 0;
  const scaled = Math.abs(notional) * bps;
  return (scaled - (scaled % 10_000)) / 10_000 + (scaled % 10_000 === 0 ? 0 : 1);
}

/** One point of the series: flow time, equity (realised + unrealised - fees) and net inventory over instruments. */
export interface SeriesPoint {
  readonly timeMs: number;
  readonly equity: number;
  readonly inventory: number;
}

export interface BacktestReport {
  readonly commands: number;
  readonly events: number;
  readonly orders: number;
  readonly refusedLocally: number;
  readonly gatewayRejects: number;
  readonly fills: number;
  readonly filledQty: number;
  readonly fees: number;
  readonly realisedPnl: number;
  readonly unrealisedPnl: number;
  readonly netPnl: number;
  readonly maxDrawdown: number;
  readonly inventoryMin: number;
  readonly inventoryMax: number;
  readonly positions: Readonly<Record<string, number>>;
  /** sha256 of every fill of the strategy (time, instrument, side, price, qty): equal runs, equal digests. */
  readonly fillsDigest: string;
}

/**
 * One backtest: a strategy on the simulated venue (the real core, projection and checks)
 * over a flow fed by the caller; `report()` sums it up. Everything is a function of the
 * flow: the same flow gives the same report, bit for bit.
 */
export class Backtest {
  readonly venue: SimulatedVenue;
  readonly driver: StrategyDriver;
  readonly series: SeriesPoint[] = [];
  private readonly options: BacktestOptions;
  private readonly account: string;
  private readonly digest = createHash("sha256");
  private fees = 0;
  private peak = 0;
  private maxDrawdown = 0;
  private inventoryMin = 0;
  private inventoryMax = 0;
  private nextSampleMs: number;

  constructor(options: BacktestOptions) {
    this.options = options;
    this.account = options.account ?? "backtest";
    this.venue = new SimulatedVenue(options.instruments, options.startMs);
    const strategy = options.strategy;
    this.driver = new StrategyDriver({
      account: this.account,
      strategy: {
        // Each callback called on the strategy itself: a class's methods live on its
        // prototype, which a spread would drop.
        ...(strategy.onStart && { onStart: (ctx) => strategy.onStart?.(ctx) }),
        ...(strategy.onBook && { onBook: (ctx, instrument) => strategy.onBook?.(ctx, instrument) }),
        ...(strategy.onTrade && { onTrade: (ctx, trade) => strategy.onTrade?.(ctx, trade) }),
        ...(strategy.onTimer && { onTimer: (ctx, name) => strategy.onTimer?.(ctx, name) }),
        ...(strategy.onStop && { onStop: (ctx) => strategy.onStop?.(ctx) }),
        onExecutionReport: (ctx, report) => {
          if (report.execType === ExecType.TRADE && report.order !== undefined) this.onFill(report);
          strategy.onExecutionReport?.(ctx, report);
        },
      },
      orders: this.venue.portFor(this.account),
      market: this.venue,
      limits: options.limits,
      clock: () => this.venue.nowMs,
      clientOrderIdPrefix: "bt-",
    });
    this.venue.attach(this.account, this.driver, options.limits);
    this.nextSampleMs = options.startMs;
    this.driver.start();
  }

  private onFill(report: { lastPrice: number; lastQty: number; order?: { instrument: string; side: number } }): void {
    const o = report.order!;
    this.fees += (this.options.feePerLot ?? 0) * report.lastQty;
    const bps = this.options.feeBps ?? 0;
    if (bps !== 0)
      this.fees += feeOf(report.lastPrice * report.lastQty * this.venue.notionalPerTickLot(o.instrument), bps);
    this.digest.update(`${this.venue.nowMs},${o.instrument},${o.side},${report.lastPrice},${report.lastQty}\n`);
    const inventory = this.inventory();
    this.inventoryMin = Math.min(this.inventoryMin, inventory);
    this.inventoryMax = Math.max(this.inventoryMax, inventory);
    this.mark();
  }

  /** Net position summed over instruments, lots. */
  inventory(): number {
    let sum = 0;
    for (const i of this.options.instruments) sum += this.driver.state.netQty(i.symbol);
    return sum;
  }

  /** Fees charged so far, minor units. */
  get feesCharged(): number {
    return this.fees;
  }

  /** Realised and unrealised P&L now, each instrument marked to its last trade (before fees). */
  equity(): { realised: number; unrealised: number } {
    let realised = 0;
    let unrealised = 0;
    for (const i of this.options.instruments) {
      const mark = this.venue.lastPrice(i.symbol);
      const p = this.driver.state.pnl(i.symbol, mark > 0 ? mark : undefined);
      realised += p.realised;
      unrealised += p.unrealised;
    }
    return { realised, unrealised };
  }

  /** Applies one command of the flow (see `SimulatedVenue.apply`), then samples the series when due. */
  readonly apply = (account: string, body: Command["body"], timeMs: number): number => {
    const seq = this.venue.apply(account, body, timeMs);
    if (this.venue.nowMs >= this.nextSampleMs) this.mark();
    return seq;
  };

  /** Updates drawdown and, when due, the series (call after each command; cheap when nothing is due). */
  mark(): void {
    const { realised, unrealised } = this.equity();
    const equity = realised + unrealised - this.fees;
    if (equity > this.peak) this.peak = equity;
    if (this.peak - equity > this.maxDrawdown) this.maxDrawdown = this.peak - equity;
    const now = this.venue.nowMs;
    if (now >= this.nextSampleMs) {
      this.series.push({ timeMs: now, equity, inventory: this.inventory() });
      this.nextSampleMs = now + (this.options.sampleEveryMs ?? 1_000);
    }
  }

  /** Stops the strategy (its orders are cancelled, as live) and sums the run up. */
  report(): BacktestReport {
    this.driver.stop();
    this.mark();
    const { realised, unrealised } = this.equity();
    const positions: Record<string, number> = {};
    for (const i of this.options.instruments) positions[i.symbol] = this.driver.state.netQty(i.symbol);
    const c = this.driver.counters;
    return {
      commands: this.venue.commandsApplied,
      events: this.venue.eventsApplied,
      orders: c.sent,
      refusedLocally: c.refusedLocally,
      gatewayRejects: this.venue.limitRejects,
      fills: c.fills,
      filledQty: c.filledQty,
      fees: this.fees,
      realisedPnl: realised,
      unrealisedPnl: unrealised,
      netPnl: realised + unrealised - this.fees,
      maxDrawdown: this.maxDrawdown,
      inventoryMin: this.inventoryMin,
      inventoryMax: this.inventoryMax,
      positions,
      fillsDigest: this.digest.copy().digest("hex"),
    };
  }
}
