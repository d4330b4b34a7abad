import { describe, expect, it } from "vitest";
import { orderToTradeRatios } from "../../src/domain/order-to-trade.ts";

const counts = (account: string, entries: number, modifications: number, cancellations: number, trades: number) => ({
  account,
  entries,
  modifications,
  cancellations,
  trades,
});

describe("orderToTradeRatios", () => {
  it.each([
    ["entries, modifications and cancellations per trade", counts("a", 10, 5, 5, 4), 20, 5_000],
    ["a ratio rounded down to thousandths", counts("a", 2, 0, 0, 3), 2, 666],
    ["orders x 1000 when nothing traded", counts("a", 7, 1, 0, 0), 8, 8_000],
    ["one order per trade", counts("a", 3, 0, 0, 3), 3, 1_000],
  ])("counts %s", (_name, c, orders, ratioMilli) => {
    expect(orderToTradeRatios([c])).toEqual([{ ...c, orders, ratioMilli }]);
  });

  it("sorts by account and leaves out accounts that sent no order (only traded against)", () => {
    const rows = orderToTradeRatios([
      counts("zed", 1, 0, 0, 1),
      counts("passive", 0, 0, 0, 5),
      counts("amy", 2, 0, 0, 1),
    ]);
    expect(rows.map((r) => r.account)).toEqual(["amy", "zed"]);
  });
});
