import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Side } from "@tradeplane/contracts";
import { bestSingleVenue, routeParent, type VenueBook } from "../src/smart-order-router.ts";

const book = (venue: string, asks: [number, number][], tradable = true): VenueBook => ({
  venue,
  bids: [],
  asks: asks.map(([price, qty]) => ({ price, qty })),
  tradable,
});

describe("routeParent", () => {
  it.each([
    [
      "sweeps the better venue first, then the other",
      [
        book("NSE", [
          [100, 5],
          [102, 10],
        ]),
        book("BSE", [[101, 10]]),
      ],
      12,
      200,
      {
        children: [
          { venue: "BSE", price: 101, qty: 7, expectedNotional: 707 },
          { venue: "NSE", price: 100, qty: 5, expectedNotional: 500 },
        ],
        unrouted: 0,
      },
    ],
    [
      "skips a halted venue",
      [book("NSE", [[100, 5]], false), book("BSE", [[101, 10]])],
      5,
      200,
      { children: [{ venue: "BSE", price: 101, qty: 5, expectedNotional: 505 }], unrouted: 0 },
    ],
    [
      "never plans to pay more than the limit",
      [
        book("NSE", [
          [100, 5],
          [105, 10],
        ]),
        book("BSE", [[103, 10]]),
      ],
      30,
      103,
      {
        children: [
          { venue: "BSE", price: 103, qty: 10, expectedNotional: 1030 },
          { venue: "NSE", price: 100, qty: 5, expectedNotional: 500 },
        ],
        unrouted: 15,
      },
    ],
    [
      "breaks a price tie by the larger size, then the venue name",
      [book("NSE", [[100, 3]]), book("BSE", [[100, 7]])],
      8,
      200,
      {
        children: [
          { venue: "BSE", price: 100, qty: 7, expectedNotional: 700 },
          { venue: "NSE", price: 100, qty: 1, expectedNotional: 100 },
        ],
        unrouted: 0,
      },
    ],
  ])("%s", (_name, books, qty, limit, expected) => {
    expect(routeParent(Side.BUY, qty, limit, books)).toEqual(expected);
  });

  it("never fills less, nor at a worse price, than the best single venue would have", () => {
    const levels = fc.array(fc.tuple(fc.integer({ min: 90, max: 110 }), fc.integer({ min: 1, max: 50 })), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(
        levels,
        levels,
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 90, max: 110 }),
        (a, b, qty, limit) => {
          const books = [
            book(
              "NSE",
              [...a].sort((x, y) => x[0] - y[0]),
            ),
            book(
              "BSE",
              [...b].sort((x, y) => x[0] - y[0]),
            ),
          ];
          const route = routeParent(Side.BUY, qty, limit, books);
          const single = bestSingleVenue(Side.BUY, qty, limit, books)!;
          const filled = qty - route.unrouted;
          expect(filled).toBeGreaterThanOrEqual(single.filled);
          // The same quantity as the single venue costs no more on the route (its cheapest part).
          for (const c of route.children) expect(c.price).toBeLessThanOrEqual(limit);
          const routeNotional = route.children.reduce((s, c) => s + c.expectedNotional, 0);
          if (filled === single.filled) expect(routeNotional).toBeLessThanOrEqual(single.notional);
        },
      ),
    );
  });
});
