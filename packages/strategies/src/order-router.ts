import { z } from "zod";
import { ExecType, InstrumentState, OrderType, Side, TimeInForce, type ExecutionReport } from "@tradeplane/contracts";
import type { Strategy, StrategyContext } from "@tradeplane/sdk";
import { bestSingleVenue, routeParent, type VenueBook } from "./smart-order-router.ts";

export const orderRouterParams = z
  .object({
    side: z.enum(["BUY", "SELL"]).describe("Side of the parent order"),
    totalQty: z.number().int().min(1).max(1e12).describe("Parent quantity, in lots"),
    limitPrice: z
      .number()
      .int()
      .min(1)
      .describe("Worst price the parent accepts, in ticks: never buys above it, never sells below it"),
    depth: z.number().int().min(1).max(100).default(10).describe("Displayed levels a side read on each venue"),
    retryMs: z
      .number()
      .int()
      .min(10)
      .default(500)
      .describe("How often what is left is routed again when no venue showed enough, ms"),
  })
  .strict();

export type OrderRouterParams = z.infer<typeof orderRouterParams>;

/** How long routing waits for a venue's first book after the last venue's leg started, ms. */
export const BOOK_WAIT_MS = 2_000;

/** Reports after which an order works no more (a fill that leaves nothing is the other end). */
const FINAL = new Set<ExecType>([ExecType.CANCELLED, ExecType.EXPIRED, ExecType.REJECTED]);

/** What the best single venue would have given, for the quantity routed in one round. */
export interface SingleVenueBenchmark {
  readonly venue: string;
  readonly filled: number;
  /** Price x quantity over what it could fill, ticks x lots. */
  readonly notional: number;
}

/** One child order of the parent, as the best-execution report shows it. */
export interface RouterChild {
  readonly round: number;
  readonly venue: string;
  readonly clientOrderId: string;
  /** Its limit: the worst displayed level it was meant to take. */
  readonly price: number;
  readonly qty: number;
  /** What it was meant to cost (the levels it targets), ticks x lots. */
  readonly expectedNotional: number;
  filledQty: number;
  filledNotional: number;
  /** The venue reported it finished (filled, cancelled, expired or rejected), or refused it unlogged. */
  done: boolean;
}

/** One routing decision: what was left, what the route planned and what it improved on. */
export interface RouterRound {
  readonly round: number;
  readonly atMs: number;
  readonly qty: number;
  readonly routedQty: number;
  readonly routedNotional: number;
  /** The best single venue for the same quantity at the same moment (undefined: none tradable). */
  readonly improvedOn: SingleVenueBenchmark | undefined;
  /** Venues left out: halted, closed or unreachable. */
  readonly skipped: readonly string[];
}

export interface BestExecutionReport {
  readonly side: "BUY" | "SELL";
  readonly totalQty: number;
  readonly limitPrice: number;
  readonly filledQty: number;
  readonly filledNotional: number;
  readonly rounds: readonly RouterRound[];
  readonly children: readonly RouterChild[];
}

/** A strategy across venues: each venue's host runs the leg it is given. */
export interface MultiVenueStrategy {
  /**
   * The strategy a venue's host runs; `reachable` says whether its order entry is up. Ask
   * for every venue's leg before any host starts: the strategy knows its venues by them.
   */
  leg(venue: string, reachable?: () => boolean): Strategy;
  report(): BestExecutionReport;
}

interface Leg {
  ctx: StrategyContext | undefined;
  readonly reachable: () => boolean;
}

/**
 * The smart order router: one parent order across venues listing the same instrument. Each
 * round it reads every venue's displayed book, routes what is left with `routeParent`
 * (best price first, never beyond the limit, halted and unreachable venues skipped) as
 * immediate-or-cancel children, one per venue, and waits for them all; what did not fill is
 * routed again on the next book change or every `retryMs`. Every child and the best single
 * venue it is set against are kept for the best-execution report (and logged).
 */
