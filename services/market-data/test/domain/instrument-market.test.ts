import { describe, expect, it } from "vitest";
import {
  Command,
  InstrumentState,
  MarketDataChannel,
  OrderChangeAction,
  Side,
  TimeInForce,
  type EngineEvent,
} from "@tradeplane/contracts";
import { newLimitOrder } from "@tradeplane/testkit";
import { Partition } from "@tradeplane/matching-core/partition";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { MarketState } from "../../src/domain/market-state.ts";
import { richInstrumentSettings } from "../support/rich-stream.ts";

const T0 = 1_767_225_600;

/** A venue driven through the engine's pure partition: commands in, events into the market state. */
function venue(initial: "CONTINUOUS" | "PRE_OPEN" = "CONTINUOUS") {
  const settings = richInstrumentSettings.map((i) => ({ ...i, initialState: initial }));
  const partition = Partition.create({ engine: engineConfigOf({ instruments: settings }) });
  const market = new MarketState(
    settings.map((i) => ({
      symbol: i.symbol,
      referencePrice: i.referencePrice,
      notionalPerTickLot: 2,
      initialState: InstrumentState[i.initialState],
    })),
    { tradesKept: 100, barsKept: 100 },
  );
  let seq = 0;
  let source = 0;
  const run = (body: Command["body"], seconds = 0, account = "a"): EngineEvent[] => {
    const command: Command = {
      timestamp: { seconds: T0 + seconds, nanos: 0 },
      account,
      source: "t",
      traceparent: "",
      ownerEpoch: 0,
      body,
    };
    partition.apply(++seq, Command.decode(Command.encode(command).finish()));
    const events = partition.wireEvents();
    for (const e of events) market.apply(++source, e);
    return events;
  };
  const order = (
    side: Side,
    price: number,
    qty: number,
    o: { seconds?: number; account?: string; displayQty?: number; instrument?: string } = {},
  ) =>
    run(
      newLimitOrder({
        clientOrderId: `c${seq}`,
        instrument: o.instrument ?? "INFY",
        side,
        timeInForce: TimeInForce.GTC,
        price,
        qty,
        displayQty: o.displayQty ?? 0,
      }),
      o.seconds ?? 0,
      o.account ?? `acct${seq}`,
    );
  const state = (s: InstrumentState, seconds = 0) =>
    run(
      { $case: "setInstrumentState", value: { instrument: "INFY", state: s, reason: "test", fromStates: [] } },
      seconds,
    );
  return { market, infy: market.instruments.get("INFY")!, order, state, run };
}

