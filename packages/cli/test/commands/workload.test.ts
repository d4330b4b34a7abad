import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseWorkload, WorkloadGenerator, workloadLine } from "@tradeplane/backtest";
import { workloadOptionsOf, writeWorkload, type WorkloadFlags } from "../../src/commands/workload.ts";
import { runCli as cli } from "../run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-workload-"));

/** The text the generator makes for these options, in one string. */
function expected(seed: number, orders: number, depth?: number): string {
  let out = "";
  for (const e of new WorkloadGenerator({ seed, orders, ...(depth !== undefined ? { depth } : {}) }))
    out += workloadLine(e) + "\n";
  return out;
}

describe("tradeplane workload: flags", () => {
  it.each<[string, WorkloadFlags, string]>([
    ["no --seed", { orders: "10" }, "give --seed N"],
    ["no --orders", { seed: "1" }, "give --orders N"],
    ["a negative seed", { seed: "-1", orders: "10" }, "--seed -1: the seed is a whole number, 0 or more"],
    ["a fractional seed", { seed: "1.5", orders: "10" }, "--seed 1.5: the seed is a whole number"],
    ["a seed in words", { seed: "one", orders: "10" }, "--seed one: the seed is a whole number"],
    ["an empty seed", { seed: "", orders: "10" }, "--seed : the seed is a whole number"],
    ["a seed past 2^53", { seed: "9007199254740992", orders: "10" }, "--seed 9007199254740992: the seed"],
    ["no lines", { seed: "1", orders: "0" }, "--orders 0: a whole number of lines, 1 to 50,000,000"],
    ["too many lines", { seed: "1", orders: "50000001" }, "--orders 50000001: a whole number of lines, 1 to"],
    ["an exponent", { seed: "1", orders: "2e5" }, "--orders 2e5: a whole number of lines"],
    ["a sign", { seed: "1", orders: "+5" }, "--orders +5: a whole number of lines"],
    ["a huge number, echoed in part", { seed: "1", orders: "9".repeat(400) }, `--orders ${"9".repeat(24)}...: a`],
    [
      "a depth of 0",
      { seed: "1", orders: "10", depth: "0" },
      "--depth 0: a whole number of resting orders, 1 to 1,000,000",
    ],
    ["too deep a book", { seed: "1", orders: "10", depth: "1000001" }, "--depth 1000001: a whole number of resting"],
    ["a depth in words", { seed: "1", orders: "10", depth: "deep" }, "--depth deep: a whole number of resting"],
  ])("refuses %s (exit 2), saying what to give", (_name, flags, message) => {
    expect(() => workloadOptionsOf(flags)).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => workloadOptionsOf(flags)).toThrow(message);
  });

  it("reads whole numbers, leaving the depth to the generator's default when not given", () => {
    expect(workloadOptionsOf({ seed: "0", orders: "1" })).toEqual({ seed: 0, orders: 1 });
    expect(workloadOptionsOf({ seed: "007", orders: "50000000", depth: "1" })).toEqual({
      seed: 7,
      orders: 50_000_000,
      depth: 1,
    });
  });
});

describe("tradeplane workload: writing", () => {
  it("hands the lines over a chunk at a time, each written before the next is made", async () => {
    const chunks: string[] = [];
    let pending = 0;
    const sink = {
      write: async (chunk: string) => {
        expect(pending).toBe(0);
        pending++;
        await new Promise((resolve) => setImmediate(resolve));
        pending--;
        chunks.push(chunk);
      },
      close: async () => undefined,
    };
    const progress: number[] = [];
    const lines = await writeWorkload(new WorkloadGenerator({ seed: 4, orders: 20_000 }), sink, (n) =>
      progress.push(n),
    );
    expect(lines).toBe(20_000);
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.length).toBeLessThan((1 << 16) + 64);
    expect(chunks.every((c) => c.endsWith("\n"))).toBe(true);
    expect(chunks.join("")).toBe(expected(4, 20_000));
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("writes a file, the same bytes every run, and says what it wrote", async () => {
    const [a, b] = [join(dir, "a.csv"), join(dir, "b.csv")];
    const runA = await cli("workload", "--seed", "11", "--orders", "3000", "--depth", "200", "--out", a);
    const runB = await cli("--json", "workload", "--seed", "11", "--orders", "3000", "--depth", "200", "--out", b);
    expect([runA.code, runA.stderr, runB.code, runB.stderr]).toEqual([0, "", 0, ""]);
    const text = readFileSync(a, "utf8");
    expect(readFileSync(b, "utf8")).toBe(text);
    expect(text).toBe(expected(11, 3_000, 200));
    expect(parseWorkload(text).count).toBe(3_000);
    expect(runA.stdout).toContain(`wrote 3,000 lines to ${a} (seed 11, depth 200)`);
    const summary = JSON.parse(runB.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ out: b, seed: 11, orders: 3_000, depth: 200, lines: 3_000 });
    expect(summary.trades).toBeGreaterThan(0);
  });

  it("writes to stdout without --out, or with --out -", async () => {
    const [plain, dash] = await Promise.all([
      cli("workload", "--seed", "12", "--orders", "500"),
      cli("workload", "--seed", "12", "--orders", "500", "--out", "-"),
    ]);
    expect([plain.code, dash.code]).toEqual([0, 0]);
    expect(plain.stdout).toBe(expected(12, 500));
    expect(dash.stdout).toBe(plain.stdout);
  });

  it.each([
    ["a bad flag", ["workload", "--seed", "x", "--orders", "10"], "tradeplane: --seed x: the seed is a whole number"],
    ["a missing flag", ["workload", "--seed", "1"], "tradeplane: give --orders N"],
    ["--json with the lines on stdout", ["--json", "workload", "--seed", "1", "--orders", "10"], "give --out FILE"],
    [
      "a folder that is not there",
      ["workload", "--seed", "1", "--orders", "10", "--out", "/nonexistent/w.csv"],
      "cannot write /nonexistent/w.csv: ENOENT",
    ],
  ])("exits 2 on %s, with one line on stderr and nothing on stdout", async (_name, args, message) => {
    const run = await cli(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stdout).toBe("");
  });

  it("makes a flow that `tradeplane backtest --workload` runs a strategy on", async () => {
    const file = join(dir, "flow.csv");
    expect((await cli("workload", "--seed", "1", "--orders", "20000", "--out", file)).code).toBe(0);
    const run = await cli(
      "--json",
      "backtest",
      "--strategy",
      "market-maker",
      "--param",
      "spreadTicks=2",
      "--workload",
      file,
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { lines: number; fills: number; gatewayRejects: number };
    expect(report.lines).toBe(20_000);
    expect(report.fills).toBeGreaterThan(0);
    expect(report.gatewayRejects).toBe(0);
  });
});
