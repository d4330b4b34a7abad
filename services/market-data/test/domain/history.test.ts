import { describe, expect, it } from "vitest";
import { MarketDataChannel, type SubscribeResponse } from "@tradeplane/contracts";
import { UpdateHistory } from "../../src/domain/history.ts";

const u = (source: number, instrument = "INFY"): SubscribeResponse => ({
  sequence: source,
  sourceSequence: source,
  instrument,
  channel: MarketDataChannel.TRADES,
  time: undefined,
  update: undefined,
});

describe("UpdateHistory: the event-channel updates kept for resumes", () => {
  it("replays what followed a source sequence while it holds it, filtered", () => {
    const h = new UpdateHistory(4);
    for (const s of [3, 5, 8]) h.push(u(s, s === 5 ? "TCS" : "INFY"));
    expect(h.holds(0)).toBe(true);
    expect(h.since(3, () => true).map((x) => x.sourceSequence)).toEqual([5, 8]);
    expect(h.since(4, (x) => x.instrument === "INFY").map((x) => x.sourceSequence)).toEqual([8]);
    expect(h.since(8, () => true)).toEqual([]);
  });

  it("knows when it dropped what a resume needs", () => {
    const h = new UpdateHistory(2);
    for (const s of [1, 2, 3, 4]) h.push(u(s));
    expect(h.holds(1)).toBe(false);
    expect(h.holds(2)).toBe(true);
    expect(h.since(2, () => true).map((x) => x.sourceSequence)).toEqual([3, 4]);
  });
});
