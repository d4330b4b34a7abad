import { describe, expect, it } from "vitest";
import { figuresOf, lastFigures, positionsReport } from "../../src/policies/strategy-figures.ts";

const LONG = { symbol: "RELIANCE", position: 40, realisedPnl: 1_200, unrealisedPnl: -300 };
const SHORT = { symbol: "INFY", position: -15, realisedPnl: -200, unrealisedPnl: 50 };
const earlier = figuresOf([LONG, SHORT]);

describe("positionsReport", () => {
  it("sums what the gateway reported: gross position and P&L, PositionsCurrent True", () => {
    const { figures, condition } = positionsReport({ ok: true, positions: [LONG, SHORT] }, {});
    expect(figures).toMatchObject({ grossPosition: 55, pnl: { realised: 1_000, unrealised: -250, total: 750 } });
    expect(condition).toMatchObject({ type: "PositionsCurrent", status: "True", reason: "Read" });
  });

  it("lists one row per symbol across venues, the gross adding each venue's absolute position", () => {
    const onBse = { symbol: "RELIANCE", position: -10, realisedPnl: 100, unrealisedPnl: 20 };
    const { figures } = positionsReport({ ok: true, positions: [LONG, SHORT, onBse] }, {});
    expect(figures.positions).toEqual([
      { symbol: "RELIANCE", position: 30, realisedPnl: 1_300, unrealisedPnl: -280 },
      { symbol: "INFY", position: -15, realisedPnl: -200, unrealisedPnl: 50 },
    ]);
    expect(figures).toMatchObject({ grossPosition: 65, pnl: { realised: 1_100, unrealised: -230, total: 870 } });
  });

  it.each([
    ["keeps the last figures read while the gateway cannot be read", earlier, earlier, /as last read/],
    ["reports none (not zeros) when nothing was ever read", {}, {}, /no positions read yet/],
  ])("%s, with PositionsCurrent False (PositionsStale)", (_name, previous, kept, message) => {
    const { figures, condition } = positionsReport({ ok: false, why: "14 UNAVAILABLE: connection refused" }, previous);
    expect(figures).toEqual(kept);
    expect(condition).toMatchObject({ type: "PositionsCurrent", status: "False", reason: "PositionsStale" });
    expect(condition.message).toMatch(message);
    expect(condition.message).toContain("14 UNAVAILABLE");
  });

  it("reads the last figures back from a status, and nothing from one without them", () => {
    expect(lastFigures({ phase: "Running", conditions: [], ...earlier })).toEqual(earlier);
    expect(lastFigures({ phase: "Pending" })).toEqual({});
    expect(lastFigures(undefined)).toEqual({});
  });
});
