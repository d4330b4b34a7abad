import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OrderStatus,
  type CancelOrderResponse,
  type GetOrderResponse,
  type GetOrderRequest,
} from "@tradeplane/contracts";
import { unary } from "@tradeplane/testkit";
import { auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

describe("OrderEntry.GetOrder", () => {
  let venue: Venue;

  beforeAll(async () => {
    venue = await startVenue({ venue: "getorder", accounts: [{ name: "own" }, { name: "other" }] });
  });

  afterAll(async () => {
    await venue?.close();
  });

  const get = (token: string, req: GetOrderRequest) =>
    unary<GetOrderResponse>((cb) => venue.orderEntry.getOrder(req, auth(token), cb));

  it("finds an order of the caller's account open and after it finished, by id and by client order id, and never another account's", async () => {
    const placed = await venue.submit(tokenOf("own"), order({ account: "own", clientOrderId: "g-1" }));
    const orderId = placed.reports[0]!.order!.orderId;
    expect(orderId).toBeGreaterThan(0);
    const open = await get(tokenOf("own"), { account: "own", target: { $case: "orderId", value: orderId } });
    expect(open.order).toMatchObject({ orderId, clientOrderId: "g-1", status: OrderStatus.NEW });

    await unary<CancelOrderResponse>((cb) =>
      venue.orderEntry.cancelOrder(
        { account: "own", instrument: "INFY", target: { $case: "orderId", value: orderId }, clientOrderId: "" },
        auth(tokenOf("own")),
        cb,
      ),
    );
    const done = await get(tokenOf("own"), { account: "own", target: { $case: "clientOrderId", value: "g-1" } });
    expect(done.order).toMatchObject({ orderId, status: OrderStatus.CANCELLED, leavesQty: 0 });

    const theirs = await get(tokenOf("other"), { account: "other", target: { $case: "orderId", value: orderId } });
    expect(theirs.order).toBeUndefined();
    const byName = await get(tokenOf("other"), { account: "other", target: { $case: "clientOrderId", value: "g-1" } });
    expect(byName.order).toBeUndefined();
    await expect(
      get(tokenOf("other"), { account: "own", target: { $case: "orderId", value: orderId } }),
    ).rejects.toMatchObject({
      code: 7,
    });
  });
});
