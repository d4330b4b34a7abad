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
});
