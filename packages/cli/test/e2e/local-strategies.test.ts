import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata } from "@grpc/grpc-js";
import {
  MarketDataClient,
  OrderEntryClient,
  type GetAccountLimitsResponse,
  type GetAccountPositionsResponse,
  type GetTradesResponse,
  type ListOpenOrdersResponse,
} from "@tradeplane/contracts";
import { DemoVenue, REPO_ROOT, retry, unary } from "@tradeplane/testkit";

/**
 * Local mode runs the StrategyDeployments it is given: `up -f venue.yaml -f
 * demo-strategies.yaml` provisions each strategy's account with its limits and token and
 * supervises a strategy runtime per deployment; the market maker's quotes rest, and the
 * example strategies trade against each other (the market `npm start` shows).
 */
let venue: DemoVenue;

beforeAll(async () => {
  venue = await DemoVenue.start(`${REPO_ROOT}/examples/venue.yaml`, `${REPO_ROOT}/examples/demo-strategies.yaml`);
});

afterAll(async () => {
  await venue?.stop();
});

function call<T>(account: string, f: (c: OrderEntryClient, m: Metadata, cb: (e: Error | null, r: T) => void) => void) {
  const client = new OrderEntryClient(venue.state.endpoints.orderEntry, credentials.createInsecure());
  const m = new Metadata();
  m.set("authorization", `Bearer ${venue.tokenOf(account)}`);
  return unary<T>((cb) => f(client, m, cb)).finally(() => client.close());
}

describe("tradeplane up with StrategyDeployments", () => {
  it("runs each deployment with its account, limits and token; the maker quotes its four instruments", async () => {
    const limits = await call<GetAccountLimitsResponse>("strat-maker", (c, m, cb) =>
      c.getAccountLimits({ account: "strat-maker" }, m, cb),
    );
    expect(limits.effective).toMatchObject({ maxPosition: 400, maxOrdersPerSecond: 200 });
    await retry(async () => {
      const open = await call<ListOpenOrdersResponse>("strat-maker", (c, m, cb) =>
        c.listOpenOrders({ account: "strat-maker", instrument: "" }, m, cb),
      );
      expect(new Set(open.orders.map((o) => `${o.instrument}/${o.side}`)).size).toBe(8);
    }, 60_000);
    const pids = ["demo-maker", "demo-noise", "demo-momentum"].map((s) => venue.servicePids(`strategy-${s}`).length);
    expect(pids).toEqual([1, 1, 1]);
  });

  it("records each runtime's metrics endpoint in local.json, serving that deployment's tp_strategy_* series", async () => {
    const strategies = venue.state.endpoints.strategies ?? [];
    expect(strategies.map((s) => s.name).sort()).toEqual(["demo-maker", "demo-momentum", "demo-noise"]);
    for (const { name, ops } of strategies)
      await retry(async () => {
        const text = await (await fetch(`${ops}/metrics`)).text();
        expect(text, name).toMatch(new RegExp(`tp_strategy_orders_sent_total\\{[^}]*deployment="${name}"`));
      }, 60_000);
  });

  it("the example strategies trade against each other: trades print and the noise taker has bought or sold", async () => {
    const md = new MarketDataClient(venue.state.endpoints.marketData, credentials.createInsecure());
    try {
      await retry(async () => {
        const counts = await Promise.all(
          ["RELIANCE", "INFY", "TCS", "SBIN"].map(
            async (instrument) =>
              (
                await unary<GetTradesResponse>((cb) =>
                  md.getTrades({ instrument, fromTradeId: 0, limit: 100 }, new Metadata(), cb),
                )
              ).trades.length,
          ),
        );
        expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(20);
      }, 60_000);
    } finally {
      md.close();
    }
    const positions = await call<GetAccountPositionsResponse>("strat-noise", (c, m, cb) =>
      c.getAccountPositions({ account: "strat-noise", instrument: "" }, m, cb),
    );
    expect(positions.positions.some((p) => p.boughtQty + p.soldQty > 0)).toBe(true);
  });
});
