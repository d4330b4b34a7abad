import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseWorkload } from "../src/workload.ts";
import {
  checkWorkloadOptions,
  MAX_WORKLOAD_DEPTH,
  MAX_WORKLOAD_ORDERS,
  WorkloadGenerator,
  workloadLine,
  type WorkloadOptions,
} from "../src/workload-generator.ts";
import { replayOnCore } from "./workload-core.ts";

/** The whole text of a workload, as `tradeplane workload` writes it. */
function text(options: WorkloadOptions): string {
  let out = "";
  for (const e of new WorkloadGenerator(options)) out += workloadLine(e) + "\n";
  return out;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

describe("WorkloadGenerator", () => {
  it("makes the same lines from the same options, and other lines from another seed or depth", () => {
    const a = text({ seed: 7, orders: 5_000 });
    expect(text({ seed: 7, orders: 5_000 })).toBe(a);
    expect(text({ seed: 8, orders: 5_000 })).not.toBe(a);
    expect(text({ seed: 7, orders: 5_000, depth: 50 })).not.toBe(a);
    expect(text({ seed: 7 + 2 ** 32, orders: 5_000 })).not.toBe(a);
  });

  it("makes a shorter workload as the start of a longer one", () => {
    expect(text({ seed: 3, orders: 20_000 }).startsWith(text({ seed: 3, orders: 7_000 }))).toBe(true);
  });

  // Users keep and compare workloads by their seed: a change here changes every one of them.
  // Change the digest only on purpose, and say so in docs/backtest.md.
  it("makes the bytes it always made (seed 1, 20,000 lines)", () => {
    const t = text({ seed: 1, orders: 20_000 });
    expect(t.split("\n", 4)).toEqual(["N,1,S,L,100001,180", "N,2,S,L,100004,52", "N,3,B,M,0,184", "N,4,S,L,100028,15"]);
    expect(sha256(t)).toBe("383bfc6f14c643093e2f61ec356e8c0dbdfa8b3562258a7951db3bd8fdbecbfa");
  });

  it("writes only lines the backtest's reader takes, in the format's ranges", () => {
    const w = parseWorkload(text({ seed: 5, orders: 30_000 }));
    expect(w.count).toBe(30_000);
    const wrong: string[] = [];
    let nextId = 1;
    for (let i = 0; i < w.count; i++) {
      const [kind, id, price, qty] = [w.kind[i]!, w.id[i]!, w.price[i]!, w.qty[i]!];
      if ((kind === 0 || kind === 1) && id !== nextId++) wrong.push(`line ${i + 1}: id ${id}, not the next`);
      if (kind === 1 && price !== 0) wrong.push(`line ${i + 1}: a market order priced ${price}`);
      if (kind !== 2 && (qty < 1 || qty > 1_000)) wrong.push(`line ${i + 1}: quantity ${qty}`);
      if ((kind === 0 || kind === 3) && Math.abs(price - 100_000) > 5_000) wrong.push(`line ${i + 1}: price ${price}`);
    }
    expect(wrong).toEqual([]);
  });

  it("cancels and replaces only orders resting on the real matching core, which trades as the generator's book", () => {
    const g = new WorkloadGenerator({ seed: 1, orders: 100_000 });
    let t = "";
    for (const e of g) t += workloadLine(e) + "\n";
    const { core, missed } = replayOnCore(t);
    const s = g.stats();
    expect(missed).toEqual([]);
    expect(core.trades.length).toBe(s.trades);
    expect(core.trades.reduce((sum, tr) => sum + tr[3], 0)).toBe(s.tradedQty);
    expect(core.resting).toBe(s.resting);
  });

  it("cancels and replaces only resting orders, whatever the seed, depth and length", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 3_000 }),
        (seed, depth, orders) => {
          const g = new WorkloadGenerator({ seed, orders, depth });
          let t = "";
          for (const e of g) t += workloadLine(e) + "\n";
          const { core, missed, lines } = replayOnCore(t);
          expect(lines).toBe(orders);
          expect(missed).toEqual([]);
          expect(core.resting).toBe(g.stats().resting);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("mixes mostly limits, some takers, cancels and replaces, and keeps the depth near its target", () => {
    const g = new WorkloadGenerator({ seed: 2, orders: 200_000 });
    const resting: number[] = [];
    for (const _ of g) {
      const s = g.stats();
      if (s.lines > 20_000 && s.lines % 1_000 === 0) resting.push(s.resting);
    }
    const s = g.stats();
    const share = (n: number) => n / s.lines;
    expect(share(s.newLimits)).toBeGreaterThan(0.45);
    expect(share(s.newMarkets)).toBeGreaterThan(0.03);
    expect(share(s.cancels)).toBeGreaterThan(0.2);
    expect(share(s.replaces)).toBeGreaterThan(0.05);
    expect(share(s.trades)).toBeGreaterThan(0.1);
    expect(Math.min(...resting)).toBeGreaterThan(1_500);
    expect(Math.max(...resting)).toBeLessThan(2_500);
    expect(s.fairPrice).not.toBe(100_000);
  });

  it.each([
    ["a negative seed", { seed: -1, orders: 10 }, "seed"],
    ["a fractional seed", { seed: 1.5, orders: 10 }, "seed"],
    ["a seed past 2^53", { seed: 2 ** 53, orders: 10 }, "seed"],
    ["no lines", { seed: 1, orders: 0 }, "orders"],
    ["too many lines", { seed: 1, orders: MAX_WORKLOAD_ORDERS + 1 }, "orders"],
    ["a depth of 0", { seed: 1, orders: 10, depth: 0 }, "depth"],
    ["too deep a book", { seed: 1, orders: 10, depth: MAX_WORKLOAD_DEPTH + 1 }, "depth"],
    ["a depth that is not a number", { seed: 1, orders: 10, depth: Number.NaN }, "depth"],
  ])("refuses %s, naming the option", (_name, options, reason) => {
    expect(() => checkWorkloadOptions(options)).toThrow(expect.objectContaining({ reason }));
    expect(() => new WorkloadGenerator(options)).toThrow(expect.objectContaining({ reason }));
  });

  it.each([
    ["the smallest", { seed: 0, orders: 1, depth: 1 }],
    ["the largest", { seed: Number.MAX_SAFE_INTEGER, orders: MAX_WORKLOAD_ORDERS, depth: MAX_WORKLOAD_DEPTH }],
  ])("takes %s options", (_name, options) => {
    expect(() => checkWorkloadOptions(options)).not.toThrow();
  });
});
