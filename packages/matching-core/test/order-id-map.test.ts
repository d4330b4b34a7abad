import { describe, expect, it } from "vitest";
import { prng } from "@tradeplane/testkit";
import { OrderIdMap } from "../src/order-id-map.ts";

const GROUP = 2 ** 30;

describe("OrderIdMap", () => {
  it.each([
    ["small ids", [1_000, 2_001, 3_002]],
    ["ids past V8's small integers", [2e12, 2e12 + 1_000, 2e12 + 2_001]],
    ["ids that share their place in a group", [5_000, 5_000 + GROUP, 5_000 + 7 * GROUP]],
    ["ids at the edges of a group", [GROUP - 1, GROUP, GROUP + 1, 2 ** 53 - 1]],
  ])("keeps %s apart, like a Map", (_case, ids) => {
    const map = new OrderIdMap<string>();
    for (const id of ids) map.set(id, `v${id}`);
    expect(map.size).toBe(ids.length);
    for (const id of ids) expect(map.get(id)).toBe(`v${id}`);
    expect(map.get(Math.max(...ids) - 2)).toBeUndefined();
    expect(map.delete(ids[1]!)).toBe(true);
    expect(map.delete(ids[1]!)).toBe(false);
    expect(map.get(ids[1]!)).toBeUndefined();
    expect(new Set(map.keys())).toEqual(new Set(ids.filter((_, i) => i !== 1)));
  });

  it("holds what a Map holds after random operations, and iterates the same way as a copy made from its iteration", () => {
    const rnd = prng(3);
    const map = new OrderIdMap<number>();
    const reference = new Map<number, number>();
    const base = 2e12 - 500 * 1_000; // straddles a group boundary
    for (let i = 0; i < 20_000; i++) {
      const id = base + Math.floor(rnd() * 4_000) * 1_000 + Math.floor(rnd() * 3);
      if (rnd() < 0.6) {
        map.set(id, i);
        reference.set(id, i);
      } else expect(map.delete(id)).toBe(reference.delete(id));
    }
    expect(map.size).toBe(reference.size);
    expect(new Map(map.entries())).toEqual(reference);
    const copy = new OrderIdMap<number>();
    for (const [id, v] of map) copy.set(id, v);
    expect([...copy.keys()]).toEqual([...map.keys()]);
    expect([...copy.values()]).toEqual([...map.values()]);
  });
});
