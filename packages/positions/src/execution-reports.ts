import {
  type ExecType,
  LiquidityIndicator,
  OrderStatus,
  OrderType,
  RequestKind,
  Side,
  TimeInForce,
  type EngineEvent,
  type ExecutionReport,
  type Order,
} from "@tradeplane/contracts";

// The objects a projection's reports start from: a report of an order as it is, and the order
// of a request refused before it became one.

/** A report of `order` as it is now, numbered by `report`; one object per report, filled in place. */
export function baseReport(event: EngineEvent, execType: ExecType, order: Order): ExecutionReport {
  return {
    sequence: 0,
    execType,
    order: { ...order },
    requestKind: RequestKind.UNSPECIFIED,
    requestClientOrderId: "",
    origClientOrderId: "",
    tradeId: 0,
    lastPrice: 0,
    lastQty: 0,
    lastNotional: 0,
    liquidity: LiquidityIndicator.UNSPECIFIED,
    rejectReason: 0,
    cancelReason: 0,
    text: "",
    commandSeq: event.commandSeq,
    eventIndex: event.index,
    transactTime: event.timestamp,
  };
}

/** The order of a request refused before it became one (no id, no terms). */
export function emptyOrder(account: string, instrument: string, clientOrderId: string): Order {
  return {
    orderId: 0,
    clientOrderId,
    account,
    instrument,
    side: Side.UNSPECIFIED,
    orderType: OrderType.UNSPECIFIED,
    timeInForce: TimeInForce.UNSPECIFIED,
    price: 0,
    stopPrice: 0,
    qty: 0,
    leavesQty: 0,
    cumQty: 0,
    cumNotional: 0,
    status: OrderStatus.REJECTED,
    postOnly: false,
    stpMode: 0,
    expireTime: undefined,
    createTime: undefined,
    updateTime: undefined,
    displayQty: 0,
  };
}
