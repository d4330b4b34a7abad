import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUY, SELL, WorkloadBook } from "../src/workload-book.ts";
import { CoreBook, type Trade } from "./workload-core.ts";

/** A book that records its trades. */
function book(): { b: WorkloadBook; trades: Trade[] } {
  const trades: Trade[] = [];
  return { b: new WorkloadBook((maker, taker, price, qty) => trades.push([maker, taker, price, qty])), trades };
}

describe("WorkloadBook", () => {
  it("fills the best price first, and the oldest order first within a price, at the maker's price", () => {
    const { b, trades } = book();
    b.enter(1, SELL, false, 101, 5);
    b.enter(2, SELL, false, 100, 5);
    b.enter(3, SELL, false, 100, 5);
    expect(b.enter(4, BUY, false, 102, 12)).toBe(12);
    expect(trades).toEqual([
      [2, 4, 100, 5],
      [3, 4, 100, 5],
      [1, 4, 101, 2],
    ]);
    expect(b.get(1)?.qty).toBe(3);
    expect(b.bestPrice(SELL)).toBe(101);
    expect(b.size).toBe(1);
  });

  it("rests a limit's remainder at its own price, and drops a market order's", () => {
    const { b } = book();
    b.enter(1, SELL, false, 100, 5);
    b.enter(2, BUY, false, 100, 8);
    expect(b.get(2)).toMatchObject({ side: BUY, price: 100, qty: 3 });
    expect(b.enter(3, SELL, true, 0, 10)).toBe(3);
    expect(b.size).toBe(0);
    expect(b.get(3)).toBeUndefined();
    expect(b.bestPrice(BUY)).toBeUndefined();
  });

  it("does not trade a limit that does not reach the other side", () => {
    const { b, trades } = book();
    b.enter(1, SELL, false, 100, 5);
    expect(b.enter(2, BUY, false, 99, 5)).toBe(0);
    expect(trades).toEqual([]);
    expect([b.bestPrice(BUY), b.bestPrice(SELL), b.count(BUY), b.count(SELL)]).toEqual([99, 100, 1, 1]);
  });

  it("cancels a resting order, and finds nothing for an id that does not rest", () => {
    const { b } = book();
    b.enter(1, BUY, false, 99, 5);
    b.enter(2, BUY, false, 97, 5);
    expect(b.cancel(1)).toBe(true);
    expect(b.bestPrice(BUY)).toBe(97);
    expect(b.cancel(1)).toBe(false);
    expect(b.cancel(42)).toBe(false);
  });

  it("replaces as cancel and new: the order goes behind the others at its price and may trade", () => {
    const { b, trades } = book();
    b.enter(1, BUY, false, 99, 5);
    b.enter(2, BUY, false, 99, 5);
    expect(b.replace(1, 99, 5)).toBe(0);
    b.enter(3, SELL, true, 0, 5);
    expect(trades).toEqual([[2, 3, 99, 5]]);
    b.enter(4, SELL, false, 101, 4);
    expect(b.replace(1, 102, 6)).toBe(4);
    expect(b.get(1)).toMatchObject({ side: BUY, price: 102, qty: 2 });
    expect(b.replace(5, 100, 1)).toBe(-1);
  });

  it("keeps every resting order reachable by place, as orders come and go", () => {
    const { b } = book();
    for (let id = 1; id <= 6; id++) b.enter(id, id % 2 === 0 ? BUY : SELL, false, id % 2 === 0 ? 90 + id : 110 + id, 1);
    b.cancel(2);
    b.cancel(5);
    const ids = Array.from({ length: b.size }, (_, i) => b.restingAt(i).id).sort();
    expect(ids).toEqual([1, 3, 4, 6]);
  });

  // The real core is the judge: random orders, cancels and replaces on a few prices.
  const command = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("N" as const),
        side: fc.constantFrom(BUY, SELL),
        market: fc.boolean(),
        price: fc.integer({ min: 97, max: 103 }),
        qty: fc.integer({ min: 1, max: 20 }),
      }),
    },
    fc.record({ kind: fc.constant("C" as const), pick: fc.nat() }),
    fc.record({
      kind: fc.constant("R" as const),
      pick: fc.nat(),
      price: fc.integer({ min: 97, max: 103 }),
      qty: fc.integer({ min: 1, max: 20 }),
    }),
  );

  it("trades and rests exactly as the matching core does", () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 200, size: "max" }), (commands) => {
        const { b, trades } = book();
        const core = new CoreBook();
        let nextId = 1;
        for (const c of commands) {
          if (c.kind === "N") {
            const id = nextId++;
            b.enter(id, c.side, c.market, c.price, c.qty);
            core.enter(id, c.side, c.market, c.price, c.qty);
          } else {
            // Any id ever given, resting or not: both must agree on which rest.
            const id = 1 + (c.pick % Math.max(1, nextId - 1));
            if (c.kind === "C") expect(core.cancel(id)).toBe(b.cancel(id));
            else expect(core.replace(id, c.price, c.qty)).toBe(b.replace(id, c.price, c.qty) >= 0);
          }
          expect(core.resting).toBe(b.size);
        }
        expect(trades).toEqual(core.trades);
      }),
      { numRuns: 200 },
    );
  });
});
