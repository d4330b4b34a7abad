import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@tradeplane/contracts";
import { eventRuns } from "../../src/domain/event-runs.ts";

const ev = (index: number, instrument: string): EngineEvent =>
  ({ commandSeq: 7, index, lastInCommand: false, timestamp: undefined, instrument, body: undefined }) as EngineEvent;

describe("eventRuns: one event message per run of a command's events about one instrument", () => {
  it.each([
    ["no events, no messages", [], []],
    ["one instrument, one message", [ev(0, "INFY"), ev(1, "INFY"), ev(2, "INFY")], [["INFY", [0, 1, 2], 2]]],
    [
      "two instruments in turn, one message each",
      [ev(0, "INFY"), ev(1, "TCS")],
      [
        ["INFY", [0], 0],
        ["TCS", [1], 1],
      ],
    ],
    [
      "an instrument that comes back starts a new run, so ids rise in publish order",
      [ev(0, "INFY"), ev(1, "TCS"), ev(2, "INFY")],
      [
        ["INFY", [0], 0],
        ["TCS", [1], 1],
        ["INFY", [2], 2],
      ],
    ],
    [
      "text that is no symbol goes to the unrouted token",
      [ev(0, "not a symbol"), ev(1, "also bad")],
      [["_", [0, 1], 1]],
    ],
  ] as const)("%s", (_name, events, expected) => {
    const runs = eventRuns([...(events as readonly EngineEvent[])]);
    expect(runs.map((r) => [r.instrument, r.events.map((e) => e.index), r.lastIndex])).toEqual(expected);
  });
});
