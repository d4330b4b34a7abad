import { describe, expect, it } from "vitest";
import { OrderType, StpMode, TimeInForce } from "../src/index.ts";
import { Venue } from "./venue.ts";

describe("price-time matching", () => {
  it("trades at the maker's price, best price first, FIFO within a level", () => {
    const v = new Venue();
    v.sell({ id: 1, price: 101, qty: 5 });
    v.sell({ id: 2, price: 100, qty: 5 });
    v.sell({ id: 3, price: 100, qty: 5 });
    expect(v.buy({ id: 4, price: 102, qty: 12 })).toEqual([
      "ACCEPTED #4 BUY 12@102",
      "TRADE #2<-#4 5@100 left 0/7",
      "TRADE #3<-#4 5@100 left 0/2",
      "BOOK SELL 100: 0",
      "TRADE #1<-#4 2@101 left 3/0",
      "BOOK SELL 101: 3",
    ]);
  });

  it("ends the remainder of IOC and market orders, rests the rest", () => {
    const v = new Venue();
    v.sell({ id: 1, price: 100, qty: 5 });
    expect(v.buy({ id: 2, price: 100, qty: 8, tif: TimeInForce.IOC })).toEqual([
      "ACCEPTED #2 BUY 8@100",
      "TRADE #1<-#2 5@100 left 0/3",
      "BOOK SELL 100: 0",
      "CANCELLED #2 3 IOC_REMAINDER left 0",
    ]);
    expect(v.buy({ id: 3, qty: 4, type: OrderType.MARKET, tif: TimeInForce.IOC })).toEqual([
      "ACCEPTED #3 BUY 4@0",
      "CANCELLED #3 4 IOC_REMAINDER left 0",
    ]);
  });

  it("never lets a market order trade outside the price band (or its own protection price)", () => {
    const v = new Venue(); // band 80..120
    v.sell({ id: 1, price: 110, qty: 5 });
    v.sell({ id: 2, price: 120, qty: 5 });
    expect(v.buy({ id: 3, qty: 20, type: OrderType.MARKET, tif: TimeInForce.IOC, price: 115 })).toEqual([
      "ACCEPTED #3 BUY 20@115",
      "TRADE #1<-#3 5@110 left 0/15",
      "BOOK SELL 110: 0",
      "CANCELLED #3 15 IOC_REMAINDER left 0",
    ]);
    expect(v.sell({ id: 4, price: 121, qty: 1 })).toEqual(["REJECTED #4 OUTSIDE_PRICE_BAND"]);
    expect(v.buy({ id: 5, qty: 20, type: OrderType.MARKET, tif: TimeInForce.IOC })[1]).toBe(
      "TRADE #2<-#5 5@120 left 0/15",
    );
  });

  it("rejects a post-only order that would take, and a FOK order it cannot fill at once", () => {
    const v = new Venue();
    v.sell({ id: 1, price: 100, qty: 5 });
    expect(v.buy({ id: 2, price: 100, qty: 1, flags: 1 })).toEqual(["REJECTED #2 POST_ONLY_WOULD_TAKE"]);
    expect(v.buy({ id: 3, price: 99, qty: 1, flags: 1 })).toEqual(["ACCEPTED #3 BUY 1@99", "BOOK BUY 99: 1"]);
    expect(v.buy({ id: 4, price: 100, qty: 6, tif: TimeInForce.FOK })).toEqual(["REJECTED #4 FOK_NOT_FILLABLE"]);
    expect(v.buy({ id: 5, price: 100, qty: 5, tif: TimeInForce.FOK })).toEqual([
      "ACCEPTED #5 BUY 5@100",
      "TRADE #1<-#5 5@100 left 0/0",
      "BOOK SELL 100: 0",
    ]);
  });
});

