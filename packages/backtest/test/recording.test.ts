import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@tradeplane/contracts";
import { EventFlow, recordedCommands, replayRecorded } from "../src/event-flow.ts";
import { SimulatedVenue } from "../src/simulated-venue.ts";
import { anonymised, isRecorded, parseRecording, recordingHeader, RecordingError } from "../src/recording.ts";
import { RECORDED_INSTRUMENT, RECORDING_START_MS, recordFlow } from "./recorded-flow.ts";

const HEADER = recordingHeader("test", [RECORDED_INSTRUMENT]);
const ACCEPTED = {
  commandSeq: 1000,
  index: 0,
  timestamp: "2026-01-01T00:00:00Z",
  instrument: "REC",
  accepted: { orderId: 1000, account: "a", side: "SIDE_BUY", orderType: "ORDER_TYPE_LIMIT", price: 100, qty: 5 },
};
const line = (event: unknown, partition: unknown = 0) => JSON.stringify({ partition, event });

/** Reads `text` as a recording and plays it into commands: the error, if any. */
function errorOf(text: string): RecordingError | undefined {
  try {
    recordedCommands(parseRecording(text).events);
    return undefined;
  } catch (err) {
    if (err instanceof RecordingError) return err;
    throw err;
  }
}

describe("reading a recording", () => {
  it.each([
    ["an empty file", "", "empty", 0, /empty/],
    ["a header that is not JSON", "hello\n", "not-json", 1, /not JSON: "hello"/],
    ["a file that is no recording", '{"recording":"x"}\n', "bad-header", 1, /tradeplane events export/],
    [
      "a recording of another version",
      HEADER.replace('"version":1', '"version":9') + "\n",
      "bad-header",
      1,
      /version "9"/,
    ],
    [
      "an instrument without its notional",
      HEADER.replace('"notionalPerTickLot":1', '"notionalPerTickLot":"x"') + "\n",
      "bad-header",
      1,
      /instruments\[0\]\.notionalPerTickLot/,
    ],
    ["an event line that is not JSON", `${HEADER}\n{oops\n`, "not-json", 2, /line 2: not JSON/],
    ["a negative partition", `${HEADER}\n${line(ACCEPTED, -1)}\n`, "bad-event", 2, /partition "-1"/],
    ["an event without a body", `${HEADER}\n${line({ commandSeq: 5 })}\n`, "bad-event", 2, /no body/],
    [
      "a price that is not a number",
      `${HEADER}\n${line({ ...ACCEPTED, accepted: { ...ACCEPTED.accepted, price: "abc" } })}\n`,
      "bad-event",
      2,
      /accepted\.price is not an integer/,
    ],
    [
      "an event without a time",
      `${HEADER}\n\n${line({ ...ACCEPTED, timestamp: undefined })}\n`,
      "bad-event",
      3,
      /no valid timestamp/,
    ],
    [
      "an event without a command",
      `${HEADER}\n${line({ ...ACCEPTED, commandSeq: 0 })}\n`,
      "bad-event",
      2,
      /commandSeq/,
    ],
    [
      "an accepted order with no side",
      `${HEADER}\n${line({ ...ACCEPTED, accepted: { ...ACCEPTED.accepted, side: "SIDE_UNSPECIFIED" } })}\n`,
      "bad-event",
      2,
      /side/,
    ],
  ])("refuses %s, saying where and why", (_, text, reason, at, message) => {
    const err = errorOf(text);
    expect(err).toBeInstanceOf(RecordingError);
    expect({ reason: err!.reason, line: err!.line }).toEqual({ reason, line: at });
    expect(err!.message).toMatch(message);
  });

  it("quotes at most a short piece of an offending line", () => {
    const err = errorOf(`${HEADER}\n${"x".repeat(1_000_000)}\n`);
    expect(err?.reason).toBe("not-json");
    expect(err!.message.length).toBeLessThan(200);
  });

  it("reads a valid recording", () => {
    const r = parseRecording(`${HEADER}\n${line(ACCEPTED)}\n`);
    expect(r.header.venue).toBe("test");
    expect(recordedCommands(r.events)).toMatchObject([{ partition: 0, commandSeq: 1000, seconds: 1_767_225_600 }]);
  });
});

describe("a recording leaving the venue", () => {
  it("names no account and no client order id, and keeps which orders share an account", () => {
    const { events } = recordFlow(400, 3);
    const kept = anonymised(events.filter((e) => isRecorded(e.event)));
    const text = JSON.stringify(kept);
    for (const name of ["alice", "bob", "carol", "dave", "erin", '"c1"']) expect(text).not.toContain(name);
    const ownerOf = (list: typeof events) =>
      list.flatMap((e) => (e.event.body?.$case === "accepted" ? [e.event.body.value.account] : []));
    const before = ownerOf(events);
    const after = ownerOf(kept);
    // Same account before, same account after, and the other way round.
    for (let i = 1; i < before.length; i++) expect(before[i] === before[i - 1]).toBe(after[i] === after[i - 1]);
    expect(new Set(after)).toEqual(new Set(["a1", "a2", "a3", "a4", "a5"]));
    expect(kept.some((e) => e.event.body?.$case === "bookDelta")).toBe(false);
  });

  it("replays the same after renaming: self-trade prevention still knows which orders share an account", () => {
    const { events } = recordFlow(1_000, 9);
    const tradesOf = (list: readonly EngineEvent[]) =>
      list.flatMap((e) =>
        e.body?.$case === "trade" ? [[e.body.value.price, e.body.value.qty, e.body.value.aggressorSide]] : [],
      );
    const venue = new SimulatedVenue([RECORDED_INSTRUMENT], RECORDING_START_MS);
    const seen: EngineEvent[] = [];
    venue.onEvent((e) => seen.push(e));
    replayRecorded(EventFlow.over(venue), recordedCommands(anonymised(events.filter((e) => isRecorded(e.event)))));
    expect(tradesOf(seen)).toEqual(tradesOf(events.map((e) => e.event)));
  });
});
