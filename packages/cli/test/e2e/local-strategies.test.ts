import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata } from "@grpc/grpc-js";
import { OrderEntryClient, type GetAccountLimitsResponse, type ListOpenOrdersResponse } from "@tradeplane/contracts";
import { DemoVenue, REPO_ROOT, retry, unary } from "@tradeplane/testkit";

/**
 * Local mode runs the StrategyDeployments it is given: `up -f venue.yaml -f
 * demo-strategies.yaml` provisions each strategy's account with its limits and token and
 * supervises a strategy runtime per deployment; the market maker's quotes rest.
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
  it("runs each deployment with its account, limits and token; the maker quotes both instruments", async () => {
    const limits = await call<GetAccountLimitsResponse>("strat-maker", (c, m, cb) =>
      c.getAccountLimits({ account: "strat-maker" }, m, cb),
    );
    expect(limits.effective).toMatchObject({ maxPosition: 400, maxOrdersPerSecond: 50 });
    await retry(async () => {
      const open = await call<ListOpenOrdersResponse>("strat-maker", (c, m, cb) =>
        c.listOpenOrders({ account: "strat-maker", instrument: "" }, m, cb),
      );
      expect(new Set(open.orders.map((o) => `${o.instrument}/${o.side}`)).size).toBe(4);
    }, 60_000);
    expect(venue.servicePids("strategy-demo-maker").length + venue.servicePids("strategy-demo-momentum").length).toBe(
      2,
    );
  });
});