describe("self-trade prevention", () => {
  /** Resting: #1 (account 7) then #2 (account 8), both sell 10 @ 100. */
  function book(): Venue {
    const v = new Venue();
    v.sell({ id: 1, price: 100, qty: 10, account: 7 });
    v.sell({ id: 2, price: 100, qty: 10, account: 8 });
    return v;
  }

  it("cancels the resting order by default (NSE) and goes on matching", () => {
    const v = book();
    expect(v.buy({ id: 3, price: 100, qty: 15, account: 7 })).toEqual([
      "ACCEPTED #3 BUY 15@100",
      "CANCELLED #1 10 STP left 0",
      "TRADE #2<-#3 10@100 left 0/5",
      "BOOK SELL 100: 0",
      "BOOK BUY 100: 5",
    ]);
  });

  it("cancels the incoming order in CANCEL_INCOMING mode", () => {
    const v = book();
    expect(v.buy({ id: 3, price: 100, qty: 15, account: 7, stpMode: StpMode.CANCEL_INCOMING })).toEqual([
      "ACCEPTED #3 BUY 15@100",
      "CANCELLED #3 15 STP left 0",
    ]);
    expect(v.queue(2, 100)).toEqual([1, 2]);
  });

  it("cancels both in CANCEL_BOTH mode", () => {
    const v = book();
    expect(v.buy({ id: 3, price: 100, qty: 15, account: 7, stpMode: StpMode.CANCEL_BOTH })).toEqual([
      "ACCEPTED #3 BUY 15@100",
      "CANCELLED #1 10 STP left 0",
      "CANCELLED #3 15 STP left 0",
      "BOOK SELL 100: 10",
    ]);
  });

  it("decrements both by the smaller quantity in DECREMENT mode, without a trade", () => {
    const v = book();
    expect(v.buy({ id: 3, price: 100, qty: 15, account: 7, stpMode: StpMode.DECREMENT })).toEqual([
      "ACCEPTED #3 BUY 15@100",
      "CANCELLED #1 10 STP left 0",
      "CANCELLED #3 10 STP left 5",
      "TRADE #2<-#3 5@100 left 5/0",
      "BOOK SELL 100: 5",
    ]);
    const w = book();
    expect(w.buy({ id: 4, price: 100, qty: 4, account: 7, stpMode: StpMode.DECREMENT })).toEqual([
      "ACCEPTED #4 BUY 4@100",
      "CANCELLED #1 4 STP left 6",
      "CANCELLED #4 4 STP left 0",
      "BOOK SELL 100: 16",
    ]);
    expect(w.queue(2, 100)).toEqual([1, 2]);
  });

  it("treats orders of one STP group as the same owner, across accounts", () => {
    const v = new Venue();
    v.sell({ id: 1, price: 100, qty: 10, account: 7, stpGroup: 5 });
    expect(v.buy({ id: 2, price: 100, qty: 10, account: 8, stpGroup: 5 })).toEqual([
      "ACCEPTED #2 BUY 10@100",
      "CANCELLED #1 10 STP left 0",
      "BOOK SELL 100: 0",
      "BOOK BUY 100: 10",
    ]);
    v.sell({ id: 3, price: 100, qty: 4, account: 9, stpGroup: 6 });
    expect(v.trades()).toEqual(["TRADE #2<-#3 4@100 left 6/0"]);
  });

  it("does not count self orders towards a FOK fill", () => {
    const v = book();
    expect(v.buy({ id: 3, price: 100, qty: 15, account: 7, tif: TimeInForce.FOK })).toEqual([
      "REJECTED #3 FOK_NOT_FILLABLE",
    ]);
    expect(v.buy({ id: 4, price: 100, qty: 10, account: 7, tif: TimeInForce.FOK })).toEqual([
      "ACCEPTED #4 BUY 10@100",
      "CANCELLED #1 10 STP left 0",
      "TRADE #2<-#4 10@100 left 0/0",
      "BOOK SELL 100: 0",
    ]);
  });
});

