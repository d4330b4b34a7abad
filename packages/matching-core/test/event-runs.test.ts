import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { EngineEvent } from "@tradeplane/contracts";
import { eventRuns, MAX_EVENTS_PER_MESSAGE } from "../src/event-runs.ts";

const ev = (commandSeq: number, index: number, instrument: string): EngineEvent =>
  ({ commandSeq, index, lastInCommand: false, timestamp: undefined, instrument, body: undefined }) as EngineEvent;

/** [instrument, ["seq:index", ...]] per message, in publish order. */
const shape = (events: EngineEvent[]) =>
  eventRuns(events).map((m) => [m.instrument, m.events.map((e) => `${e.commandSeq}:${e.index}`)]);

describe("eventRuns: an entry's events as event messages, in command order", () => {
  it.each([
    ["no events, no messages", [], []],
    ["one instrument, one message", [ev(7, 0, "INFY"), ev(7, 1, "INFY")], [["INFY", ["7:0", "7:1"]]]],
    [
      "consecutive commands about one instrument share a message",
      [ev(5000, 0, "INFY"), ev(5000, 1, "INFY"), ev(5001, 0, "INFY"), ev(5002, 0, "TCS"), ev(5003, 0, "TCS")],
      [
        ["INFY", ["5000:0", "5000:1", "5001:0"]],
        ["TCS", ["5002:0", "5003:0"]],
      ],
    ],
    [
      "an instrument that comes back starts a new message, so events stay in command order",
      [ev(1, 0, "TCS"), ev(2, 0, "INFY"), ev(3, 0, "TCS")],
      [
        ["TCS", ["1:0"]],
        ["INFY", ["2:0"]],
        ["TCS", ["3:0"]],
      ],
    ],
    [
      "text that is no symbol goes to the unrouted token",
      [ev(7, 0, "not a symbol"), ev(7, 1, "also bad")],
      [["_", ["7:0", "7:1"]]],
    ],
  ] as const)("%s", (_name, events, expected) => {
    expect(shape([...(events as readonly EngineEvent[])])).toEqual(expected);
  });

  it("names each message by its last event", () => {
    const events = [ev(10, 0, "TCS"), ev(11, 0, "TCS"), ev(12, 0, "INFY"), ev(12, 1, "INFY")];
    expect(eventRuns(events).map((m) => [m.lastCommandSeq, m.lastIndex])).toEqual([
      [11, 0],
      [12, 1],
    ]);
  });

  it("cuts a command's events longer than one message may hold (a mass cancel of a deep book)", () => {
    const events = Array.from({ length: MAX_EVENTS_PER_MESSAGE * 2 + 1 }, (_, i) => ev(9, i, "INFY"));
    const messages = eventRuns(events);
    expect(messages.map((m) => m.events.length)).toEqual([MAX_EVENTS_PER_MESSAGE, MAX_EVENTS_PER_MESSAGE, 1]);
    expect(messages.map((m) => m.lastIndex)).toEqual([
      MAX_EVENTS_PER_MESSAGE - 1,
      MAX_EVENTS_PER_MESSAGE * 2 - 1,
      MAX_EVENTS_PER_MESSAGE * 2,
    ]);
  });
});

describe("eventRuns on random entries", () => {
  it("publishes every event once and in order, one instrument a message, ids rising", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom("INFY", "TCS", "SBIN", "??"), { minLength: 1, maxLength: 4 }), {
          maxLength: 60,
        }),
        (commands) => {
          const events = commands.flatMap((tokens, c) => tokens.map((t, i) => ev(1_000 + c, i, t)));
          const messages = eventRuns(events);
          expect(messages.flatMap((m) => m.events)).toEqual(events);
          const ids = messages.map((m) => (m.lastCommandSeq - 1_000) * 100 + m.lastIndex);
          for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
          for (const m of messages) {
            expect(new Set(m.events.map((e) => (e.instrument === "??" ? "_" : e.instrument)))).toEqual(
              new Set([m.instrument]),
            );
            expect(m.events.at(-1)).toMatchObject({ commandSeq: m.lastCommandSeq, index: m.lastIndex });
          }
        },
      ),
    );
  });
});
