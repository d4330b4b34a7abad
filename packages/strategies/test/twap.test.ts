import { describe, expect, it } from "vitest";
import { ExecType, Side } from "@tradeplane/contracts";
import { SimulatedVenue } from "@tradeplane/backtest";
import { StrategyDriver } from "@tradeplane/sdk";
import { newLimitOrder, REFERENCE_PRICE } from "@tradeplane/testkit";
import { twap, twapChildQty, twapParams } from "../src/twap.ts";
import { INSTRUMENTS, simulate } from "./support.ts";

const params = (p: Record<string, unknown>) =>
  twapParams.parse({ side: "BUY", totalQty: 100, durationMs: 1_000, slices: 10, limitPrice: 200, ...p });

describe("twapChildQty", () => {
  it.each([
    ["sends the first slice at the start", {}, { elapsedMs: 0, filled: 0, working: 0, othersVolume: 0 }, 10],
    [
      "catches up what earlier slices did not fill",
      {},
      { elapsedMs: 450, filled: 10, working: 0, othersVolume: 0 },
      40,
    ],
    ["counts working child quantity as sent", {}, { elapsedMs: 450, filled: 10, working: 30, othersVolume: 0 }, 10],
    ["never goes beyond the parent", {}, { elapsedMs: 5_000, filled: 95, working: 0, othersVolume: 0 }, 5],
    [
      "holds its share of the volume to the cap",
      { maxParticipation: 0.2 },
      { elapsedMs: 900, filled: 10, working: 0, othersVolume: 100 },
      15,
    ],
    [
      "waits for volume when at the cap",
      { maxParticipation: 0.5 },
      { elapsedMs: 900, filled: 40, working: 0, othersVolume: 40 },
      0,
    ],
  ])("%s", (_name, p, progress, expected) => {
    expect(twapChildQty(params(p), progress)).toBe(expected);
  });
});

describe("the TWAP on the real core", () => {
  it("completes the parent within its window and never pays more than the limit", () => {
    const p = params({ totalQty: 300, durationMs: 1_500, slices: 15, limitPrice: REFERENCE_PRICE + 40 });
    const fills: { price: number; qty: number; ms: number }[] = [];
    let startMs = 0;
    const strategy = twap(p, ["INFY"]);
    const { driver, venue } = simulate(
      {
        ...strategy,
        onStart: (ctx) => {
          startMs = ctx.now();
          strategy.onStart!(ctx);
        },
        onExecutionReport: (ctx, r) => {
          strategy.onExecutionReport!(ctx, r);
          if (r.execType === ExecType.TRADE) fills.push({ price: r.lastPrice, qty: r.lastQty, ms: ctx.now() });
        },
      },
      { commands: 2_000 },
    );
    const filled = fills.reduce((s, f) => s + f.qty, 0);
    expect(filled).toBe(300);
    expect(Math.max(...fills.map((f) => f.price))).toBeLessThanOrEqual(REFERENCE_PRICE + 40);
    // On schedule: all of it inside the window (plus one slice of tolerance).
    expect(Math.max(...fills.map((f) => f.ms)) - startMs).toBeLessThanOrEqual(1_500 + 100);
    expect(venue.limitRejects).toBe(0);
    expect(driver.state.netQty("INFY")).toBe(300);
  });
});

describe("the TWAP and book changes", () => {
  it("sends a slice's child at the first book change that shows liquidity, and one child a slice", () => {
    const start = 1_767_225_600_000;
    const venue = new SimulatedVenue(INSTRUMENTS, start);
    const children: Record<string, unknown>[] = [];
    const p = twapParams.parse({ side: "BUY", totalQty: 40, durationMs: 4_000, slices: 4, limitPrice: 100_100 });
    const driver = new StrategyDriver({
      account: "twap",
      strategy: twap(p, ["INFY"]),
      orders: venue.portFor("twap"),
      market: venue,
      clock: () => venue.nowMs,
      clientOrderIdPrefix: "t-",
      log: (message, fields = {}) => {
        if (message === "twap child") children.push(fields);
      },
    });
    venue.attach("twap", driver);
    driver.start(); // an empty book: nothing to take at the first slice
    let n = 0;
    const ask = (price: number, qty: number, atMs: number) =>
      venue.apply("seller", newLimitOrder({ clientOrderId: `s${n++}`, side: Side.SELL, price, qty }), atMs);
    // Liquidity mid-slice, then more book changes in the same slice.
    ask(100_000, 5, start + 300);
    ask(100_010, 50, start + 400);
    ask(100_020, 50, start + 500);
    expect(children).toEqual([{ slice: 1, elapsedMs: 300, qty: 10, price: 100_000, filled: 0 }]);
    venue.advanceTo(start + 1_000); // slice 2: what is due, 20, less the 5 filled
    expect(children[1]).toMatchObject({ slice: 2, elapsedMs: 1_000, qty: 15, filled: 5 });
  });
});
