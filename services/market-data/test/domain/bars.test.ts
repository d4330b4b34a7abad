import { describe, expect, it } from "vitest";
import { BarInterval } from "@tradeplane/contracts";
import { BAR_INTERVALS, barStart, BarSeries } from "../../src/domain/bars.ts";

const T = 1_767_225_600; // 2026-01-01T00:00:00Z

describe("bars", () => {
  it.each([
    { interval: BarInterval.SECOND_1, at: T + 7, start: T + 7 },
    { interval: BarInterval.MINUTE_1, at: T + 119, start: T + 60 },
    { interval: BarInterval.MINUTE_5, at: T + 301, start: T + 300 },
    { interval: BarInterval.MINUTE_15, at: T + 1_799, start: T + 900 },
    { interval: BarInterval.HOUR_1, at: T + 7_199, start: T + 3_600 },
    { interval: BarInterval.DAY_1, at: T + 86_399, start: T },
  ])("a $interval bar holding $at starts at $start (aligned in UTC)", ({ interval, at, start }) => {
    expect(barStart(at, BAR_INTERVALS.find((b) => b.interval === interval)!.seconds)).toBe(start);
  });

  it("adds trades into OHLCV, closes once time passes the end, keeps the last closed bars", () => {
    const s = new BarSeries(BarInterval.MINUTE_1, 60, 2);
    s.trade(T + 1, 100, 2, 200);
    s.trade(T + 2, 105, 1, 105);
    s.trade(T + 59, 99, 3, 297);
    expect(s.advance(T + 59)).toBeUndefined();
    expect(s.current).toMatchObject({
      start: T,
      open: 100,
      high: 105,
      low: 99,
      close: 99,
      volume: 6,
      notional: 602,
      tradeCount: 3,
    });
    // A quiet minute: the bar closes with the next event of the venue, whatever its instrument.
    expect(s.advance(T + 200)).toMatchObject({ start: T, closed: true });
    s.trade(T + 200, 101, 1, 101);
    s.advance(T + 300);
    s.trade(T + 300, 102, 1, 102);
    s.advance(T + 400);
    expect(s.closed.map((b) => b.start)).toEqual([T + 180, T + 300]);
    expect(s.range(-Infinity, Infinity, 1).map((b) => b.start)).toEqual([T + 300]);
    expect(s.range(T + 180, T + 300, 10).map((b) => b.start)).toEqual([T + 180]);
  });
});
