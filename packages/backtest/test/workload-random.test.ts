import { describe, expect, it } from "vitest";
import { WorkloadRandom } from "../src/workload-random.ts";

const draws = (seed: number, n: number) => {
  const r = new WorkloadRandom(seed);
  return Array.from({ length: n }, () => r.next());
};

describe("WorkloadRandom", () => {
  it("gives the same numbers for the same seed, and others for neighbouring seeds and either half of one", () => {
    expect(draws(1, 100)).toEqual(draws(1, 100));
    const seen = [0, 1, 2, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER].map((s) => draws(s, 4).join());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("gives unsigned 32-bit integers", () => {
    for (const x of draws(9, 1_000)) {
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(2 ** 32);
    }
  });

  it("spreads below(n) evenly over 0..n-1", () => {
    const r = new WorkloadRandom(3);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[r.below(10)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(1_800);
    for (const c of counts) expect(c).toBeLessThan(2_200);
    const big = new WorkloadRandom(4);
    for (let i = 0; i < 1_000; i++) expect(big.below(2 ** 21)).toBeLessThan(2 ** 21);
  });

  it("never takes a chance of 0 and always one of 65536", () => {
    const r = new WorkloadRandom(5);
    for (let i = 0; i < 1_000; i++) {
      expect(r.chance(0)).toBe(false);
      expect(r.chance(65_536)).toBe(true);
    }
  });

  it.each([-1, 0.5, 2 ** 53, Number.NaN])("refuses the seed %s", (seed) => {
    expect(() => new WorkloadRandom(seed)).toThrow(RangeError);
  });
});
