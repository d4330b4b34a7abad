import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  Backtest,
  MultiVenueBacktest,
  WORKLOAD_INSTRUMENT,
  WorkloadFlow,
  parseWorkload,
  replayWorkload,
  type Workload,
} from "@tradeplane/backtest";
import { buildStrategy } from "@tradeplane/strategies";
import { CLI_BIN } from "@tradeplane/testkit";
import { CliError, EXIT } from "../../src/errors.ts";
import { countWorkloadFile, readWorkloadFile, workloadBatches } from "../../src/commands/workload-file.ts";
import { randomFlow } from "../random-flow.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-workload-file-"));
const START_MS = 1_767_225_600_000;
const names = { unreadable: (code: string) => `cannot read: ${code}`, bad: (m: string) => `--workload f: ${m}` };

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Every batch read, copied out (the reader reuses its batch). */
function readAll(path: string, chunkBytes: number): Workload {
  const parts: Workload[] = [];
  for (const w of readWorkloadFile(path, chunkBytes))
    parts.push({
      count: w.count,
      kind: w.kind.slice(0, w.count),
      id: w.id.slice(0, w.count),
      side: w.side.slice(0, w.count),
      price: w.price.slice(0, w.count),
      qty: w.qty.slice(0, w.count),
    });
  const join = <T extends Uint8Array | Float64Array>(pick: (w: Workload) => T, make: (n: number) => T): T => {
    const out = make(parts.reduce((s, w) => s + w.count, 0));
    let at = 0;
    for (const w of parts) {
      out.set(pick(w), at);
      at += w.count;
    }
    return out;
  };
  return {
    count: parts.reduce((s, w) => s + w.count, 0),
    kind: join(
      (w) => w.kind as Uint8Array,
      (n) => new Uint8Array(n),
    ),
    id: join(
      (w) => w.id as Float64Array,
      (n) => new Float64Array(n),
    ),
    side: join(
      (w) => w.side as Uint8Array,
      (n) => new Uint8Array(n),
    ),
    price: join(
      (w) => w.price as Float64Array,
      (n) => new Float64Array(n),
    ),
    qty: join(
      (w) => w.qty as Float64Array,
      (n) => new Float64Array(n),
    ),
  };
}

const marketMaker = () => {
  const built = buildStrategy("market-maker", { spreadTicks: 2, quoteQty: 5, staleMs: 0 }, ["BENCH"]);
  if (!built.ok) throw new Error("bad parameters");
  return built.strategy;
};

describe("readWorkloadFile", () => {
  const flow = file("flow.csv", randomFlow(3_000, 31));

  it.each([1, 7, 64, 4_096, 1 << 20])("reads a file %i bytes at a time as the whole text parsed", (chunk) => {
    expect(readAll(flow, chunk)).toEqual(parseWorkload(readFileSync(flow, "utf8")));
  });

  it("counts the lines a replay plays", () => {
    expect(countWorkloadFile(flow, names, 100)).toBe(parseWorkload(readFileSync(flow, "utf8")).count);
  });

  // The same faults as the whole-text parser, wherever the chunks end, as the command's usage error.
  it.each([
    ["at the start", "Q,1\nC,1\n", "--workload f: line 1: the kind is N, C or R: Q,1"],
    [
      "amid a chunk",
      `${"C,1\n".repeat(10)}N,2,B,L,5\n${"C,1\n".repeat(10)}`,
      "--workload f: line 11: a new order has 6 fields: N,2,B,L,5",
    ],
    [
      "across chunks",
      `${"C,12\n".repeat(3)}N,1,B,L,5,x\n`,
      "--workload f: line 4: price and quantity are whole numbers of ticks and lots: N,1,B,L,5,x",
    ],
    ["last, without a newline", "C,1\nC,1\nR,1", "--workload f: line 3: a replace has 4 fields: R,1"],
    ["with CRLF ends", "C,1\r\nC,1\r\nC,y\r\n", "--workload f: line 3: the order id is not an integer: C,y\r"],
    [
      "a two-byte character split by chunks",
      "C,1\nN,1,é,L,5,5\n",
      "--workload f: line 2: side is B or S, type L or M: N,1,é,L,5,5",
    ],
  ])("refuses a bad line %s, naming it (exit 2)", (_, text, message) => {
    const path = file("bad.csv", text);
    for (const chunk of [1, 2, 3, 5, 13, 1 << 20]) {
      let error: unknown;
      try {
        countWorkloadFile(path, names, chunk);
      } catch (err) {
        error = err;
      }
      expect(error, `chunks of ${chunk}`).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(EXIT.USAGE);
      expect((error as CliError).message, `chunks of ${chunk}`).toBe(message);
    }
  });

  it("names a file it cannot read (exit 2)", () => {
    expect(() => countWorkloadFile(join(dir, "missing.csv"), names)).toThrow(
      expect.objectContaining({ exitCode: EXIT.USAGE, message: "cannot read: ENOENT" }),
    );
  });
});

