import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecType, RejectReason, Side, type ReplaceOrderResponse } from "@tradeplane/contracts";
import { order, replaceOrder, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

/**
 * A replace is checked as the order it would make: it cannot take an order past the account's
 * quantity, collar or position limits that a new order of the same size and price would fail.
 */
describe("a replace passes the pre-trade checks of the order it makes", () => {
  let venue: Venue;
  const token = tokenOf("rep");

  beforeAll(async () => {
    venue = await startVenue({
      venue: "replacechecks",
      accounts: [{ name: "rep", limits: { maxOrderQty: 10, maxPosition: 12, priceCollarBps: 100 } }],
    });
  });

  afterAll(async () => {
    await venue?.close();
  });

  const replace = (origClientOrderId: string, clientOrderId: string, price: number, qty: number) =>
    replaceOrder(venue, token, { origClientOrderId, clientOrderId, price, qty });
  const outcome = (res: ReplaceOrderResponse) => [res.reports[0]!.execType, res.reports[0]!.rejectReason];

  it("refuses what a new order would be refused, and takes the rest", async () => {
    // Two resting buys of 5 at 100,010 (INFY's reference is 100,000): 10 of 12 lots used.
    for (const id of ["r-1", "r-2"]) {
      const res = await venue.submit(token, order({ clientOrderId: id, side: Side.BUY, price: 100_010, qty: 5 }));
      expect(res.reports[0]!.execType).toBe(ExecType.NEW);
    }
    const cases: [string, number, number, (ExecType | RejectReason)[]][] = [
      // [new client order id, price, qty, outcome]
      ["r-1a", 100_010, 11, [ExecType.REJECTED, RejectReason.ACCOUNT_MAX_ORDER_QTY]],
      ["r-1b", 102_000, 5, [ExecType.REJECTED, RejectReason.PRICE_COLLAR]],
      // 5 of r-2 + 8 = 13 lots: past the limit, though 8 alone is within every order limit.
      ["r-1c", 100_010, 8, [ExecType.REJECTED, RejectReason.POSITION_LIMIT]],
      ["r-2", 100_010, 7, [ExecType.REJECTED, RejectReason.DUPLICATE_CLIENT_ORDER_ID]],
      // 5 + 7 = 12 lots: at the limit.
      ["r-1d", 100_010, 7, [ExecType.REPLACED, RejectReason.UNSPECIFIED]],
    ];
    let current = "r-1";
    for (const [id, price, qty, expected] of cases) {
      const res = await replace(current, id, price, qty);
      expect([id, ...outcome(res)]).toEqual([id, ...expected]);
      if (res.reports[0]!.execType === ExecType.REPLACED) current = id;
    }
    // The order keeps its client order id through a replace that only lowers the quantity.
    const kept = await replace(current, current, 100_010, 6);
    expect(outcome(kept)).toEqual([ExecType.REPLACED, RejectReason.UNSPECIFIED]);
  });
});