describe("InstrumentMarket", () => {
  it("numbers each channel's updates from 1 without gaps, with the event-log position as source", () => {
    const v = venue();
    v.order(Side.SELL, 100_010, 5);
    v.order(Side.SELL, 100_011, 5);
    v.order(Side.BUY, 100_011, 7);
    const out = v.market.takeOutbox();
    const l3 = out.filter((u) => u.channel === MarketDataChannel.L3);
    const trades = out.filter((u) => u.channel === MarketDataChannel.TRADES);
    expect(l3.map((u) => u.sequence)).toEqual([1, 2, 3]);
    expect(trades.map((u) => u.sequence)).toEqual([1, 2]);
    expect(
      trades.map(
        (u) => u.update?.$case === "trade" && [u.update.value.price, u.update.value.qty, u.update.value.aggressorSide],
      ),
    ).toEqual([
      [100_010, 5, Side.BUY],
      [100_011, 2, Side.BUY],
    ]);
    for (let i = 1; i < out.length; i++)
      expect(out[i]!.sourceSequence).toBeGreaterThanOrEqual(out[i - 1]!.sourceSequence);
    expect(v.infy.sequence(MarketDataChannel.L2)).toBe(3);
  });

  it("an iceberg shows its displayed part and goes to the back of its level when it refills", () => {
    const v = venue();
    v.order(Side.SELL, 100_010, 10, { displayQty: 3 });
    v.order(Side.SELL, 100_010, 4);
    v.market.takeOutbox();
    expect(v.infy.orderBookSnapshot().asks).toEqual([
      { orderId: 1, price: 100_010, qty: 3 },
      { orderId: 2, price: 100_010, qty: 4 },
    ]);
    v.order(Side.BUY, 100_010, 3);
    const l3 = v.market.takeOutbox().find((u) => u.channel === MarketDataChannel.L3)!;
    expect(l3.update).toEqual({
      $case: "orderBookUpdate",
      value: {
        changes: [
          { action: OrderChangeAction.DELETE, orderId: 1, side: Side.SELL, price: 100_010, qty: 0 },
          { action: OrderChangeAction.ADD, orderId: 1, side: Side.SELL, price: 100_010, qty: 3 },
        ],
      },
    });
    expect(v.infy.orderBookSnapshot().asks.map((o) => o.orderId)).toEqual([2, 1]);
    expect(v.infy.bookSnapshot(5).asks).toEqual([{ price: 100_010, qty: 7, orderCount: 2 }]);
  });

  it("session statistics: VWAP by notional; reset when the instrument opens again after a close", () => {
    const v = venue();
    v.order(Side.SELL, 100_010, 5);
    v.order(Side.BUY, 100_010, 2);
    v.order(Side.BUY, 100_010, 3);
    expect(v.infy.statsMessage()).toEqual({
      open: 100_010,
      high: 100_010,
      low: 100_010,
      last: 100_010,
      volume: 5,
      notional: 100_010 * 5 * 2,
      tradeCount: 2,
      referencePrice: 100_000,
    });
    v.state(InstrumentState.CLOSED);
    expect(v.infy.statsMessage().volume).toBe(5);
    v.state(InstrumentState.PRE_OPEN);
    expect(v.infy.statsMessage()).toMatchObject({ volume: 0, tradeCount: 0, open: 0, last: 0 });
    expect(v.infy.statusMessage()).toEqual({ state: InstrumentState.PRE_OPEN, reason: "test" });
  });

  it("announces the indicative auction while pre-open, and nothing once open", () => {
    const v = venue("PRE_OPEN");
    v.order(Side.BUY, 100_005, 10);
    v.order(Side.SELL, 99_995, 4);
    // Two candidates equally near the reference: the uncross is at the reference price itself.
    expect(v.infy.auctionInfo()).toEqual({
      indicativePrice: 100_000,
      matchedQty: 4,
      imbalanceQty: 6,
      imbalanceSide: Side.BUY,
    });
    expect(v.infy.dirty.auction).toBe(true);
    const events = v.state(InstrumentState.CONTINUOUS);
    const trades = events.filter((e) => e.body?.$case === "trade");
    expect(trades.map((e) => e.body?.$case === "trade" && [e.body.value.price, e.body.value.qty])).toEqual([
      [100_000, 4],
    ]);
    expect(v.infy.auctionInfo().indicativePrice).toBe(0);
    const print = v.market.takeOutbox().find((u) => u.update?.$case === "trade")!;
    expect(print.update).toMatchObject({ value: { aggressorSide: Side.UNSPECIFIED } });
  });

  it("a quiet instrument's bar closes when engine time passes its end on another instrument's event", () => {
    const v = venue();
    v.order(Side.SELL, 100_010, 5, { seconds: 1 });
    v.order(Side.BUY, 100_010, 5, { seconds: 2 });
    v.infy.dirty.bars.clear();
    expect(v.infy.bars.get(2)!.current).toMatchObject({ closed: false, volume: 5 });
    v.order(Side.BUY, 99_000, 1, { seconds: 61, instrument: "TCS" });
    expect(v.infy.bars.get(2)!.current).toBeUndefined();
    expect([...v.infy.dirty.bars.get(2)!.values()]).toMatchObject([{ start: T0, closed: true, volume: 5 }]);
  });
});
