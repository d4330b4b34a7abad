import { describe, expect, it } from "vitest";
import { decimalRatio, summariseBestExecution } from "../src/best-execution.ts";
import type { BestExecutionReport, RouterChild, RouterRound } from "../src/order-router.ts";

function child(round: number, venue: string, price: number, qty: number, filledQty: number, filledNotional: number) {
  return {
    round,
    venue,
    clientOrderId: `bt-${round}${venue}`,
    price,
    qty,
    expectedNotional: price * qty,
    filledQty,
    filledNotional,
    done: true,
  } satisfies RouterChild;
}

function round(n: number, venue: string, filled: number, notional: number): RouterRound {
  return {
    round: n,
    atMs: n,
    qty: 0,
    routedQty: 0,
    routedNotional: 0,
    improvedOn: { venue, filled, notional },
    skipped: [],
  };
}

function report(side: "BUY" | "SELL", rounds: RouterRound[], children: RouterChild[]): BestExecutionReport {
  const filledQty = children.reduce((s, c) => s + c.filledQty, 0);
  const filledNotional = children.reduce((s, c) => s + c.filledNotional, 0);
  return { side, totalQty: 100, limitPrice: 100_010, filledQty, filledNotional, rounds, children };
}

describe("summariseBestExecution", () => {
  it.each([
    { n: 7n, d: 2n, text: "3.5000" },
    { n: 2n, d: 3n, text: "0.6667" },
    { n: -2n, d: 3n, text: "-0.6667" },
    { n: 1n, d: 30_000n, text: "0.0000" },
    { n: 300_013n, d: 3n, text: "100004.3333" },
    { n: 5n, d: 0n, text: "" },
  ])("writes $n / $d as $text", ({ n, d, text }) => {
    expect(decimalRatio(n, d)).toBe(text);
  });

  it("sums the children, each round's benchmark, and the improvement of a buy in minor units", () => {
    // Round 1: 30 lots, nse alone would have given 20 lots for 2_000_200 (average 100010).
    // The router took 20 @ 100000 on bse and 10 @ 100005 on nse.
    const s = summariseBestExecution(
      report(
        "BUY",
        [round(1, "nse", 20, 2_000_200)],
        [child(1, "bse", 100_000, 20, 20, 2_000_000), child(1, "nse", 100_005, 10, 10, 1_000_050)],
      ),
      3,
    );
    expect(s.totals).toEqual({
      children: 2,
      filledQty: 30,
      filledNotional: 3_000_050,
      averagePrice: "100001.6667",
      bestSingleVenue: { filledQty: 20, notional: 2_000_200, averagePrice: "100010.0000" },
      extraQty: 10,
      // (100010 - 100001.6667) x 30 lots x 3 minor units a tick-lot = 750
      improvement: 750,
    });
    expect(s.children.map((c) => c.improvedOn?.venue)).toEqual(["nse", "nse"]);
  });

  it("counts a sell's improvement as what it brought above the best single venue's average", () => {
    const s = summariseBestExecution(
      report("SELL", [round(1, "bse", 10, 999_900)], [child(1, "nse", 100_000, 10, 10, 1_000_000)]),
      1,
    );
    expect(s.totals.improvement).toBe(100);
    expect(s.totals.averagePrice).toBe("100000.0000");
  });

  it("shows a dearer fill than the best single venue as a negative improvement, rounded half away from zero", () => {
    const s = summariseBestExecution(
      report("BUY", [round(1, "nse", 3, 299_999)], [child(1, "nse", 100_000, 3, 3, 300_000)]),
      1,
    );
    expect(s.totals.improvement).toBe(-1);
    const half = summariseBestExecution(
      report("BUY", [round(1, "nse", 2, 200_001)], [child(1, "nse", 100_000, 1, 1, 100_000)]),
      1,
    );
    // (100000.5 - 100000) x 1 lot = 0.5: rounds to 1.
    expect(half.totals.improvement).toBe(1);
    const dearerHalf = summariseBestExecution(
      report("BUY", [round(1, "nse", 2, 199_999)], [child(1, "nse", 100_000, 1, 1, 100_000)]),
      1,
    );
    expect(dearerHalf.totals.improvement).toBe(-1);
  });

  it("gives no improvement and no averages when nothing filled and no venue could", () => {
    const s = summariseBestExecution(report("BUY", [], []), 1);
    expect(s.totals).toMatchObject({
      filledQty: 0,
      averagePrice: "",
      improvement: 0,
      bestSingleVenue: { averagePrice: "" },
    });
  });
});
