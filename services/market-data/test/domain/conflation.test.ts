import { describe, expect, it } from "vitest";
import {
  MarketDataChannel,
  Side,
  type BookLevel,
  type LevelChange,
  type SubscribeResponse,
} from "@tradeplane/contracts";
import { prng } from "@tradeplane/testkit";
import { applyToSnapshot, conflate, levelDiff, mergeLevelChanges } from "../../src/domain/conflation.ts";

const lvl = (price: number, qty: number, orderCount = 1): BookLevel => ({ price, qty, orderCount });
const chg = (side: Side, price: number, qty: number, orderCount = qty === 0 ? 0 : 1): LevelChange => ({
  side,
  price,
  qty,
  orderCount,
});

describe("levelDiff: what a subscriber of a depth is sent", () => {
  it.each([
    { name: "nothing changed", before: [lvl(10, 5)], after: [lvl(10, 5)], want: [] },
    { name: "a level's quantity changed", before: [lvl(10, 5)], after: [lvl(10, 7)], want: [chg(Side.BUY, 10, 7)] },
    {
      name: "a level's order count changed",
      before: [lvl(10, 5)],
      after: [lvl(10, 5, 2)],
      want: [chg(Side.BUY, 10, 5, 2)],
    },
    {
      name: "a better level pushed the last one out of the depth",
      before: [lvl(10, 5), lvl(9, 1)],
      after: [lvl(11, 2), lvl(10, 5)],
      want: [chg(Side.BUY, 11, 2), chg(Side.BUY, 9, 0)],
    },
    {
      name: "the best level went and a deeper one entered with its full quantity",
      before: [lvl(11, 2), lvl(10, 5)],
      after: [lvl(10, 5), lvl(8, 40)],
      want: [chg(Side.BUY, 8, 40), chg(Side.BUY, 11, 0)],
    },
  ])("$name", ({ before, after, want }) => {
    expect(levelDiff(Side.BUY, before, after)).toEqual(want);
  });
});

function l2(update: SubscribeResponse["update"], sequence: number): SubscribeResponse {
  return {
    sequence,
    sourceSequence: sequence * 10,
    instrument: "INFY",
    channel: MarketDataChannel.L2,
    time: undefined,
    update,
  };
}

describe("conflate: one update standing for two", () => {
  it("merges two L2 updates, the later change of a level winning", () => {
    const a = l2({ $case: "bookUpdate", value: { changes: [chg(Side.BUY, 10, 5), chg(Side.SELL, 12, 1)] } }, 1);
    const b = l2({ $case: "bookUpdate", value: { changes: [chg(Side.BUY, 10, 0), chg(Side.BUY, 9, 3)] } }, 2);
    expect(conflate(a, b)).toEqual({
      ...b,
      update: {
        $case: "bookUpdate",
        value: { changes: [chg(Side.SELL, 12, 1), chg(Side.BUY, 10, 0), chg(Side.BUY, 9, 3)] },
      },
    });
  });

  it("applies an L2 update to a pending snapshot, keeping it sorted and cut to its depth", () => {
    const snap = l2(
      { $case: "bookSnapshot", value: { depth: 2, bids: [lvl(10, 5), lvl(9, 1)], asks: [lvl(12, 1)] } },
      1,
    );
    const up = l2(
      { $case: "bookUpdate", value: { changes: [chg(Side.BUY, 11, 2), chg(Side.BUY, 9, 0), chg(Side.SELL, 12, 0)] } },
      2,
    );
    expect(conflate(snap, up).update).toEqual({
      $case: "bookSnapshot",
      value: { depth: 2, bids: [lvl(11, 2), lvl(10, 5)], asks: [] },
    });
  });

  it("keeps the later of two full-state updates (L1)", () => {
    const a = {
      ...l2({ $case: "topOfBook", value: { bid: lvl(10, 1), ask: undefined } }, 1),
      channel: MarketDataChannel.L1,
    };
    const b = {
      ...l2({ $case: "topOfBook", value: { bid: lvl(11, 1), ask: undefined } }, 2),
      channel: MarketDataChannel.L1,
    };
    expect(conflate(a, b)).toBe(b);
  });

  it("random streams of level changes: applying the merged list equals applying each in turn", () => {
    const rnd = prng(3);
    for (let run = 0; run < 200; run++) {
      const start = { depth: 1_000, bids: [lvl(100, 5), lvl(99, 3)], asks: [lvl(101, 4)] };
      let stepwise = start;
      let merged: LevelChange[] = [];
      for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++) {
        const changes = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => {
          const qty = rnd() < 0.3 ? 0 : 1 + Math.floor(rnd() * 9);
          return chg(rnd() < 0.5 ? Side.BUY : Side.SELL, 95 + Math.floor(rnd() * 12), qty);
        });
        stepwise = applyToSnapshot(stepwise, changes);
        merged = mergeLevelChanges(merged, changes);
      }
      expect(applyToSnapshot(start, merged)).toEqual(stepwise);
    }
  });
});
