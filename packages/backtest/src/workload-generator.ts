import { BUY, SELL, WorkloadBook, type RestingOrder, type WorkloadSide } from "./workload-book.ts";
import { WorkloadRandom } from "./workload-random.ts";

/** Where the fair value starts, in ticks (the shared format's, and `WORKLOAD_INSTRUMENT`'s reference). */
export const WORKLOAD_START_PRICE = 100_000;
/** The soft target of resting orders when none is given. */
export const DEFAULT_WORKLOAD_DEPTH = 2_000;
/** Most lines a workload may have: 50 M lines are about 0.9 GB of text. */
export const MAX_WORKLOAD_ORDERS = 50_000_000;
/**
 * Largest soft target of resting orders: the book overshoots it a little, and what rests must
 * fit the matching core's default of 2^21 live orders, which backtests run with.
 */
export const MAX_WORKLOAD_DEPTH = 1_000_000;

/** Largest quantity of an order, in lots (the format's quantities are 1..1000). */
const MAX_QTY = 1_000;
/** The fair value stays within these prices, in ticks: far from where it wanders, but a bound all the same. */
const FAIR_MIN = 50_000;
const FAIR_MAX = 150_000;

// How a line is chosen, in parts of 1024 (integers, so the choice is exact on every platform).
/** Market orders (never rest). */
const MARKET_PARTS = 60;
/** Limit orders priced through the other side's best price (they trade, and any rest rests). */
const MARKETABLE_PARTS = 90;
/**
 * Cancels when the book holds its target depth, and how many more (fewer) per target's worth
 * of orders above (below) it, within 0..MAX_CANCEL_PARTS: what holds the depth near its target.
 */
const CANCEL_PARTS_AT_TARGET = 300;
const CANCEL_PARTS_PER_TARGET = 1_200;
const MAX_CANCEL_PARTS = 800;
/** Replaces (while anything rests). The rest of the 1024 are limit orders near the touch. */
const REPLACE_PARTS = 100;

// The fair value's walk, in chances out of 65536 per line.
/** A one-tick step: one line in 64. */
const FAIR_STEP_CHANCE = 1_024;
/** A new trend (down, none, up): about one line in 4096. */
const TREND_CHANGE_CHANCE = 16;
/** How much a trend tilts a step's direction from even (here 56.25 / 43.75). */
const TREND_TILT = 4_096;

/** What a workload is made from: the same options give the same lines, byte for byte. */
export interface WorkloadOptions {
  /** The random seed: a whole number 0..2^53-1. */
  readonly seed: number;
  /** Lines to make (new orders, cancels and replaces): 1..MAX_WORKLOAD_ORDERS. */
  readonly orders: number;
  /** The soft target of resting orders: 1..MAX_WORKLOAD_DEPTH (default DEFAULT_WORKLOAD_DEPTH). */
  readonly depth?: number;
}

/** One line of a workload. A market order's price is 0. */
export type WorkloadEvent =
  | {
      readonly kind: "N";
      readonly id: number;
      readonly side: WorkloadSide;
      readonly market: boolean;
      readonly price: number;
      readonly qty: number;
    }
  | { readonly kind: "C"; readonly id: number }
  | { readonly kind: "R"; readonly id: number; readonly price: number; readonly qty: number };

/** What a workload made so far holds. */
export interface WorkloadStats {
  readonly lines: number;
  readonly newLimits: number;
  readonly newMarkets: number;
  readonly cancels: number;
  readonly replaces: number;
  /** Trades, and the lots they traded, under the format's rules. */
  readonly trades: number;
  readonly tradedQty: number;
  /** Orders resting after the last line, and the most that ever rested at once. */
  readonly resting: number;
  readonly maxResting: number;
  /** The fair value after the last line, and the lowest and highest limit prices written. */
  readonly fairPrice: number;
  readonly lowPrice: number;
  readonly highPrice: number;
}

/** Which option is out of range. */
export type WorkloadOptionsReason = "seed" | "orders" | "depth";

/** Options out of range: `reason` names the option, the message says what it takes. */
export class WorkloadOptionsError extends Error {
  override readonly name = "WorkloadOptionsError";
  readonly reason: WorkloadOptionsReason;