describe("iceberg orders", () => {
  it("shows only the disclosed part, refills from the hidden part and goes to the back of the queue", () => {
    const v = new Venue();
    expect(v.sell({ id: 1, price: 100, qty: 50, displayQty: 10 })).toEqual([
      "ACCEPTED #1 SELL 50@100",
      "BOOK SELL 100: 10",
    ]);
    v.sell({ id: 2, price: 100, qty: 5 });
    expect(v.table().asks).toEqual(["100 15"]);
    expect(v.buy({ id: 3, price: 100, qty: 12 })).toEqual([
      "ACCEPTED #3 BUY 12@100",
      "TRADE #1<-#3 10@100 left 40/2",
      "TRADE #2<-#3 2@100 left 3/0",
      "BOOK SELL 100: 13",
    ]);
    expect(v.queue(2, 100)).toEqual([2, 1]);
    // A bigger taker meets the refilled slice again after the orders ahead of it.
    expect(v.buy({ id: 4, price: 100, qty: 20 })).toEqual([
      "ACCEPTED #4 BUY 20@100",
      "TRADE #2<-#4 3@100 left 0/17",
      "TRADE #1<-#4 10@100 left 30/7",
      "TRADE #1<-#4 7@100 left 23/0",
      "BOOK SELL 100: 3",
    ]);
  });

  it("takes with its whole quantity as the incoming order and rests showing only its display size", () => {
    const v = new Venue();
    v.sell({ id: 1, price: 100, qty: 30 });
    expect(v.buy({ id: 2, price: 100, qty: 50, displayQty: 10 })).toEqual([
      "ACCEPTED #2 BUY 50@100",
      "TRADE #1<-#2 30@100 left 0/20",
      "BOOK SELL 100: 0",
      "BOOK BUY 100: 10",
    ]);
  });

  it("rejects a display size that is not a positive multiple of the lot up to the quantity", () => {
    const v = new Venue();
    expect(v.buy({ id: 1, price: 100, qty: 10, displayQty: 11 })).toEqual(["REJECTED #1 INVALID_DISPLAY_QTY"]);
    expect(v.buy({ id: 2, qty: 10, displayQty: 5, type: OrderType.MARKET, tif: TimeInForce.IOC })).toEqual([
      "REJECTED #2 INVALID_DISPLAY_QTY",
    ]);
  });
});

describe("stop orders", () => {
  it("trigger on the last trade price and then trade as market or limit orders", () => {
    const v = new Venue();
    expect(v.buy({ id: 1, qty: 5, type: OrderType.STOP_MARKET, tif: TimeInForce.DAY, stopPrice: 102 })).toEqual([
      "ACCEPTED #1 BUY 5@0",
    ]);
    v.sell({ id: 2, price: 101, qty: 1 });
    v.sell({ id: 3, price: 102, qty: 1 });
    v.sell({ id: 4, price: 105, qty: 10 });
    expect(v.buy({ id: 5, price: 101, qty: 1 })).toEqual([
      "ACCEPTED #5 BUY 1@101",
      "TRADE #2<-#5 1@101 left 0/0",
      "BOOK SELL 101: 0",
    ]);
    expect(v.buy({ id: 6, price: 102, qty: 1 })).toEqual([
      "ACCEPTED #6 BUY 1@102",
      "TRADE #3<-#6 1@102 left 0/0",
      "BOOK SELL 102: 0",
      "TRIGGERED #1 at 102",
      "TRADE #4<-#1 5@105 left 5/0",
      "BOOK SELL 105: 5",
    ]);
  });

  it("trigger in a deterministic order: buy stops lowest first, FIFO on equal stops, and cascade", () => {
    const v = new Venue();
    v.buy({ id: 1, price: 110, qty: 1, type: OrderType.STOP_LIMIT, stopPrice: 103 });
    v.buy({ id: 2, price: 110, qty: 1, type: OrderType.STOP_LIMIT, stopPrice: 102 });
    v.buy({ id: 3, price: 110, qty: 1, type: OrderType.STOP_LIMIT, stopPrice: 102 });
    v.buy({ id: 4, price: 110, qty: 1, type: OrderType.STOP_LIMIT, stopPrice: 104 });
    v.sell({ id: 10, price: 102, qty: 1 });
    v.sell({ id: 11, price: 103, qty: 1 });
    v.sell({ id: 12, price: 104, qty: 1 });
    v.sell({ id: 13, price: 105, qty: 1 });
    expect(v.buy({ id: 20, price: 102, qty: 1 })).toEqual([
      "ACCEPTED #20 BUY 1@102",
      "TRADE #10<-#20 1@102 left 0/0",
      "BOOK SELL 102: 0",
      "TRIGGERED #2 at 102",
      "TRADE #11<-#2 1@103 left 0/0",
      "BOOK SELL 103: 0",
      "TRIGGERED #3 at 102",
      "TRADE #12<-#3 1@104 left 0/0",
      "BOOK SELL 104: 0",
      "TRIGGERED #1 at 103",
      "TRADE #13<-#1 1@105 left 0/0",
      "BOOK SELL 105: 0",
      "TRIGGERED #4 at 104",
      "BOOK BUY 110: 1",
    ]);
  });

  it("trigger at once when the last price already reached the stop, sell stops on a falling price", () => {
    const v = new Venue(); // last price starts at the reference, 100
    v.buy({ id: 1, price: 95, qty: 3 });
    expect(v.sell({ id: 2, qty: 3, type: OrderType.STOP_MARKET, tif: TimeInForce.GTC, stopPrice: 100 })).toEqual([
      "ACCEPTED #2 SELL 3@0",
      "TRIGGERED #2 at 100",
      "TRADE #1<-#2 3@95 left 0/0",
      "BOOK BUY 95: 0",
    ]);
  });

  it("can be cancelled while parked, but not replaced", () => {
    const v = new Venue();
    v.buy({ id: 1, price: 110, qty: 1, type: OrderType.STOP_LIMIT, stopPrice: 105 });
    expect(v.replace(1, 111, 1)).toEqual(["REJECTED #1 ORDER_TYPE_NOT_ALLOWED"]);
    expect(v.cancel(1)).toEqual(["CANCELLED #1 1 USER left 0"]);
  });
});

