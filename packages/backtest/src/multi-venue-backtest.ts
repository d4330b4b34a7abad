import { createHash } from "node:crypto";
import { ExecType, type Command, type ExecutionReport } from "@tradeplane/contracts";
import type { Strategy } from "@tradeplane/sdk";
import { Backtest, type BacktestOptions, type BacktestReport, type SeriesPoint } from "./backtest.ts";
import { mergeFlows, type FlowSource } from "./flow-source.ts";

/** One venue of a backtest over several: its name and the strategy (a leg) that trades there. */
export interface BacktestVenue {
  readonly name: string;
  /** What the live runtime runs on this venue: for a `MultiVenueStrategy`, `leg(name)`. */
  readonly strategy: Strategy;
}

/** A fill of the strategy on one venue, for callers that check fills one by one. */
export interface VenueFill {
  readonly venue: string;
  readonly timeMs: number;
  readonly clientOrderId: string;
  readonly instrument: string;
  readonly side: number;
  readonly price: number;
  readonly qty: number;
}

export interface MultiVenueBacktestOptions extends Omit<BacktestOptions, "strategy"> {
  /**
   * The venues, each listing `instruments`, in the order that breaks ties between commands
   * of the same time (the live runtime's order: the deployment's venue, then spec.venues).
   * Every leg is made before any starts: a strategy across venues knows its venues by them.
   */
  readonly venues: readonly BacktestVenue[];
  /**
   * Flow time at which the legs start (default `startMs`): before it the flows build the
   * venues' books, as a live strategy starts on a market that is already there. A workload
   * has one millisecond per line.
   */
  readonly startAtMs?: number;
  readonly onFill?: (fill: VenueFill) => void;
}

/** The timer that wakes a leg at `startAtMs` (a name no strategy of ours uses). */
const START_TIMER = "backtest:start";

/** The whole run (P&L, fees, positions summed over venues; drawdown and inventory of the sum) and each venue's own. */
export interface MultiVenueBacktestReport extends BacktestReport {
  readonly venues: Readonly<Record<string, BacktestReport>>;
}

/**
 * A backtest over several simulated venues, one `Backtest` (its own core, projection and
 * checks) per venue, each fed its own flow. The flows are merged by time, ties in venue
 * order, and before a command applies every venue's time moves to the command's, so every
 * leg's clock reads one time, as the live runtime's legs share the wall clock, and timers
 * fire on every venue as time passes. A leg reads every venue's market through its
 * strategy (the router reads each leg's view), exactly as live. Everything is a function of
 * the flows and the venue order: the same input gives the same report, bit for bit.
 */
export class MultiVenueBacktest {
  /** Each venue's backtest, in venue order. */
  readonly backtests: ReadonlyMap<string, Backtest>;
  /** Equity and inventory summed over venues. */
  readonly series: SeriesPoint[] = [];
  private readonly options: MultiVenueBacktestOptions;
  private readonly list: Backtest[];
  private readonly digest = createHash("sha256");
  private nowMs: number;
  private nextSampleMs: number;
  private peak = 0;
  private maxDrawdown = 0;
  private inventoryMin = 0;
  private inventoryMax = 0;

  constructor(options: MultiVenueBacktestOptions) {
    const names = options.venues.map((v) => v.name);
    if (names.length === 0 || new Set(names).size !== names.length)
      throw new RangeError(`venues: give one or more, each named once (${names.join(", ")})`);
    this.options = options;
    this.nowMs = options.startMs;
    this.nextSampleMs = options.startMs;
    const backtests = new Map<string, Backtest>();
    this.backtests = backtests;
    this.list = [];
    for (const v of options.venues) {
      const bt = new Backtest({ ...options, strategy: this.watched(v.name, v.strategy) });
      backtests.set(v.name, bt);
      this.list.push(bt);
    }
  }

  /**
   * The leg as its venue's backtest runs it: the fills it is told of counted first (the
   * venue's own Backtest has counted them already), and, with `startAtMs`, asleep until then
   * (its start waits on a timer of the leg's own, so it runs inside the driver like any
   * callback; until it runs, the leg hears nothing).
   */
  private watched(venue: string, strategy: Strategy): Strategy {
    const startAt = this.options.startAtMs ?? this.options.startMs;
    let started = startAt <= this.options.startMs;
    return {
      onStart: (ctx) => {
        if (started) strategy.onStart?.(ctx);
        else ctx.setTimer(START_TIMER, startAt - ctx.now());
      },
      onTimer: (ctx, name) => {
        if (!started && name === START_TIMER) {
          ctx.clearTimer(START_TIMER);
          started = true;
          strategy.onStart?.(ctx);
        } else if (started) strategy.onTimer?.(ctx, name);
      },
      ...(strategy.onBook && {
        onBook: (ctx, instrument) => {
          if (started) strategy.onBook?.(ctx, instrument);
        },
      }),
      ...(strategy.onTrade && {
        onTrade: (ctx, trade) => {
          if (started) strategy.onTrade?.(ctx, trade);
        },
      }),
      ...(strategy.onStop && {
        onStop: (ctx) => {
          if (started) strategy.onStop?.(ctx);
        },
      }),
      onExecutionReport: (ctx, report) => {
        if (report.execType === ExecType.TRADE && report.order !== undefined) this.onFill(venue, report);
        strategy.onExecutionReport?.(ctx, report);
      },
    };
  }

