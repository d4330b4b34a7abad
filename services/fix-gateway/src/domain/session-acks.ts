// What an OrderEntry Session acknowledgement means for the FIX client. An accepted request
// is in the command log: its ExecutionReports come from the account's report stream, so
// nothing is sent now. A refused one never reached the log: it is answered here, as the
// unary calls' REJECTED report was (a Rejected 8 for a D, a 9 for an F or G), built from the
// request since the ack carries only the reason. UNAVAILABLE (the account is changing
// gateway replica, or the log did not store it) is no verdict on the order: the client is
// told the outcome is unknown (BusinessMessageReject 380=4), as for a failed call.
import {
  ExecType,
  LiquidityIndicator,
  OrderStatus,
  RejectReason,
  RequestKind,
  StpMode,
  type ExecutionReport,
  type Order,
  type OrderRequest,
  type RequestAck,
} from "@tradeplane/contracts";

export type AckOutcome =
  | { readonly kind: "accepted" }
  | { readonly kind: "refused"; readonly report: ExecutionReport }
  | { readonly kind: "unavailable"; readonly text: string };

export function ackOutcome(request: OrderRequest, ack: RequestAck, account: string, nowMs: number): AckOutcome {
  if (ack.accepted) return { kind: "accepted" };
  if (ack.rejectReason === RejectReason.UNAVAILABLE) return { kind: "unavailable", text: ack.text };
  return { kind: "refused", report: refusedReport(request, ack, account, nowMs) };
}

function refusedReport(request: OrderRequest, ack: RequestAck, account: string, nowMs: number): ExecutionReport {
  const r = request.request;
  let order: Order | undefined;
  let requestKind = ack.requestKind;
  let clientOrderId = ack.clientOrderId;
  let origClientOrderId = "";
  switch (r?.$case) {
    case "submitOrder": {
      const q = r.value;
      requestKind = RequestKind.NEW_ORDER;
      clientOrderId = q.clientOrderId;
      order = {
        orderId: 0,
        clientOrderId: q.clientOrderId,
        account,
        instrument: q.instrument,
        side: q.side,
        orderType: q.orderType,
        timeInForce: q.timeInForce,
        price: q.price,
        stopPrice: q.stopPrice,
        qty: q.qty,
        leavesQty: 0,
        cumQty: 0,
        cumNotional: 0,
        status: OrderStatus.REJECTED,
        postOnly: q.postOnly,
        stpMode: StpMode.UNSPECIFIED,
        expireTime: q.expireTime,
        displayQty: q.displayQty,
      };
      break;
    }
    case "cancelOrder":
    case "replaceOrder": {
      const q = r.value;
      requestKind = r.$case === "cancelOrder" ? RequestKind.CANCEL_ORDER : RequestKind.REPLACE_ORDER;
      clientOrderId = q.clientOrderId;
      if (q.target?.$case === "origClientOrderId") origClientOrderId = q.target.value;
      break;
    }
  }
  return {
    sequence: 0,
    execType: ExecType.REJECTED,
    order,
    requestKind,
    requestClientOrderId: clientOrderId,
    origClientOrderId,
    tradeId: 0,
    lastPrice: 0,
    lastQty: 0,
    lastNotional: 0,
    liquidity: LiquidityIndicator.UNSPECIFIED,
    rejectReason: ack.rejectReason,
    cancelReason: 0,
    text: ack.text,
    commandSeq: 0,
    eventIndex: 0,
    transactTime: { seconds: Math.floor(nowMs / 1000), nanos: (nowMs % 1000) * 1_000_000 },
  };
}