describe("replace", () => {
  /** Bids at 100: #1 then #2, 10 each. */
  function book(): Venue {
    const v = new Venue();
    v.buy({ id: 1, price: 100, qty: 10 });
    v.buy({ id: 2, price: 100, qty: 10 });
    return v;
  }

  it("keeps time priority on a pure quantity decrease", () => {
    const v = book();
    expect(v.replace(1, 100, 6)).toEqual(["REPLACED #1 6@100 left 6", "BOOK BUY 100: 16"]);
    expect(v.queue(1, 100)).toEqual([1, 2]);
  });

  it("loses time priority on a quantity increase or a price change", () => {
    const v = book();
    expect(v.replace(1, 100, 12)).toEqual(["REPLACED #1 12@100 left 12", "BOOK BUY 100: 10", "BOOK BUY 100: 22"]);
    expect(v.queue(1, 100)).toEqual([2, 1]);
    const w = book();
    expect(w.replace(1, 99, 10)).toEqual(["REPLACED #1 10@99 left 10", "BOOK BUY 100: 10", "BOOK BUY 99: 10"]);
    w.replace(1, 100, 10);
    expect(w.queue(1, 100)).toEqual([2, 1]);
  });

  it("never overfills: the new quantity counts what has already been executed", () => {
    const v = book();
    v.sell({ id: 3, price: 100, qty: 6 }); // #1 has 4 left of 10
    expect(v.replace(1, 100, 8)).toEqual(["REPLACED #1 8@100 left 2", "BOOK BUY 100: 12"]);
    expect(v.queue(1, 100)).toEqual([1, 2]);
    expect(v.replace(1, 100, 6)).toEqual(["REPLACED #1 6@100 left 0", "BOOK BUY 100: 10"]);
    expect(v.queue(1, 100)).toEqual([2]);
  });

  it("may trade at once when the new price crosses", () => {
    const v = book();
    v.sell({ id: 3, price: 101, qty: 4 });
    expect(v.replace(2, 101, 10)).toEqual([
      "REPLACED #2 10@101 left 10",
      "BOOK BUY 100: 10",
      "TRADE #3<-#2 4@101 left 0/6",
      "BOOK SELL 101: 0",
      "BOOK BUY 101: 6",
    ]);
  });

  it("is refused for another account's order, an unknown order, or a finished one", () => {
    const v = book();
    expect(v.replace(1, 100, 5, 99)).toEqual(["REJECTED #1 NOT_OWNER"]);
    expect(v.replace(77, 100, 5)).toEqual(["REJECTED #77 UNKNOWN_ORDER"]);
    v.cancel(2);
    expect(v.replace(2, 100, 5)).toEqual(["REJECTED #2 UNKNOWN_ORDER"]);
    expect(v.cancel(2)).toEqual(["REJECTED #2 UNKNOWN_ORDER"]);
  });
});
