import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata } from "@grpc/grpc-js";
import {
  OrderEntryClient,
  OrderType,
  Side,
  TimeInForce,
  type GetAccountPositionsResponse,
  type ListOpenOrdersResponse,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { DemoVenue, retry, unary } from "@tradeplane/testkit";
import { LiveHost, quote, type Strategy } from "../../src/index.ts";

/**
 * The SDK against a real local venue (`tradeplane up --headless`: nats-server, engine,
 * risk gateway and market data as processes): a quoting strategy rests orders, a taker
 * fills them, the risk gateway is killed and comes back while the strategy runs, and a
 * second host started after the first stopped loads the same position from the gateway.
 */

let venue: DemoVenue;
const tokenOf = (account: string) => venue.tokenOf(account);
const state = () => venue.state;

function auth(token: string): Metadata {
  const m = new Metadata();
  m.set("authorization", `Bearer ${token}`);
  return m;
}

async function take(side: Side, price: number, qty: number, id: string): Promise<SubmitOrderResponse> {
  const client = new OrderEntryClient(state().endpoints.orderEntry, credentials.createInsecure());
  try {
    return await unary<SubmitOrderResponse>((cb) =>
      client.submitOrder(
        {
          account: "demo-taker",
          clientOrderId: id,
          instrument: "INFY",
          side,
          orderType: OrderType.LIMIT,
          timeInForce: TimeInForce.IOC,
          price,
          stopPrice: 0,
          qty,
          postOnly: false,
          stpMode: 0,
          expireTime: undefined,
          displayQty: 0,
          stpGroup: 0,
        },
        auth(tokenOf("demo-taker")),
        cb,
      ),
    );
  } finally {
    client.close();
  }
}

async function gateway<T>(call: (c: OrderEntryClient, m: Metadata, cb: (e: Error | null, r: T) => void) => void) {
  const client = new OrderEntryClient(state().endpoints.orderEntry, credentials.createInsecure());
  try {
    return await unary<T>((cb) => call(client, auth(tokenOf("demo-mm")), cb));
  } finally {
    client.close();
  }
}

const quoter: Strategy = {
  onStart: (ctx) => ctx.setTimer("quote", 50),
  onTimer: (ctx) => {
    quote(ctx, "INFY", { bid: { price: 149_000, qty: 5 }, ask: { price: 151_000, qty: 5 } });
  },
};

beforeAll(async () => {
  venue = await DemoVenue.start();
});

afterAll(async () => {
  await venue?.stop();
});

describe("LiveHost against a local venue", () => {
  it("quotes, keeps its position from fills across a gateway restart, cancels at stop, and reloads after a restart", async () => {
    const options = {
      orderEntry: state().endpoints.orderEntry,
      marketData: state().endpoints.marketData,
      token: tokenOf("demo-mm"),
      account: "demo-mm",
      instruments: ["INFY"],
      retryMs: 100,
    };
    const host = await LiveHost.start({ ...options, strategy: quoter, clientOrderIdPrefix: "q1-" });
    await retry(async () => expect(host.driver.state.openOrders("INFY")).toHaveLength(2));

    const first = await take(Side.SELL, 149_000, 3, "t1");
    expect(first.reports.some((r) => r.lastQty === 3)).toBe(true);
    await retry(async () => expect(host.driver.state.netQty("INFY")).toBe(3));

    // The gateway dies (the local supervisor restarts it); the host reopens its session and resumes.
    const [risk] = venue.servicePids("risk");
    expect(risk).toBeDefined();
    process.kill(risk!, "SIGKILL");
    await retry(async () => {
      const r = await take(Side.SELL, 149_000, 2, `t2-${Date.now()}`);
      expect(r.reports.some((x) => x.lastQty === 2)).toBe(true);
    }, 60_000);
    await retry(async () => expect(host.driver.state.netQty("INFY")).toBe(5), 60_000);
    expect(host.sessions).toBeGreaterThan(1);

    const theirs = await gateway<GetAccountPositionsResponse>((c, m, cb) =>
      c.getAccountPositions({ account: "demo-mm", instrument: "INFY" }, m, cb),
    );
    const local = host.driver.state.position("INFY");
    expect(local.netQty).toBe(theirs.positions[0]!.netQty);
    expect(local.realisedPnl).toBe(theirs.positions[0]!.realisedPnl);
    expect(local.lots).toEqual(theirs.positions[0]!.openLots);

    await host.stop();
    await retry(async () => {
      const open = await gateway<ListOpenOrdersResponse>((c, m, cb) =>
        c.listOpenOrders({ account: "demo-mm", instrument: "" }, m, cb),
      );
      expect(open.orders).toEqual([]);
    });

    // A strategy that restarts: its position comes back from the gateway, exactly.
    const again = await LiveHost.start({ ...options, strategy: {}, clientOrderIdPrefix: "q2-" });
    expect(again.driver.state.netQty("INFY")).toBe(5);
    expect(again.driver.state.position("INFY").lots).toEqual(local.lots);
    expect(again.baselines).toBe(1);
    await again.stop();
  });
});
