import { describe, expect, it } from "vitest";
import { Side } from "@tradeplane/contracts";
import { indicativeAuction } from "../../src/domain/auction.ts";

const REF = 100;
const q = (price: number, qty: number) => ({ price, qty });

describe("indicativeAuction: the engine's uncross rule on a pre-open book", () => {
  it.each([
    {
      name: "an uncrossed book does not uncross",
      bids: [q(99, 5)],
      asks: [q(100, 5)],
      want: [0, 0, 0, Side.UNSPECIFIED],
    },
    { name: "one side empty", bids: [q(101, 5)], asks: [], want: [0, 0, 0, Side.UNSPECIFIED] },
    {
      name: "the price of the largest volume",
      bids: [q(103, 10), q(101, 10)],
      asks: [q(100, 5), q(102, 20)],
      want: [102, 10, 15, Side.SELL],
    },
    {
      name: "equal volume: the least imbalance",
      bids: [q(102, 10)],
      asks: [q(100, 10), q(101, 5)],
      want: [100, 10, 0, Side.UNSPECIFIED],
    },
    {
      name: "equal volume and imbalance: the nearest the reference price",
      bids: [q(105, 10)],
      asks: [q(98, 10)],
      want: [98, 10, 0, Side.UNSPECIFIED],
    },
    {
      name: "two candidates equally near the reference: the reference price itself",
      bids: [q(102, 10)],
      asks: [q(98, 10)],
      want: [REF, 10, 0, Side.UNSPECIFIED],
    },
    {
      name: "more demand than supply, tie broken towards the reference",
      bids: [q(101, 30)],
      asks: [q(100, 10)],
      want: [100, 10, 20, Side.BUY],
    },
  ])("$name", ({ bids, asks, want }) => {
    const a = indicativeAuction(bids, asks, REF);
    expect([a.indicativePrice, a.matchedQty, a.imbalanceQty, a.imbalanceSide]).toEqual(want);
  });
});
