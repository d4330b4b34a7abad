import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Side } from "@tradeplane/contracts";
import { applyFill, closeOrder, newPosition, openOrder, unrealisedPnl } from "../src/positions.ts";

describe("positions", () => {
  it.each([
    [
      "a round trip long",
      [
        [Side.BUY, 100, 10],
        [Side.SELL, 110, 10],
      ],
      { netQty: 0, realisedPnl: 100 },
    ],
    [
      "a round trip short",
      [
        [Side.SELL, 100, 10],
        [Side.BUY, 90, 10],
      ],
      { netQty: 0, realisedPnl: 100 },
    ],
    [
      "a partial close, FIFO",
      [
        [Side.BUY, 100, 5],
        [Side.BUY, 120, 5],
        [Side.SELL, 130, 6],
      ],
      { netQty: 4, realisedPnl: 30 * 5 + 10 },
    ],
    [
      "a flip from long to short",
      [
        [Side.BUY, 100, 5],
        [Side.SELL, 90, 8],
      ],
      { netQty: -3, realisedPnl: -50, openCost: -270 },
    ],
  ] as const)("books %s", (_name, fills, expected) => {
    const p = newPosition();
    for (const [side, price, qty] of fills) applyFill(p, side, price, qty, 1);
    expect(p).toMatchObject(expected);
  });

  it("marks the open position to the last price", () => {
    const p = newPosition();
    applyFill(p, Side.BUY, 100, 10, 5);
    expect(unrealisedPnl(p, 5, 103)).toBe(3 * 10 * 5);
  });

  it("keeps open quantity and exposure from order life-cycle events", () => {
    const p = newPosition();
    openOrder(p, Side.BUY, 100, 10, 2);
    openOrder(p, Side.SELL, 105, 4, 2);
    closeOrder(p, Side.BUY, 100, 3, 2);
    expect(p).toMatchObject({ openBuyQty: 7, openSellQty: 4, openExposure: 7 * 200 + 4 * 210 });
  });

  it("conserves money: realised + unrealised equals the cash flows marked to the last price", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom(Side.BUY, Side.SELL),
            fc.integer({ min: 1, max: 1000 }),
            fc.integer({ min: 1, max: 50 }),
          ),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        fc.integer({ min: 1, max: 1000 }),
        (fills, mark) => {
          const p = newPosition();
          let cash = 0;
          let net = 0;
          for (const [side, price, qty] of fills) {
            applyFill(p, side, price, qty, 1);
            cash += side === Side.BUY ? -price * qty : price * qty;
            net += side === Side.BUY ? qty : -qty;
          }
          expect(p.netQty).toBe(net);
          expect(p.realisedPnl + unrealisedPnl(p, 1, mark)).toBe(cash + net * mark);
        },
      ),
    );
  });
});
