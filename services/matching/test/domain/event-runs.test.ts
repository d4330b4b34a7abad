import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@tradeplane/contracts";
import { eventRuns, MAX_EVENTS_PER_MESSAGE } from "../../src/domain/event-runs.ts";

const ev = (index: number, instrument: string, commandSeq = 7): EngineEvent =>
  ({ commandSeq, index, lastInCommand: false, timestamp: undefined, instrument, body: undefined }) as EngineEvent;

describe("eventRuns: one event message per run of an entry's events about one instrument", () => {
  it.each([
    ["no events, no messages", [], []],
    ["one instrument, one message", [ev(0, "INFY"), ev(1, "INFY"), ev(2, "INFY")], [["INFY", [0, 1, 2], 7, 2]]],
    [
      "two instruments in turn, one message each",
      [ev(0, "INFY"), ev(1, "TCS")],
      [
        ["INFY", [0], 7, 0],
        ["TCS", [1], 7, 1],
      ],
    ],
    [
      "an instrument that comes back starts a new run, so ids rise in publish order",
      [ev(0, "INFY"), ev(1, "TCS"), ev(2, "INFY")],
      [
        ["INFY", [0], 7, 0],
        ["TCS", [1], 7, 1],
        ["INFY", [2], 7, 2],
      ],
    ],
    [
      "several commands of an entry about one instrument share a message, named by the last",
      [ev(0, "INFY", 5000), ev(1, "INFY", 5000), ev(0, "INFY", 5001), ev(0, "TCS", 5002)],
      [
        ["INFY", [0, 1, 0], 5001, 0],
        ["TCS", [0], 5002, 0],
      ],
    ],
    [
      "text that is no symbol goes to the unrouted token",
      [ev(0, "not a symbol"), ev(1, "also bad")],
      [["_", [0, 1], 7, 1]],
    ],
  ] as const)("%s", (_name, events, expected) => {
    const runs = eventRuns([...(events as readonly EngineEvent[])]);
    expect(runs.map((r) => [r.instrument, r.events.map((e) => e.index), r.lastCommandSeq, r.lastIndex])).toEqual(
      expected,
    );
  });

  it("cuts a run longer than one message may hold (a mass cancel of a deep book)", () => {
    const events = Array.from({ length: MAX_EVENTS_PER_MESSAGE * 2 + 1 }, (_, i) => ev(i, "INFY"));
    const runs = eventRuns(events);
    expect(runs.map((r) => r.events.length)).toEqual([MAX_EVENTS_PER_MESSAGE, MAX_EVENTS_PER_MESSAGE, 1]);
    expect(runs.map((r) => r.lastIndex)).toEqual([
      MAX_EVENTS_PER_MESSAGE - 1,
      MAX_EVENTS_PER_MESSAGE * 2 - 1,
      MAX_EVENTS_PER_MESSAGE * 2,
    ]);
  });
});
