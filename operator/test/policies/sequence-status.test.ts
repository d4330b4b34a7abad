import { describe, expect, it } from "vitest";
import { sequenceReport, type SequenceReport } from "../../src/policies/sequence-status.ts";

const INTERVAL_MS = 30_000;
const WRITTEN = "2026-12-03T10:00:00.000Z";
const at = (ms: number) => new Date(Date.parse(WRITTEN) + ms);

const written: SequenceReport = {
  lastCommandSequence: 40,
  applied: new Map([
    [0, 40],
    [1, 38],
  ]),
  updateTime: WRITTEN,
};
const seen = (lastCommandSequence: number | undefined, ...applied: [number, number][]) => ({
  lastCommandSequence,
  applied: new Map(applied),
});

describe("sequenceReport", () => {
  it.each<[string, ReturnType<typeof seen>, number, boolean, "kept" | "written", number | undefined]>([
    [
      "an idle venue's unchanged sequences are kept, with no recheck",
      seen(40, [0, 40], [1, 38]),
      5_000,
      false,
      "kept",
      undefined,
    ],
    [
      "an idle venue stays unwritten however long ago the last write was",
      seen(40, [0, 40], [1, 38]),
      9e9,
      false,
      "kept",
      undefined,
    ],
    ["what could not be read keeps its old value, and is no change", seen(undefined), 60_000, false, "kept", undefined],
    [
      "moved sequences inside the interval are held, with a recheck when it ends",
      seen(45, [0, 45], [1, 38]),
      10_000,
      false,
      "kept",
      20_000,
    ],
    [
      "moved sequences once the interval is over are written",
      seen(45, [0, 45], [1, 38]),
      30_000,
      false,
      "written",
      undefined,
    ],
    [
      "moved sequences ride along when the status is written anyway",
      seen(45, [0, 45], [1, 38]),
      1_000,
      true,
      "written",
      undefined,
    ],
    [
      "a partition's first applied sequence is written at once",
      seen(40, [0, 40], [1, 38], [2, 3]),
      1_000,
      false,
      "written",
      undefined,
    ],
    ["a clock gone back does not hold sequences forever", seen(45, [0, 45]), -60_000, false, "written", undefined],
  ])("%s", (_name, observed, elapsedMs, writingAnyway, outcome, recheckAfterMs) => {
    const now = at(elapsedMs);
    const decision = sequenceReport(written, observed, { now, minIntervalMs: INTERVAL_MS, writingAnyway });
    expect(decision.recheckAfterMs).toBe(recheckAfterMs);
    if (outcome === "kept") expect(decision.report).toBe(written);
    else
      expect(decision.report).toEqual({
        lastCommandSequence: observed.lastCommandSequence ?? written.lastCommandSequence,
        applied: new Map([...written.applied, ...observed.applied]),
        updateTime: now.toISOString(),
      });
  });

  it("writes the first sequences of a venue at once", () => {
    const none: SequenceReport = { lastCommandSequence: undefined, applied: new Map(), updateTime: undefined };
    const decision = sequenceReport(none, seen(0), { now: at(0), minIntervalMs: INTERVAL_MS, writingAnyway: false });
    expect(decision).toEqual({
      report: { lastCommandSequence: 0, applied: new Map(), updateTime: WRITTEN },
      recheckAfterMs: undefined,
    });
  });

  it("writes steady trading at most once per interval: one write in each 30 s of a reconcile every second", () => {
    let report = written;
    let writes = 0;
    for (let s = 1; s <= 300; s++) {
      const next = sequenceReport(report, seen(40 + s, [0, 40 + s]), {
        now: at(s * 1000),
        minIntervalMs: INTERVAL_MS,
        writingAnyway: false,
      }).report;
      if (next !== report) writes++;
      report = next;
    }
    expect(writes).toBe(10);
    expect(report.lastCommandSequence).toBe(340);
  });
});
