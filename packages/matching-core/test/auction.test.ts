import { describe, expect, it } from "vitest";
import { InstrumentState, OrderType, RejectReason, TimeInForce } from "../src/index.ts";
import { SIMPLE, Venue } from "./venue.ts";

const { PRE_OPEN, CONTINUOUS, HALTED } = InstrumentState;

/** A venue whose only instrument (reference 100) starts in the pre-open call phase. */
function preOpen(): Venue {
  return new Venue({ instruments: [{ ...SIMPLE.instruments[0]!, initialState: PRE_OPEN }] });
}

describe("pre-open call auction", () => {
  it("collects orders without matching, then uncrosses at the price of maximum volume", () => {
    const v = preOpen();
    // Demand and supply per candidate price (reference 100):
    //   price   98  100  101  103  104  105
    //   buy     60   60   30   30   10   10
    //   sell    15   15   40   40   50   50
    //   volume  15   15   30   30   10   10
    // 101 and 103 both trade 30 with imbalance 10; 101 is nearer the reference.
    v.buy({ id: 1, price: 105, qty: 10 });
    v.buy({ id: 2, price: 103, qty: 20 });
    v.buy({ id: 3, price: 100, qty: 30 });
    v.sell({ id: 4, price: 98, qty: 15 });
    expect(v.sell({ id: 5, price: 101, qty: 25 })).toEqual(["ACCEPTED #5 SELL 25@101", "BOOK SELL 101: 25"]);
    v.sell({ id: 6, price: 104, qty: 10 });
    expect(v.table()).toEqual({ bids: ["105 10", "103 20", "100 30"], asks: ["98 15", "101 25", "104 10"] });

    expect(v.state(CONTINUOUS)).toEqual([
      "STATE 0 CONTINUOUS",
      // the earlier order of each pair is the maker
      "TRADE #1<-#4 10@101 left 0/5",
      "TRADE #2<-#4 5@101 left 15/0",
      "TRADE #2<-#5 15@101 left 0/10",
      "BOOK BUY 105: 0",
      "BOOK BUY 103: 0",
      "BOOK SELL 98: 0",
      "BOOK SELL 101: 10",
    ]);
    expect(v.table()).toEqual({ bids: ["100 30"], asks: ["101 10", "104 10"] });
    expect(v.engine.book(0).lastPrice).toBe(101);
  });

  it("breaks a volume tie by the least imbalance before the reference price", () => {
    const v = preOpen();
    //   price   100  101  103  104
    //   buy      30   30   20   20
    //   sell     20   20   25   25
    //   volume   20   20   20   20
    //   imbal.   10   10    5    5   -> 103 and 104; 103 is nearer the reference 100
    v.buy({ id: 1, price: 104, qty: 20 });
    v.buy({ id: 2, price: 101, qty: 10 });
    v.sell({ id: 3, price: 100, qty: 20 });
    v.sell({ id: 4, price: 103, qty: 5 });
    expect(v.state(CONTINUOUS)).toEqual([
      "STATE 0 CONTINUOUS",
      "TRADE #1<-#3 20@103 left 0/0",
      "BOOK BUY 104: 0",
      "BOOK SELL 100: 0",
    ]);
    expect(v.table()).toEqual({ bids: ["101 10"], asks: ["103 5"] });
  });

  it("takes the reference price itself when two equally good prices are equally near it (NSE)", () => {
    const v = preOpen();
    // 98 and 102 both trade 10 with no imbalance; the reference 100 is the midpoint.
    v.buy({ id: 1, price: 102, qty: 10 });
    v.sell({ id: 2, price: 98, qty: 10 });
    expect(v.state(CONTINUOUS)).toEqual([
      "STATE 0 CONTINUOUS",
      "TRADE #1<-#2 10@100 left 0/0",
      "BOOK BUY 102: 0",
      "BOOK SELL 98: 0",
    ]);
  });

  it("prefers the nearer price when the reference is not the midpoint", () => {
    const v = preOpen();
    // 99 and 102 tie on volume and imbalance; 99 is nearer 100.
    v.buy({ id: 1, price: 102, qty: 10 });
    v.sell({ id: 2, price: 99, qty: 10 });
    expect(v.state(CONTINUOUS)[1]).toBe("TRADE #1<-#2 10@99 left 0/0");
  });

  it("carries unmatched orders into continuous trading with their original time priority", () => {
    const v = preOpen();
    v.buy({ id: 1, price: 100, qty: 30 });
    v.buy({ id: 2, price: 100, qty: 5 });
    v.sell({ id: 3, price: 100, qty: 10 });
    v.state(CONTINUOUS);
    expect(v.queue(1, 100)).toEqual([1, 2]);
    expect(v.table()).toEqual({ bids: ["100 25"], asks: [] });
    expect(v.sell({ id: 4, price: 100, qty: 27 })).toEqual([
      "ACCEPTED #4 SELL 27@100",
      "TRADE #1<-#4 20@100 left 0/7",
      "TRADE #2<-#4 5@100 left 0/2",
      "BOOK BUY 100: 0",
      "BOOK SELL 100: 2",
    ]);
  });

  it("does nothing at the open when the book does not cross", () => {
    const v = preOpen();
    v.buy({ id: 1, price: 99, qty: 5 });
    v.sell({ id: 2, price: 101, qty: 5 });
    expect(v.state(CONTINUOUS)).toEqual(["STATE 0 CONTINUOUS"]);
  });

  it("lets an iceberg trade its whole quantity in the auction, then refills at the back", () => {
    const v = preOpen();
    v.buy({ id: 1, price: 101, qty: 50, displayQty: 10 });
    v.buy({ id: 2, price: 101, qty: 5 });
    expect(v.table().bids).toEqual(["101 15"]);
    v.sell({ id: 3, price: 101, qty: 30 });
    expect(v.state(CONTINUOUS)).toEqual(["STATE 0 CONTINUOUS", "TRADE #1<-#3 30@101 left 20/0", "BOOK SELL 101: 0"]);
    // Its shown 10 went in the auction, so it refilled (10 of the 20 left) behind order 2.
    expect(v.queue(1, 101)).toEqual([2, 1]);
    expect(v.table().bids).toEqual(["101 15"]);
  });

  it("accepts only resting limit and stop orders in the call phase", () => {
    const v = preOpen();
    expect(v.buy({ id: 1, qty: 5, type: OrderType.MARKET, tif: TimeInForce.IOC })).toEqual([
      `REJECTED #1 ORDER_TYPE_NOT_ALLOWED`,
    ]);
    expect(v.buy({ id: 2, price: 100, qty: 5, tif: TimeInForce.IOC })[0]).toBe("REJECTED #2 ORDER_TYPE_NOT_ALLOWED");
    expect(v.buy({ id: 3, price: 100, qty: 5, flags: 1 })[0]).toBe("REJECTED #3 ORDER_TYPE_NOT_ALLOWED");
    expect(v.engine.events.reason[0]).toBe(RejectReason.ORDER_TYPE_NOT_ALLOWED);
    expect(v.buy({ id: 4, price: 100, qty: 5, type: OrderType.STOP_LIMIT, stopPrice: 105 })[0]).toBe(
      "ACCEPTED #4 BUY 5@100",
    );
  });

  it("re-opens a halted instrument through a call auction", () => {
    const v = new Venue();
    v.buy({ id: 1, price: 99, qty: 10 });
    v.sell({ id: 2, price: 101, qty: 10 });
    expect(v.state(HALTED)).toEqual(["STATE 0 HALTED"]);
    expect(v.buy({ id: 3, price: 101, qty: 1 })).toEqual(["REJECTED #3 INSTRUMENT_HALTED"]);
    expect(v.cancel(1)).toEqual(["CANCELLED #1 10 USER left 0", "BOOK BUY 99: 0"]);
    v.state(PRE_OPEN);
    v.buy({ id: 4, price: 102, qty: 4 });
    expect(v.state(CONTINUOUS)).toEqual([
      "STATE 0 CONTINUOUS",
      "TRADE #2<-#4 4@101 left 6/0",
      "BOOK BUY 102: 0",
      "BOOK SELL 101: 6",
    ]);
  });

  it("uncrosses a book that was left crossed when it goes straight from halted to continuous", () => {
    const v = preOpen();
    v.buy({ id: 1, price: 103, qty: 10 });
    v.sell({ id: 2, price: 97, qty: 10 });
    v.state(HALTED);
    expect(v.state(CONTINUOUS)).toEqual([
      "STATE 0 CONTINUOUS",
      "TRADE #1<-#2 10@100 left 0/0",
      "BOOK BUY 103: 0",
      "BOOK SELL 97: 0",
    ]);
  });
});

