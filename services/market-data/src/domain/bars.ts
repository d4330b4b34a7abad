import { BarInterval, type Bar, type Timestamp } from "@tradeplane/contracts";

/** Every bar interval served, with its length in seconds. Bars align to multiples of it in UTC. */
export const BAR_INTERVALS: readonly { readonly interval: BarInterval; readonly seconds: number }[] = [
  { interval: BarInterval.SECOND_1, seconds: 1 },
  { interval: BarInterval.MINUTE_1, seconds: 60 },
  { interval: BarInterval.MINUTE_5, seconds: 300 },
  { interval: BarInterval.MINUTE_15, seconds: 900 },
  { interval: BarInterval.HOUR_1, seconds: 3_600 },
  { interval: BarInterval.DAY_1, seconds: 86_400 },
];

export function intervalSeconds(interval: BarInterval): number | undefined {
  return BAR_INTERVALS.find((b) => b.interval === interval)?.seconds;
}

/** Start (seconds since the epoch) of the bar of `lengthS` holding `seconds`. */
export function barStart(seconds: number, lengthS: number): number {
  return Math.floor(seconds / lengthS) * lengthS;
}

export interface BarState {
  /** Start in seconds since the epoch. */
  readonly start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  notional: number;
  tradeCount: number;
  closed: boolean;
}

export function barMessage(interval: BarInterval, b: BarState): Bar {
  const startTime: Timestamp = { seconds: b.start, nanos: 0 };
  return {
    interval,
    startTime,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    notional: b.notional,
    tradeCount: b.tradeCount,
    closed: b.closed,
  };
}

/**
 * The bars of one instrument and interval: the bar in progress and the last `kept` closed
 * ones. A bar exists only for intervals with trades. It closes once engine time passes its
 * end (`advance`), which takes an event of the venue: a quiet venue's last bar closes with
 * the next event (of any instrument), or with the next trade.
 */
export class BarSeries {
  readonly interval: BarInterval;
  readonly lengthS: number;
  private readonly kept: number;
  readonly closed: BarState[] = [];
  current: BarState | undefined;

  constructor(interval: BarInterval, lengthS: number, kept: number) {
    this.interval = interval;
    this.lengthS = lengthS;
    this.kept = kept;
  }

  /** End (exclusive, seconds) of the bar in progress, or Infinity. */
  get currentEnd(): number {
    return this.current === undefined ? Infinity : this.current.start + this.lengthS;
  }

  /** Closes the bar in progress if `nowS` is at or past its end; returns it when it closed. */
  advance(nowS: number): BarState | undefined {
    const c = this.current;
    if (c === undefined || nowS < c.start + this.lengthS) return undefined;
    c.closed = true;
    this.closed.push(c);
    if (this.closed.length > this.kept) this.closed.splice(0, this.closed.length - this.kept);
    this.current = undefined;
    return c;
  }

  /** Adds a trade at `nowS` (call `advance` first). Returns the bar in progress. */
  trade(nowS: number, price: number, qty: number, notional: number): BarState {
    let c = this.current;
    if (c === undefined) {
      c = {
        start: barStart(nowS, this.lengthS),
        open: price,
        high: price,
        low: price,
        close: price,
        volume: 0,
        notional: 0,
        tradeCount: 0,
        closed: false,
      };
      this.current = c;
    }
    if (price > c.high) c.high = price;
    if (price < c.low) c.low = price;
    c.close = price;
    c.volume += qty;
    c.notional += notional;
    c.tradeCount++;
    return c;
  }

  /** Puts the series in a snapshot's state: closed bars oldest first (the newest `kept` stay), the bar in progress. */
  restore(closed: readonly BarState[], current: BarState | undefined): void {
    this.closed.length = 0;
    for (const bar of closed.slice(Math.max(0, closed.length - this.kept))) this.closed.push({ ...bar });
    this.current = current && { ...current };
  }

  /** Bars with start in [fromS, toS), ascending, the latest `limit` of them. */
  range(fromS: number, toS: number, limit: number): BarState[] {
    const all = this.current === undefined ? this.closed : [...this.closed, this.current];
    const inRange = all.filter((b) => b.start >= fromS && b.start < toS);
    return inRange.slice(Math.max(0, inRange.length - limit));
  }
}