  constructor(reason: WorkloadOptionsReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

const isWhole = (n: number, min: number, max: number) => Number.isSafeInteger(n) && n >= min && n <= max;

/** Throws a WorkloadOptionsError for the first option out of range. */
export function checkWorkloadOptions(options: WorkloadOptions): void {
  if (!isWhole(options.seed, 0, Number.MAX_SAFE_INTEGER))
    throw new WorkloadOptionsError("seed", "the seed is a whole number, 0 or more");
  if (!isWhole(options.orders, 1, MAX_WORKLOAD_ORDERS))
    throw new WorkloadOptionsError(
      "orders",
      `a whole number of lines, 1 to ${MAX_WORKLOAD_ORDERS.toLocaleString("en")}`,
    );
  const depth = options.depth ?? DEFAULT_WORKLOAD_DEPTH;
  if (!isWhole(depth, 1, MAX_WORKLOAD_DEPTH))
    throw new WorkloadOptionsError(
      "depth",
      `a whole number of resting orders, 1 to ${MAX_WORKLOAD_DEPTH.toLocaleString("en")}`,
    );
}

/**
 * A synthetic order flow of the shared workload format, one line at a time: a fair value that
 * walks from 100000 ticks (a tick every 64 lines on average, in trends that come and go);
 * mostly limit orders resting behind it, some market orders and limits priced through the
 * other side (taking stale quotes first), cancels (of the more out of place of two resting
 * orders picked at random, so stale and far orders go first) and replaces (re-priced near the
 * fair value, or a new quantity at the same price), with cancels growing with the resting
 * count so that it stays near `depth`. Quantities are 1..1000 lots. About 6% of the lines are
 * market orders, 9% marketable limits, 30% cancels and 10% replaces at the default depth.
 *
 * A book of its own (`WorkloadBook`) follows the flow under the format's rules, so that every
 * cancel and replace names an order that is resting at that point. Nothing depends on
 * `orders` but where it stops: a shorter workload is the start of a longer one.
 */
export class WorkloadGenerator implements Iterable<WorkloadEvent> {
  readonly seed: number;
  readonly orders: number;
  readonly depth: number;
  private readonly rnd: WorkloadRandom;
  private readonly book: WorkloadBook;
  private fair = WORKLOAD_START_PRICE;
  /** -1 down, 0 none, 1 up. */
  private trend = 0;
  private nextId = 1;
  private lines = 0;
  private newLimits = 0;
  private newMarkets = 0;
  private cancels = 0;
  private replaces = 0;
  private trades = 0;
  private tradedQty = 0;
  private maxResting = 0;
  private lowPrice = WORKLOAD_START_PRICE;
  private highPrice = WORKLOAD_START_PRICE;

  /** Throws WorkloadOptionsError when an option is out of range. */
  constructor(options: WorkloadOptions) {
    checkWorkloadOptions(options);
    this.seed = options.seed;
    this.orders = options.orders;
    this.depth = options.depth ?? DEFAULT_WORKLOAD_DEPTH;
    this.rnd = new WorkloadRandom(options.seed);
    this.book = new WorkloadBook((_maker, _taker, _price, qty) => {
      this.trades++;
      this.tradedQty += qty;
    });
  }

  /** The next line, or undefined once `orders` lines are made. */
  next(): WorkloadEvent | undefined {
    if (this.lines >= this.orders) return undefined;
    this.lines++;
    this.walkFair();
    const event = this.choose();
    this.maxResting = Math.max(this.maxResting, this.book.size);
    return event;
  }

  *[Symbol.iterator](): Iterator<WorkloadEvent> {
    for (let e = this.next(); e !== undefined; e = this.next()) yield e;
  }

  stats(): WorkloadStats {
    return {
      lines: this.lines,
      newLimits: this.newLimits,
      newMarkets: this.newMarkets,
      cancels: this.cancels,
      replaces: this.replaces,
      trades: this.trades,
      tradedQty: this.tradedQty,
      resting: this.book.size,
      maxResting: this.maxResting,
      fairPrice: this.fair,
      lowPrice: this.lowPrice,
      highPrice: this.highPrice,
    };
  }

  private walkFair(): void {
    const rnd = this.rnd;
    if (rnd.chance(TREND_CHANGE_CHANCE)) this.trend = rnd.below(3) - 1;
    if (!rnd.chance(FAIR_STEP_CHANCE)) return;
    let step = rnd.chance(32_768 + this.trend * TREND_TILT) ? 1 : -1;
    if (this.fair + step < FAIR_MIN || this.fair + step > FAIR_MAX) step = -step;
    this.fair += step;
  }

  private choose(): WorkloadEvent {
    const rnd = this.rnd;
    const resting = this.book.size;
    const roll = rnd.below(1024);
    let parts = MARKET_PARTS;
    if (roll < parts) return this.newOrder(this.takerSide(), true, 0, 1 + rnd.below(200));
    parts += MARKETABLE_PARTS;
    if (roll < parts) {
      const side = this.takerSide();
      return this.newOrder(side, false, this.throughTouch(side), this.limitQty());
    }
    if (resting > 0) {
      const steer = Math.floor((CANCEL_PARTS_PER_TARGET * (resting - this.depth)) / this.depth);
      parts += Math.max(0, Math.min(MAX_CANCEL_PARTS, CANCEL_PARTS_AT_TARGET + steer));
      if (roll < parts) return this.cancel(resting);
      parts += REPLACE_PARTS;
      if (roll < parts) return this.replace(resting);
    }
    const side = this.side();
    return this.newOrder(side, false, this.nearTouch(side), this.limitQty());
  }

  private side(): WorkloadSide {
    return this.rnd.below(2) === 0 ? BUY : SELL;
  }

  /**
   * A taker's side. Takers are partly informed: when the book's mid is 2 ticks or more off the
   * fair value they all take the stale side (buy when the mid is below), when it is nearer
   * half of them do, and the rest pick a side at random. Taking stale quotes is what keeps
   * the book near the fair value.
   */
  private takerSide(): WorkloadSide {
    const bid = this.book.bestPrice(BUY);
    const ask = this.book.bestPrice(SELL);
    if (bid === undefined || ask === undefined) return this.side();
    const off = bid + ask - 2 * this.fair; // twice the mid's distance, so it stays whole
    if (off !== 0 && (Math.abs(off) >= 4 || this.rnd.below(2) === 0)) return off < 0 ? BUY : SELL;
    return this.side();
  }

  /**
   * A passive price behind the fair value on the order's side (or behind the other side's
   * best, when that is nearer, so that it rests and does not trade): 1 to 5 ticks three times
   * in ten, 6 to 30 most of the rest, 31 to 120 one time in four.
   */
  private nearTouch(side: WorkloadSide): number {
    const rnd = this.rnd;
    const r = rnd.below(100);
    const behind = 1 + (r < 30 ? rnd.below(5) : r < 75 ? 5 + rnd.below(25) : 30 + rnd.below(90));
    if (side === BUY) return Math.min(this.fair, this.book.bestPrice(SELL) ?? this.fair) - behind;
    return Math.max(this.fair, this.book.bestPrice(BUY) ?? this.fair) + behind;
  }

  /**
   * A price through the other side's best, by 0..3 ticks, and on through every stale quote
   * up to a tick short of the fair value; past the fair value when that side is empty.
   */
  private throughTouch(side: WorkloadSide): number {
    const other = this.book.bestPrice(side === BUY ? SELL : BUY);
    const extra = this.rnd.below(4);
    if (other === undefined) return side === BUY ? this.fair + 1 + extra : this.fair - 1 - extra;
    return side === BUY ? Math.max(other + extra, this.fair - 1) : Math.max(1, Math.min(other - extra, this.fair + 1));
  }

  /** Mostly small, some round lots, a few large: 1..1000. */
  private limitQty(): number {
    const rnd = this.rnd;
    const r = rnd.below(10);
    return r < 6 ? 1 + rnd.below(100) : r < 9 ? 10 * (1 + rnd.below(50)) : 1 + rnd.below(MAX_QTY);
  }

  private newOrder(side: WorkloadSide, market: boolean, price: number, qty: number): WorkloadEvent {
    const id = this.nextId++;
    if (market) this.newMarkets++;
    else {
      this.newLimits++;
      this.sawPrice(price);
    }
    this.book.enter(id, side, market, price, qty);
    return { kind: "N", id, side, market, price, qty };
  }

  /** Cancels the more out of place (`misplaced`) of two resting orders picked at random. */
  private cancel(resting: number): WorkloadEvent {
    const a = this.book.restingAt(this.rnd.below(resting));
    const b = this.book.restingAt(this.rnd.below(resting));
    const victim = this.misplaced(b) > this.misplaced(a) ? b : a;
    this.book.cancel(victim.id);
    this.cancels++;
    return { kind: "C", id: victim.id };
  }

  /** Replaces a resting order picked at random: re-priced near the fair value, or at its own price; a new quantity either way. */
  private replace(resting: number): WorkloadEvent {
    const order = this.book.restingAt(this.rnd.below(resting));
    const price = this.rnd.below(2) === 0 ? this.nearTouch(order.side) : order.price;
    const qty = this.limitQty();
    this.sawPrice(price);
    this.book.replace(order.id, price, qty);
    this.replaces++;
    return { kind: "R", id: order.id, price, qty };
  }

  /**
   * How out of place a resting order is: ticks behind the fair value, or, counted eight times
   * over, ticks through it (a bid above, an offer below: a stale quote its owner would pull).
   */
  private misplaced(order: RestingOrder): number {
    const behind = order.side === BUY ? this.fair - order.price : order.price - this.fair;
    return behind > 0 ? behind : 8 * (1 - behind);
  }

  private sawPrice(price: number): void {
    if (price < this.lowPrice) this.lowPrice = price;
    if (price > this.highPrice) this.highPrice = price;
  }
}

/** A line of the shared format, without its newline. */
export function workloadLine(e: WorkloadEvent): string {
  switch (e.kind) {
    case "N":
      return `N,${e.id},${e.side === BUY ? "B" : "S"},${e.market ? "M" : "L"},${e.price},${e.qty}`;
    case "C":
      return `C,${e.id}`;
    case "R":
      return `R,${e.id},${e.price},${e.qty}`;
  }
}