describe("self-trade prevention in the call auction (NSE: at order entry, whatever the mode)", () => {
  it.each([
    ["a buy that crosses its own account's resting sell", { id: 2, price: 101, qty: 5, account: 7 }, true],
    ["a buy at exactly its own sell's price", { id: 2, price: 100, qty: 5, account: 7 }, true],
    ["a buy below its own sell", { id: 2, price: 99, qty: 5, account: 7 }, false],
    ["a buy of another account crossing the sell", { id: 2, price: 101, qty: 5, account: 8 }, false],
    ["a buy of another account in the same STP group", { id: 2, price: 101, qty: 5, account: 8, stpGroup: 3 }, true],
    [
      "a buy that asks to cancel the maker (the mode does not matter)",
      { id: 2, price: 101, qty: 5, account: 7, stpMode: 0 },
      true,
    ],
  ])("refuses %s with SELF_TRADE", (_name, buy, refused) => {
    const v = preOpen();
    v.sell({ id: 1, price: 100, qty: 5, account: 7, stpGroup: 3 });
    const events = v.buy(buy);
    expect(events[0]).toBe(refused ? "REJECTED #2 SELF_TRADE" : "ACCEPTED #2 BUY 5@" + buy.price);
  });

  it("refuses a replace that would cross its owner's resting order, and leaves the order as it was", () => {
    const v = preOpen();
    v.sell({ id: 1, price: 102, qty: 5, account: 7 });
    v.buy({ id: 2, price: 100, qty: 5, account: 7 });
    expect(v.replace(2, 102, 5, 7)).toEqual(["REJECTED #2 SELF_TRADE"]);
    expect(v.table()).toEqual({ bids: ["100 5"], asks: ["102 5"] });
  });

  it("so the uncross never matches two orders of one owner", () => {
    const v = preOpen();
    v.sell({ id: 1, price: 100, qty: 5, account: 7 });
    v.buy({ id: 2, price: 101, qty: 5, account: 7 });
    v.buy({ id: 3, price: 101, qty: 5, account: 8 });
    expect(v.state(CONTINUOUS)).toEqual([
      "STATE 0 CONTINUOUS",
      "TRADE #1<-#3 5@100 left 0/0",
      "BOOK BUY 101: 0",
      "BOOK SELL 100: 0",
    ]);
  });
});

