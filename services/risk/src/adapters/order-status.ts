import type { GetOrderRequest, GetOrderResponse } from "@tradeplane/contracts";
import type { OrderProjection } from "@tradeplane/positions/order-projection";

/**
 * OrderEntry.GetOrder: one order of the caller's account, open or finished (FIX
 * OrderStatusRequest). `account` is the account the caller was authorised for; the
 * projection only ever looks within it, so another account's order is never found.
 */
export function getOrder(projection: OrderProjection, account: string, req: GetOrderRequest): GetOrderResponse {
  const target = req.target;
  const order =
    target === undefined
      ? undefined
      : target.$case === "orderId"
        ? projection.findOrder(account, { orderId: target.value })
        : projection.findOrder(account, { clientOrderId: target.value });
  return { order, asOfSequence: projection.lastReportSequence(account) };
}