  private onFill(venue: string, report: ExecutionReport): void {
    const o = report.order!;
    this.digest.update(`${venue},${this.nowMs},${o.instrument},${o.side},${report.lastPrice},${report.lastQty}\n`);
    this.options.onFill?.({
      venue,
      timeMs: this.nowMs,
      clientOrderId: o.clientOrderId,
      instrument: o.instrument,
      side: o.side,
      price: report.lastPrice,
      qty: report.lastQty,
    });
    const inventory = this.inventory();
    this.inventoryMin = Math.min(this.inventoryMin, inventory);
    this.inventoryMax = Math.max(this.inventoryMax, inventory);
    this.mark();
  }

  private inventory(): number {
    let sum = 0;
    for (const bt of this.list) sum += bt.inventory();
    return sum;
  }

  private equity(): { realised: number; unrealised: number; fees: number } {
    let realised = 0;
    let unrealised = 0;
    let fees = 0;
    for (const bt of this.list) {
      const e = bt.equity();
      realised += e.realised;
      unrealised += e.unrealised;
      fees += bt.feesCharged;
    }
    return { realised, unrealised, fees };
  }

  /** Updates drawdown of the summed equity and, when due, the series. */
  private mark(): void {
    const { realised, unrealised, fees } = this.equity();
    const equity = realised + unrealised - fees;
    if (equity > this.peak) this.peak = equity;
    if (this.peak - equity > this.maxDrawdown) this.maxDrawdown = this.peak - equity;
    if (this.nowMs >= this.nextSampleMs) {
      this.series.push({ timeMs: this.nowMs, equity, inventory: this.inventory() });
      this.nextSampleMs = this.nowMs + (this.options.sampleEveryMs ?? 1_000);
    }
  }

  /**
   * Applies one command of `venue`'s flow at `timeMs`: first every other venue's time moves
   * there (in venue order, firing their timers), then the command applies on its venue (whose
   * timers fire after it, as in a single-venue backtest). Returns the command's sequence.
   */
  apply(venue: string, account: string, body: Command["body"], timeMs: number): number {
    const target = this.backtests.get(venue);
    if (target === undefined) throw new RangeError(`no venue ${venue}`);
    if (timeMs > this.nowMs) {
      this.nowMs = timeMs;
      for (const bt of this.list) if (bt !== target) bt.venue.advanceTo(timeMs);
    }
    const seq = target.apply(account, body, timeMs);
    if (this.nowMs >= this.nextSampleMs) this.mark();
    return seq;
  }

  /**
   * Runs each venue's flow (a venue without one gets no commands) merged by time, ties in
   * venue order. Returns the steps applied.
   */
  run(flows: ReadonlyMap<string, FlowSource>, progress?: (steps: number) => void): number {
    for (const name of flows.keys())
      if (!this.backtests.has(name)) throw new RangeError(`a flow for ${name}, which is no venue of this backtest`);
    const routed = this.options.venues.flatMap((v) => {
      const flow = flows.get(v.name);
      return flow === undefined
        ? []
        : [
            {
              flow,
              apply: (account: string, body: Command["body"], timeMs: number) =>
                this.apply(v.name, account, body, timeMs),
            },
          ];
    });
    return mergeFlows(routed, progress);
  }

  /** Stops every leg (their orders are cancelled, as live), in venue order, and sums the run up. */
  report(): MultiVenueBacktestReport {
    const venues: Record<string, BacktestReport> = {};
    for (const [name, bt] of this.backtests) venues[name] = bt.report();
    this.mark();
    const each = Object.values(venues);
    const sum = (f: (r: BacktestReport) => number) => each.reduce((s, r) => s + f(r), 0);
    const positions: Record<string, number> = {};
    for (const r of each)
      for (const [instrument, qty] of Object.entries(r.positions))
        positions[instrument] = (positions[instrument] ?? 0) + qty;
    const realisedPnl = sum((r) => r.realisedPnl);
    const unrealisedPnl = sum((r) => r.unrealisedPnl);
    const fees = sum((r) => r.fees);
    return {
      commands: sum((r) => r.commands),
      events: sum((r) => r.events),
      orders: sum((r) => r.orders),
      refusedLocally: sum((r) => r.refusedLocally),
      gatewayRejects: sum((r) => r.gatewayRejects),
      fills: sum((r) => r.fills),
      filledQty: sum((r) => r.filledQty),
      fees,
      realisedPnl,
      unrealisedPnl,
      netPnl: realisedPnl + unrealisedPnl - fees,
      maxDrawdown: this.maxDrawdown,
      inventoryMin: this.inventoryMin,
      inventoryMax: this.inventoryMax,
      positions,
      fillsDigest: this.digest.copy().digest("hex"),
      venues,
    };
  }
}
