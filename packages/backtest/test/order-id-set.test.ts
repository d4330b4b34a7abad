import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OrderIdSet } from "../src/order-id-set.ts";

// Ids as the venue makes them: command sequences, some past 2^30 (heap numbers in a Set).
const id = fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 2 ** 30, max: 2 ** 30 + 80 }));
const op = fc.tuple(fc.constantFrom("add", "delete", "has"), id);

describe("OrderIdSet", () => {
  it("answers as a Set<number> would, small and past the flat array's size", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const set = new OrderIdSet();
        const model = new Set<number>();
        for (const [kind, n] of ops) {
          if (kind === "add") {
            set.add(n);
            model.add(n);
          } else if (kind === "delete") {
            set.delete(n);
            model.delete(n);
          }
          expect(set.has(n)).toBe(model.has(n));
          expect(set.size).toBe(model.size);
        }
      }),
    );
  });
});