export function orderRouter(p: OrderRouterParams, instruments: readonly string[]): MultiVenueStrategy {
  const instrument = instruments[0]!;
  const side = p.side === "BUY" ? Side.BUY : Side.SELL;
  const legs = new Map<string, Leg>();
  const rounds: RouterRound[] = [];
  const children: RouterChild[] = [];
  const byId = new Map<string, RouterChild>();
  let filledQty = 0;
  let filledNotional = 0;
  let complete = false;
  let startedMs: number | undefined;

  const working = () => children.filter((c) => !c.done);

  /**
   * Routing waits for every venue's leg and book: a route over the first venue alone would
   * miss a better price on the next. A venue whose book has not come BOOK_WAIT_MS after the
   * last leg started is left out (it is unreachable, and skipped like a halted one).
   */
  const ready = (): boolean => {
    const all = [...legs.values()];
    if (all.some((l) => l.ctx === undefined)) return false;
    const now = all[0]!.ctx!.now();
    return all.every((l) => l.ctx!.market.updatedAtMs(instrument) > 0) || now - startedMs! >= BOOK_WAIT_MS;
  };

  /**
   * A venue may answer a child while the round is still sending (a simulated venue does, in
   * the same call): its reports wait until the round is recorded, then count.
   */
  let routing = false;
  const deferred: [string, ExecutionReport][] = [];

  const route = (): void => {
    if (routing) return;
    routing = true;
    try {
      routeOnce();
    } finally {
      routing = false;
    }
    if (deferred.length === 0) return;
    for (const [venue, report] of deferred.splice(0)) take(venue, report);
    route();
  };

  const routeOnce = (): void => {
    if (complete || working().length > 0 || !ready()) return;
    const left = p.totalQty - filledQty;
    const any = [...legs.values()].find((l) => l.ctx !== undefined)?.ctx;
    if (left <= 0) {
      complete = true;
      any?.log("router complete", { filledQty, filledNotional, rounds: rounds.length, children: children.length });
      return;
    }
    const books: VenueBook[] = [];
    const skipped: string[] = [];
    for (const [venue, leg] of legs) {
      if (leg.ctx === undefined) continue;
      const levels = leg.ctx.market.levels(instrument, p.depth);
      const tradable =
        leg.ctx.market.state(instrument) === InstrumentState.CONTINUOUS &&
        leg.ctx.market.updatedAtMs(instrument) > 0 &&
        leg.reachable();
      if (!tradable) skipped.push(venue);
      books.push({ venue, bids: levels.bids, asks: levels.asks, tradable });
    }
    const plan = routeParent(side, left, p.limitPrice, books);
    if (plan.children.length === 0) return;
    const round = rounds.length + 1;
    const atMs = any!.now();
    const improvedOn = bestSingleVenue(side, left, p.limitPrice, books);
    let routedQty = 0;
    let routedNotional = 0;
    for (const child of plan.children) {
      const ctx = legs.get(child.venue)!.ctx!;
      const sent = ctx.submit({
        instrument,
        side,
        price: child.price,
        qty: child.qty,
        orderType: OrderType.LIMIT,
        timeInForce: TimeInForce.IOC,
      });
      if (!sent.ok) {
        ctx.log("router child refused by the account's limits", { venue: child.venue, check: sent.check });
        continue;
      }
      routedQty += child.qty;
      routedNotional += child.expectedNotional;
      const record: RouterChild = {
        round,
        venue: child.venue,
        clientOrderId: sent.clientOrderId,
        price: child.price,
        qty: child.qty,
        expectedNotional: child.expectedNotional,
        filledQty: 0,
        filledNotional: 0,
        done: false,
      };
      children.push(record);
      byId.set(`${child.venue}/${sent.clientOrderId}`, record);
      ctx.log("router child", { round, venue: child.venue, price: child.price, qty: child.qty, improvedOn });
    }
    rounds.push({ round, atMs, qty: left, routedQty, routedNotional, improvedOn, skipped });
  };

  /** Client order ids are unique per venue's account only: a child is found by both. */
  const onReport = (venue: string, report: ExecutionReport): void => {
    if (routing) {
      deferred.push([venue, report]);
      return;
    }
    take(venue, report);
    route();
  };

  const take = (venue: string, report: ExecutionReport): void => {
    const child = byId.get(`${venue}/${report.order?.clientOrderId ?? report.requestClientOrderId}`);
    if (child !== undefined) {
      if (report.execType === ExecType.TRADE) {
        child.filledQty += report.lastQty;
        child.filledNotional += report.lastQty * report.lastPrice;
        filledQty += report.lastQty;
        filledNotional += report.lastQty * report.lastPrice;
      }
      if (FINAL.has(report.execType) || (report.execType === ExecType.TRADE && report.order?.leavesQty === 0))
        child.done = true;
    }
  };

  return {
    leg: (venue, reachable = () => true) => {
      legs.set(venue, { ctx: undefined, reachable });
      return {
        onStart: (ctx) => {
          legs.get(venue)!.ctx = ctx;
          startedMs = ctx.now();
          ctx.setTimer("route", p.retryMs);
          route();
        },
        onBook: (_ctx, changed) => {
          if (changed === instrument) route();
        },
        onExecutionReport: (_ctx, report) => onReport(venue, report),
        // Refused before the venue's log: no report follows, the child is over.
        onRequestRefused: (_ctx, clientOrderId) => {
          const child = byId.get(`${venue}/${clientOrderId}`);
          if (child !== undefined) child.done = true;
          route();
        },
        onTimer: () => route(),
      };
    },
    report: () => ({
      side: p.side,
      totalQty: p.totalQty,
      limitPrice: p.limitPrice,
      filledQty,
      filledNotional,
      rounds: [...rounds],
      children: children.map((c) => ({ ...c })),
    }),
  };
}
