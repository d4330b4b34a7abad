import { describe, expect, it } from "vitest";
import { InstrumentState, RejectReason, RequestAck, Side, type OrderRequest } from "@tradeplane/contracts";
import { StrategyDriver } from "../../src/strategy/strategy-driver.ts";
import type { MarketView } from "../../src/strategy/strategy.ts";

const market: MarketView = {
  instruments: () => ["INFY"],
  levels: () => ({ bids: [], asks: [] }),
  bestBid: () => undefined,
  bestAsk: () => undefined,
  lastPrice: () => 0,
  referencePrice: () => 100,
  state: () => InstrumentState.CONTINUOUS,
  notionalPerTickLot: () => 1,
  tickSize: () => 1,
  updatedAtMs: () => 0,
};

describe("StrategyDriver", () => {
  it("tells the strategy of a request the gateway refused by its ack (no report follows), and nothing is pending", () => {
    const sent: OrderRequest[] = [];
    const refused: [string, number][] = [];
    let id = "";
    const driver = new StrategyDriver({
      account: "a",
      orders: { send: (r) => sent.push(r) },
      market,
      clock: () => 0,
      clientOrderIdPrefix: "t-",
      strategy: {
        onStart: (ctx) => {
          const r = ctx.submit({ instrument: "INFY", side: Side.BUY, price: 100, qty: 1 });
          if (r.ok) id = r.clientOrderId;
        },
        onRequestRefused: (ctx, clientOrderId, reason) => {
          refused.push([clientOrderId, reason]);
          expect(ctx.pendingCount).toBe(0);
        },
      },
    });
    driver.start();
    expect(sent).toHaveLength(1);
    driver.onAck(RequestAck.fromPartial({ clientOrderId: id, accepted: false, rejectReason: RejectReason.THROTTLED }));
    expect(refused).toEqual([[id, RejectReason.THROTTLED]]);
    driver.onAck(RequestAck.fromPartial({ clientOrderId: id, accepted: true }));
    expect(refused).toHaveLength(1);
  });

  describe("a strategy callback that throws", () => {
    /** A strategy whose onTimer throws on the first call and sends an order on each later one; onStop throws. */
    const throwing = (sent: OrderRequest[], onCallbackError?: (err: unknown) => void) => {
      let calls = 0;
      return new StrategyDriver({
        account: "a",
        orders: { send: (r) => sent.push(r) },
        market,
        clock: () => 0,
        clientOrderIdPrefix: "t-",
        ...(onCallbackError === undefined ? {} : { onCallbackError }),
        strategy: {
          onStart: (ctx) => ctx.setTimer("t", 10),
          onTimer: (ctx) => {
            if (++calls === 1) throw new Error("strategy bug");
            ctx.submit({ instrument: "INFY", side: Side.BUY, price: 100, qty: 1 });
          },
          onStop: () => {
            throw new Error("onStop bug");
          },
        },
      });
    };

    it("live (onCallbackError given): is reported, later events are delivered, and stop still cancels", () => {
      const sent: OrderRequest[] = [];
      const errors: string[] = [];
      const driver = throwing(sent, (err) => errors.push((err as Error).message));
      driver.start();
      driver.advance(10);
      expect(errors).toEqual(["strategy bug"]);
      driver.advance(20);
      expect(sent.map((r) => r.request?.$case)).toEqual(["submitOrder"]);
      driver.stop();
      expect(errors).toEqual(["strategy bug", "onStop bug"]);
      expect(sent.map((r) => r.request?.$case)).toEqual(["submitOrder", "massCancel"]);
    });

    it("in a backtest (no onCallbackError): propagates to the caller", () => {
      const driver = throwing([]);
      driver.start();
      expect(() => driver.advance(10)).toThrow("strategy bug");
    });
  });
});
