import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  recordingHeader,
  recordingLine,
  replayWorkload,
  SimulatedVenue,
  WORKLOAD_INSTRUMENT,
  type RecordedEvent,
} from "@tradeplane/backtest";
import { randomFlow } from "../random-flow.ts";
import { runCli as cli } from "../run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-backtest-events-"));

/** A recording made in process: a generated flow through the simulated venue, its events written as `events export` writes them. */
function recording(): string {
  const venue = new SimulatedVenue([WORKLOAD_INSTRUMENT], 1_767_225_600_000);
  const events: RecordedEvent[] = [];
  venue.onEvent((event) => events.push({ partition: 0, event }));
  replayWorkload((a, b, t) => venue.apply(a, b, t), randomFlow(3_000, 5), 1_767_225_600_000);
  const file = join(dir, "recording.ndjson");
  writeFileSync(
    file,
    [recordingHeader("bench", [WORKLOAD_INSTRUMENT]), ...events.map(recordingLine)].join("\n") + "\n",
  );
  return file;
}

interface EventsReport {
  fills: number;
  recording: { commands: number; newOrders: number; cancels: number; cuts: number; refusedInBacktest: number };
}

describe("tradeplane backtest --events", () => {
  const file = recording();
  const mm = ["backtest", "--strategy", "market-maker", "--param", "spreadTicks=2", "--param", "staleMs=0"];

  it("prints the same report for the same recording, and writes a chart", async () => {
    const chart = join(dir, "mm.svg");
    const a = await cli("--json", ...mm, "--events", file, "--chart", chart);
    const b = await cli("--json", ...mm, "--events", file);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const report = JSON.parse(a.stdout) as EventsReport;
    expect(report.fills).toBeGreaterThan(0);
    expect(report.recording).toMatchObject({ cancels: expect.any(Number) as number, refusedInBacktest: 0 });
    expect(report.recording.newOrders).toBe(3_000);
    expect(readFileSync(chart, "utf8")).toMatch(/^<svg/);
    const text = await cli(...mm, "--events", file);
    expect(text.stdout).toMatch(/^market-maker over \d+ recorded commands of bench/);
    expect(text.stdout).toContain("3000 orders entered");
  });

  it("replays the recording untouched under a strategy that never trades", async () => {
    const idle = join(dir, "idle.mjs");
    writeFileSync(idle, "export function strategy() { return { onBook() {} }; }\n");
    const run = await cli("--json", "backtest", "--strategy-module", idle, "--events", file);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as EventsReport;
    expect(report.fills).toBe(0);
    expect(report.recording.cuts).toBe(0);
    expect(report.recording.refusedInBacktest).toBe(0);
  });

  it.each([
    ["both --workload and --events", ["--workload", "x.csv", "--events", "y.ndjson"], "give it alone"],
    ["--events with venues' flows", ["--events", "y.ndjson", "--venue-workload", "a=x.csv"], "give it alone"],
    ["--events with a warm-up", ["--events", "y.ndjson", "--warm-up-ms", "10"], "give it alone"],
    ["neither --workload nor --events", [], "give the flow: --workload FILE, --events FILE"],
    ["a recording that is not there", ["--events", join(dir, "missing.ndjson")], "cannot read"],
  ])("refuses %s", async (_, flags, message) => {
    const run = await cli(...mm, ...flags);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it.each([
    ["a file that is no recording", "N,1,B,L,100,1\n", "line 1: not JSON"],
    ["a bad event line", `${recordingHeader("x", [WORKLOAD_INSTRUMENT])}\n{"partition":0,"event":7}\n`, "line 2: not"],
    [
      "a huge bad line",
      `${recordingHeader("x", [WORKLOAD_INSTRUMENT])}\n${"z".repeat(2_000_000)}\n`,
      "line 2: not JSON",
    ],
  ])("refuses %s with one short line naming the file and the line", async (name, text, message) => {
    const bad = join(dir, `${name.replaceAll(" ", "-")}.ndjson`);
    writeFileSync(bad, text);
    const run = await cli(...mm, "--events", bad);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--events ${bad}: ${message}`);
    expect(run.stderr.length).toBeLessThan(400 + bad.length);
  });

  it("export says how to reach a venue when there is none", async () => {
    const run = await cli("--data-dir", join(dir, "no-venue"), "events", "export", "--out", join(dir, "x.ndjson"));
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("events export reads a local venue's log");
  });
});
