import { describe, expect, it } from "vitest";
import { EngineEvent, EngineEventBatch } from "@tradeplane/contracts";
import { decodeEventMessage } from "../src/index.ts";

const event = (index: number): EngineEvent => ({
  commandSeq: 9,
  index,
  lastInCommand: index === 1,
  timestamp: undefined,
  instrument: "INFY",
  body: { $case: "massCancelCompleted", value: { account: "a", cancelledCount: index, clientOrderId: "" } },
});

describe("decodeEventMessage", () => {
  it("gives a message's events in order", () => {
    const bytes = EngineEventBatch.encode({ events: [event(0), event(1)] }).finish();
    expect(decodeEventMessage(bytes).map((e) => e.index)).toEqual([0, 1]);
  });

  it("refuses a message without events, such as one single event written before event batches", () => {
    const old = EngineEvent.encode(event(0)).finish();
    expect(() => decodeEventMessage(old)).toThrow(/holds no events .*before event batches/);
    expect(() => decodeEventMessage(new Uint8Array())).toThrow(/holds no events/);
  });

  it("refuses bytes that do not decode", () => {
    expect(() => decodeEventMessage(new Uint8Array([0x0a, 0xff]))).toThrow();
  });
});
