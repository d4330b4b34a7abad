import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@tradeplane/testkit";
import { Backtest, feeOf } from "../src/backtest.ts";
import { loadStrategyModule, StrategyModuleError } from "@tradeplane/sdk";
import { replayWorkload, WORKLOAD_INSTRUMENT } from "../src/workload.ts";
import { workload } from "./flow.ts";

const EXAMPLES = join(REPO_ROOT, "examples/strategies");
const dir = mkdtempSync(join(tmpdir(), "tp-strategy-module-"));
const flow = workload(20_000, 5);
let modules = 0;

async function backtest(file: string, feeBps = 0) {
  const factory = await loadStrategyModule(file);
  const bt = new Backtest({
    instruments: [WORKLOAD_INSTRUMENT],
    strategy: factory({}, [WORKLOAD_INSTRUMENT.symbol]),
    startMs: 1_000_000,
    feeBps,
  });
  replayWorkload(bt.apply, flow, 1_000_000);
  return bt.report();
}

function moduleFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("the strategy examples, a learning path", () => {
  const files = readdirSync(EXAMPLES).filter((f) => /^\d\d-.*\.ts$/.test(f));

  it("are numbered 01, 02, ... without gaps", () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(files.map((f) => Number(f.slice(0, 2)))).toEqual(files.map((_, i) => i + 1));
  });

  it.each(readdirSync(EXAMPLES).filter((f) => /^\d\d-.*\.ts$/.test(f)))(
    "%s backtests: it trades, within the gateway's checks, the same way twice",
    async (file) => {
      const a = await backtest(join(EXAMPLES, file));
      const b = await backtest(join(EXAMPLES, file));
      expect(a.orders).toBeGreaterThan(0);
      expect(a.fills).toBeGreaterThan(0);
      expect(a.gatewayRejects).toBe(0);
      expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    },
  );
});

describe("loadStrategyModule", () => {
  it.each([
    ["a module exporting nothing of the kind", "export const x = 1;\n", "no-factory", /exports no strategy/],
    [
      "a factory that returns no object",
      "export function strategy() { return 42; }\n",
      "not-a-strategy",
      /not a Strategy/,
    ],
    [
      "a factory whose strategy has no callback",
      "export function strategy() { return { name: 'x' }; }\n",
      "not-a-strategy",
      /none of the Strategy callbacks/,
    ],
    [
      "a callback that is not a function",
      "export function strategy() { return { onBook: 3 }; }\n",
      "not-a-strategy",
      /onBook must be functions/,
    ],
    ["a default export that is not a strategy", "export default { onTimer: 'x' };\n", "not-a-strategy", /onTimer/],
    ["a module that does not parse", "export function (\n", "unloadable", /cannot load it/],
  ])("refuses %s, saying why", async (_name, text, reason, message) => {
    // One file per case: an ES module is loaded once per URL.
    const file = moduleFile(`m${++modules}-${reason}.mjs`, text);
    const err = await loadStrategyModule(file)
      .then((f) => f({}, ["BENCH"]))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(StrategyModuleError);
    expect((err as StrategyModuleError).reason).toBe(reason);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(file);
  });

  it("runs a strategy written as a class (its callbacks on the prototype)", async () => {
    const file = moduleFile(
      "class.mjs",
      [
        "class Joiner {",
        "  onBook(ctx, instrument) {",
        "    if (ctx.openOrders(instrument).length > 0 || ctx.pendingCount > 0) return;",
        "    const bid = ctx.market.bestBid(instrument);",
        "    if (bid !== undefined) ctx.submit({ instrument, side: 1, price: bid.price, qty: 1 });",
        "  }",
        "}",
        "export function strategy() { return new Joiner(); }",
      ].join("\n"),
    );
    const report = await backtest(file);
    // Without its prototype's onBook it would send nothing.
    expect(report.orders).toBeGreaterThan(0);
  });

  it("takes a Strategy object as the default export", async () => {
    const file = moduleFile("default.mjs", "export default { onBook() {} };\n");
    const factory = await loadStrategyModule(file);
    expect(typeof factory({}, ["BENCH"]).onBook).toBe("function");
  });
});

describe("fees in basis points", () => {
  it.each([
    [0, 5, 0],
    [1_000_000, 0, 0],
    [1_000_000, 1, 100],
    [1_000_001, 1, 101],
    [9_999, 1, 1],
    [10_000, 1, 1],
    [123_456_789, 25, 308_642],
  ])("a fill of notional %i at %i bps pays %i (rounded up to the minor unit)", (notional, bps, fee) => {
    expect(feeOf(notional, bps)).toBe(fee);
  });

  it("are charged on every fill of the strategy and taken off its net P&L", async () => {
    const report = await backtest(join(EXAMPLES, "01-join-the-best.ts"), 3);
    expect(report.fills).toBeGreaterThan(0);
    expect(report.fees).toBeGreaterThanOrEqual(report.fills);
    expect(report.netPnl).toBe(report.realisedPnl + report.unrealisedPnl - report.fees);
  });
});