describe("a backtest over a workload read a chunk at a time", () => {
  const nse = file("nse.csv", randomFlow(4_000, 41));
  const bse = file("bse.csv", randomFlow(4_000, 42));

  it("gives the report and series of the whole text parsed first, on one venue", () => {
    const whole = new Backtest({ instruments: [WORKLOAD_INSTRUMENT], strategy: marketMaker(), startMs: START_MS });
    const a = replayWorkload(whole.apply, parseWorkload(readFileSync(nse, "utf8")), START_MS);
    const streamed = new Backtest({ instruments: [WORKLOAD_INSTRUMENT], strategy: marketMaker(), startMs: START_MS });
    const b = replayWorkload(streamed.apply, workloadBatches(nse, names, 1_000), START_MS);
    expect(b).toBe(a);
    expect(streamed.report()).toEqual(whole.report());
    expect(streamed.series).toEqual(whole.series);
    expect(whole.report().fills).toBeGreaterThan(0);
  });

  it("gives the report of the whole texts parsed first, across venues", () => {
    const run = (flow: (path: string) => WorkloadFlow) => {
      const bt = new MultiVenueBacktest({
        instruments: [WORKLOAD_INSTRUMENT],
        venues: [
          { name: "nse", strategy: marketMaker() },
          { name: "bse", strategy: marketMaker() },
        ],
        startMs: START_MS,
      });
      const flows = new Map([
        ["nse", flow(nse)],
        ["bse", flow(bse)],
      ]);
      bt.run(flows);
      return { report: bt.report(), series: bt.series, lines: [...flows.values()].map((f) => f.lines) };
    };
    const whole = run((path) => new WorkloadFlow(readFileSync(path, "utf8"), START_MS));
    const streamed = run((path) => new WorkloadFlow(workloadBatches(path, names, 777), START_MS));
    expect(streamed).toEqual(whole);
    expect(whole.lines).toEqual([4_000, 4_000].map((_, i) => countWorkloadFile([nse, bse][i]!, names)));
  });
});

/** Runs the CLI with Node's heap capped at `heapMb`. */
function cliWithHeap(heapMb: number, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`--max-old-space-size=${heapMb}`, CLI_BIN, ...args],
      { timeout: 300_000, maxBuffer: 1 << 24 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 99, stdout, stderr }),
    );
  });
}

describe("tradeplane backtest --workload memory", () => {
  // A whole-file read needs the file's text in the heap (and its lines as strings besides):
  // a heap smaller than the file shows the backtest never holds it. No time is asserted.
  it("backtests a 3,000,000-line workload bigger than its whole heap", { timeout: 400_000 }, async () => {
    const heapMb = 48;
    const path = join(dir, "big.csv");
    onTestFinished(() => rmSync(path, { force: true }));
    const made = await cliWithHeap(256, ["workload", "--seed", "1", "--orders", "3000000", "--out", path]);
    expect(made.code, made.stderr).toBe(0);
    expect(statSync(path).size).toBeGreaterThan(heapMb * 1024 * 1024);
    const run = await cliWithHeap(heapMb, [
      "--json",
      "backtest",
      "--strategy",
      "market-maker",
      "--param",
      "staleMs=0",
      "--workload",
      path,
    ]);
    expect(run.code, run.stderr.slice(0, 2_000)).toBe(0);
    const report = JSON.parse(run.stdout) as { lines: number; commands: number };
    expect(report.lines).toBe(3_000_000);
    expect(report.commands).toBeGreaterThan(3_000_000);
  });
});
