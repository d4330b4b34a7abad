import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Side, TimeInForce, type ListOpenOrdersResponse } from "@tradeplane/contracts";
import { DemoVenue, retry } from "@tradeplane/testkit";
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

const take = (side: Side, price: number, qty: number, clientOrderId: string) =>
  venue.orders.submitLimit({
    account: "demo-taker",
    clientOrderId,
    side,
    price,
    qty,
    timeInForce: TimeInForce.IOC,
  });

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
    expect(host.errors.session_lost).toBeGreaterThanOrEqual(1);
    expect(host.errors.callback_threw).toBe(0);

    const theirs = await venue.orders.positions("demo-mm", "INFY");
    const local = host.driver.state.position("INFY");
    expect(local.netQty).toBe(theirs.positions[0]!.netQty);
    expect(local.realisedPnl).toBe(theirs.positions[0]!.realisedPnl);
    expect(local.lots).toEqual(theirs.positions[0]!.openLots);

    await host.stop();
    await retry(async () => {
      const open = await venue.orders.as<ListOpenOrdersResponse>("demo-mm", (c, auth, cb) =>
        c.listOpenOrders({ account: "demo-mm", instrument: "" }, auth, cb),
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

  it("counts a strategy callback that throws and goes on delivering events", async () => {
    let timers = 0;
    const buggy: Strategy = {
      onStart: (ctx) => ctx.setTimer("quote", 50),
      onTimer: (ctx) => {
        // Every other call fails; the ones between still quote.
        if (++timers % 2 === 1) throw new Error("strategy bug");
        quote(ctx, "INFY", { bid: { price: 148_000, qty: 1 }, ask: { price: 152_000, qty: 1 } });
      },
    };
    const host = await LiveHost.start({
      orderEntry: state().endpoints.orderEntry,
      marketData: state().endpoints.marketData,
      token: tokenOf("demo-mm"),
      account: "demo-mm",
      instruments: ["INFY"],
      strategy: buggy,
      clientOrderIdPrefix: "b1-",
    });
    try {
      await retry(async () => expect(host.driver.state.openOrders("INFY")).toHaveLength(2));
      expect(host.errors.callback_threw).toBeGreaterThanOrEqual(1);
    } finally {
      await host.stop();
    }
  });
});
