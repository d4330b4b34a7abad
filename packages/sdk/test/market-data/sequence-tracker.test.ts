import { describe, expect, it } from "vitest";
import { MarketDataChannel, type SubscribeResponse } from "@tradeplane/contracts";
import { SequenceTracker, type Verdict } from "../../src/market-data/sequence-tracker.ts";

const u = (channel: MarketDataChannel, sequence: number, source: number, snapshot = false): SubscribeResponse => ({
  sequence,
  sourceSequence: source,
  instrument: "INFY",
  channel,
  time: undefined,
  update: snapshot ? { $case: "orderBookSnapshot", value: { bids: [], asks: [] } } : undefined,
});
const { L2, L3, TRADES } = MarketDataChannel;

describe("SequenceTracker", () => {
  it.each<{ name: string; updates: SubscribeResponse[]; want: Verdict[] }>([
    {
      name: "consecutive L3 updates",
      updates: [u(L3, 4, 10, true), u(L3, 5, 11), u(L3, 6, 12)],
      want: ["ok", "ok", "ok"],
    },
    { name: "a jump in L3 is a gap", updates: [u(L3, 4, 10, true), u(L3, 6, 12)], want: ["ok", "gap"] },
    { name: "a jump in TRADES is a gap", updates: [u(TRADES, 1, 3), u(TRADES, 3, 9)], want: ["ok", "gap"] },
    { name: "a repeated trade is a duplicate", updates: [u(TRADES, 1, 3), u(TRADES, 1, 3)], want: ["ok", "duplicate"] },
    { name: "L2 may jump (conflation)", updates: [u(L2, 1, 3), u(L2, 9, 40)], want: ["ok", "ok"] },
    {
      name: "an L3 snapshot restarts the count",
      updates: [u(L3, 1, 3), u(L3, 9, 40, true), u(L3, 10, 41)],
      want: ["ok", "ok", "ok"],
    },
  ])("$name", ({ updates, want }) => {
    const t = new SequenceTracker();
    expect(updates.map((x) => t.observe(x))).toEqual(want);
  });

  it("resumes from before the newest source sequence processed; a jump right after a resume is a loss, not a loop", () => {
    const t = new SequenceTracker();
    t.observe(u(TRADES, 1, 3));
    t.observe(u(L2, 7, 5));
    expect(t.observe(u(TRADES, 3, 9))).toBe("gap");
    // Message 5 may hold more updates than the one seen: ask for it again.
    expect(t.resumeFrom).toBe(4);
    t.markResume();
    expect(t.observe(u(TRADES, 5, 20))).toBe("lost");
    expect(t.observe(u(TRADES, 6, 21))).toBe("ok");
    expect(t.observe(u(TRADES, 8, 25))).toBe("gap");
  });

  it("skips what a resume sends again of a message it had partly seen", () => {
    const t = new SequenceTracker();
    expect([u(L3, 1, 7), u(L3, 2, 7), u(L3, 4, 7)].map((x) => t.observe(x))).toEqual(["ok", "ok", "gap"]);
    expect(t.resumeFrom).toBe(6);
    t.markResume();
    expect([u(L3, 1, 7), u(L3, 2, 7), u(L3, 3, 7), u(L3, 4, 7)].map((x) => t.observe(x))).toEqual([
      "duplicate",
      "duplicate",
      "ok",
      "ok",
    ]);
  });
});
