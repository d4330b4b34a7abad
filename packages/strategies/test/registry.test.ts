import { describe, expect, it } from "vitest";
import { buildStrategy } from "../src/registry.ts";

describe("buildStrategy", () => {
  it.each([
    ["an unknown built-in", "market-taker", {}, ["INFY"], [{ field: "builtin" }]],
    ["an unknown parameter", "market-maker", { spreadTicks: 4, spread: 3 }, ["INFY"], [{ field: "parameters.spread" }]],
    [
      "a parameter of the wrong type",
      "market-maker",
      { quoteQty: "ten" },
      ["INFY"],
      [{ field: "parameters.quoteQty" }],
    ],
    ["a parameter out of range", "market-maker", { spreadTicks: 0 }, ["INFY"], [{ field: "parameters.spreadTicks" }]],
    [
      "a missing required parameter",
      "twap",
      { side: "BUY", durationMs: 1000, limitPrice: 10 },
      ["INFY"],
      [{ field: "parameters.totalQty" }],
    ],
    [
      "a TWAP over two instruments",
      "twap",
      { side: "BUY", totalQty: 5, durationMs: 1000, limitPrice: 10 },
      ["INFY", "TCS"],
      [{ field: "instruments" }],
    ],
  ])("refuses %s, naming the field", (_name, builtin, parameters, instruments, problems) => {
    const r = buildStrategy(builtin, parameters, instruments);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems).toEqual(problems.map((p) => expect.objectContaining(p)));
  });

  it("makes a strategy with its defaults filled in", () => {
    const r = buildStrategy("market-maker", { spreadTicks: 4, quoteQty: 10 }, ["RELIANCE", "INFY"]);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.params).toMatchObject({ spreadTicks: 4, quoteQty: 10, maxInventory: 100 });
  });
});
