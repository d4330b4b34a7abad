import { NewOrderCommand, OrderType, TimeInForce, type Command } from "@tradeplane/contracts";

/** What a test says of a limit order for the engine; the rest is the command's default. */
export type LimitCommand = Pick<NewOrderCommand, "side" | "price" | "qty"> & Partial<NewOrderCommand>;

/** A newOrder command body for a limit order: INFY, DAY and no client order id unless said otherwise. */
export function newLimitOrder(order: LimitCommand): Extract<NonNullable<Command["body"]>, { $case: "newOrder" }> {
  return {
    $case: "newOrder",
    value: NewOrderCommand.fromPartial({
      instrument: "INFY",
      orderType: OrderType.LIMIT,
      timeInForce: TimeInForce.DAY,
      ...order,
    }),
  };
}