describe("a session change with a new reference price", () => {
  it("moves the price band and the auction's tie-break to the new reference", () => {
    const v = preOpen();
    v.state(InstrumentState.CLOSED);
    // Reference 100, band 20%: 80..120. Moved to 200: 160..240.
    expect(v.state(PRE_OPEN, 0, 200)[0]).toBe("STATE 0 PRE_OPEN");
    expect(v.buy({ id: 1, price: 230, qty: 5, account: 1 })[0]).toBe("ACCEPTED #1 BUY 5@230");
    expect(v.buy({ id: 9, price: 110, qty: 5, account: 1 })).toEqual(["REJECTED #9 OUTSIDE_PRICE_BAND"]);
    // A tie between 190 and 210, equally near 200: the reference itself (it was 100 before).
    v.buy({ id: 2, price: 210, qty: 5, account: 2 });
    v.sell({ id: 3, price: 190, qty: 10, account: 3 });
    expect(v.state(CONTINUOUS).filter((e) => e.startsWith("TRADE"))).toEqual([
      "TRADE #1<-#3 5@200 left 0/5",
      "TRADE #2<-#3 5@200 left 0/0",
    ]);
    expect(v.engine.book(0).lastPrice).toBe(200);
  });

  it("is refused while orders rest in the book, and changes nothing", () => {
    const v = preOpen();
    v.buy({ id: 1, price: 100, qty: 5 });
    expect(v.state(CONTINUOUS, 0, 200)).toEqual(["REJECTED #0 INVALID_STATE_TRANSITION"]);
    expect(v.engine.book(0).state).toBe(PRE_OPEN);
    expect(v.buy({ id: 2, price: 230, qty: 5 })).toEqual(["REJECTED #2 OUTSIDE_PRICE_BAND"]);
  });

  it.each([
    ["not a whole number of ticks", 200.5, "INVALID_PRICE"],
    ["for every instrument at once", 200, "INVALID_COMMAND"],
  ])("is refused when %s", (name, reference, reason) => {
    const v = preOpen();
    v.state(InstrumentState.CLOSED);
    const all = name.includes("every");
    expect(v.state(PRE_OPEN, all ? -1 : 0, reference)[0]).toMatch(new RegExp(`REJECTED.* ${reason}`));
  });
});
