// OrderEntry's execution reports as FIX: ExecutionReport (8) for every event of an order,
// OrderCancelReject (9) for a refused cancel or replace, OrderMassCancelReport (r), and the
// Rejected ExecutionReport for an order refused before it reached OrderEntry. Every
// ExecutionReport carries ExecType, OrdStatus, CumQty, LeavesQty, AvgPx, LastPx and LastQty.

import {
  ExecType,
  LiquidityIndicator,
  OrderStatus,
  OrderType,
  RejectReason,
  RequestKind,
  Side,
  TimeInForce,
  rejectReasonToJSON,
  type ExecutionReport,
  type Order,
} from "@tradeplane/contracts";
import type { FixEncoder } from "./fix-encoder.ts";
import { MsgType, Tag } from "./fix-tags.ts";
import type { InstrumentTable } from "./instruments.ts";
import { OrdRejReason } from "./order-requests.ts";

const EXEC_TYPE: Readonly<Record<number, number>> = {
  [ExecType.NEW]: 0x30, // 0
  [ExecType.TRADE]: 0x46, // F
  [ExecType.CANCELLED]: 0x34, // 4
  [ExecType.REPLACED]: 0x35, // 5
  [ExecType.REJECTED]: 0x38, // 8
  [ExecType.EXPIRED]: 0x43, // C
  [ExecType.TRIGGERED]: 0x4c, // L: triggered or activated by system
};

const ORD_STATUS: Readonly<Record<number, number>> = {
  [OrderStatus.NEW]: 0x30,
  [OrderStatus.PARTIALLY_FILLED]: 0x31,
  [OrderStatus.FILLED]: 0x32,
  [OrderStatus.CANCELLED]: 0x34,
  [OrderStatus.REJECTED]: 0x38,
  [OrderStatus.EXPIRED]: 0x43,
};

const ORD_TYPE: Readonly<Record<number, number>> = {
  [OrderType.MARKET]: 0x31,
  [OrderType.LIMIT]: 0x32,
  [OrderType.STOP]: 0x33,
  [OrderType.STOP_LIMIT]: 0x34,
};

const TIF: Readonly<Record<number, number>> = {
  [TimeInForce.DAY]: 0x30,
  [TimeInForce.GTC]: 0x31,
  [TimeInForce.IOC]: 0x33,
  [TimeInForce.FOK]: 0x34,
  [TimeInForce.GTD]: 0x36,
};

/** OrderEntry's reject reasons as OrdRejReason (103). */
export function ordRejReasonOf(reason: RejectReason): number {
  switch (reason) {
    case RejectReason.UNKNOWN_INSTRUMENT:
    case RejectReason.RESTRICTED_INSTRUMENT:
      return OrdRejReason.UnknownSymbol;
    case RejectReason.MARKET_CLOSED:
    case RejectReason.INSTRUMENT_HALTED:
      return OrdRejReason.ExchangeClosed;
    case RejectReason.QTY_OUT_OF_RANGE:
    case RejectReason.MAX_ORDER_VALUE:
    case RejectReason.ACCOUNT_MAX_ORDER_QTY:
    case RejectReason.ACCOUNT_MAX_ORDER_VALUE:
    case RejectReason.POSITION_LIMIT:
    case RejectReason.CREDIT_LIMIT:
    case RejectReason.OUTSIDE_PRICE_BAND:
    case RejectReason.PRICE_COLLAR:
      return OrdRejReason.OrderExceedsLimit;
    case RejectReason.DUPLICATE_ORDER_ID:
    case RejectReason.DUPLICATE_CLIENT_ORDER_ID:
      return OrdRejReason.DuplicateOrder;
    case RejectReason.UNKNOWN_ORDER:
      return OrdRejReason.UnknownOrder;
    case RejectReason.ORDER_FINISHED:
      return OrdRejReason.TooLateToEnter;
    case RejectReason.OFF_TICK:
    case RejectReason.INVALID_PRICE:
      return OrdRejReason.InvalidPriceIncrement;
    case RejectReason.OFF_LOT:
    case RejectReason.INVALID_QTY:
    case RejectReason.INVALID_DISPLAY_QTY:
      return OrdRejReason.IncorrectQuantity;
    case RejectReason.UNSUPPORTED_ORDER:
    case RejectReason.POST_ONLY_WOULD_TAKE:
    case RejectReason.FOK_NOT_FILLABLE:
    case RejectReason.INVALID_EXPIRE_TIME:
      return OrdRejReason.UnsupportedOrderCharacteristic;
    case RejectReason.UNAUTHENTICATED:
    case RejectReason.ACCOUNT_NOT_PERMITTED:
    case RejectReason.ACCOUNT_DISABLED:
      return OrdRejReason.UnknownAccount;
    default:
      return OrdRejReason.Other;
  }
}

/** CxlRejReason (102): 0 too late, 1 unknown order, 6 duplicate ClOrdID, 99 other. */
function cxlRejReasonOf(reason: RejectReason): number {
  if (reason === RejectReason.ORDER_FINISHED) return 0;
  if (reason === RejectReason.UNKNOWN_ORDER) return 1;
  if (reason === RejectReason.DUPLICATE_CLIENT_ORDER_ID || reason === RejectReason.DUPLICATE_ORDER_ID) return 6;
  return 99;
}

function reasonText(reason: RejectReason, text: string): string {
  const name = rejectReasonToJSON(reason).replace("REJECT_REASON_", "");
  return text === "" ? name : `${name}: ${text}`;
}

function millis(t: { seconds: number; nanos: number } | undefined): number {
  return t === undefined ? NaN : t.seconds * 1000 + Math.floor(t.nanos / 1_000_000);
}

/** Whether a report is answered with an OrderCancelReject rather than an ExecutionReport. */
export function isCancelReject(r: ExecutionReport): boolean {
  return (
    r.execType === ExecType.REJECTED &&
    (r.requestKind === RequestKind.CANCEL_ORDER || r.requestKind === RequestKind.REPLACE_ORDER)
  );
}

/** MsgType for a report: 9 for a refused cancel or replace, else 8. */
export function msgTypeOf(r: ExecutionReport): string {
  return isCancelReject(r) ? MsgType.OrderCancelReject : MsgType.ExecutionReport;
}

/**
 * The body of the FIX message for `r` (after the standard header). `execId` is unique per
 * session and day (the account's report sequence, or a gateway counter for reports that
 * never reached the log); `nowMs` stands in for a missing transact time.
 */
export function writeReport(
  e: FixEncoder,
  r: ExecutionReport,
  instruments: InstrumentTable,
  execId: string,
  nowMs: number,
  statusReply = false,
): void {
  const o = r.order;
  if (!statusReply && isCancelReject(r)) {
    writeCancelReject(e, r, o);
    return;
  }
  const symbol = o?.instrument ?? "";
  e.string(Tag.OrderID, o !== undefined && o.orderId > 0 ? String(o.orderId) : "NONE");
  e.string(Tag.ClOrdID, r.requestClientOrderId !== "" ? r.requestClientOrderId : (o?.clientOrderId ?? "NONE"));
  if (r.origClientOrderId !== "") e.string(Tag.OrigClOrdID, r.origClientOrderId);
  // A cancel's report names the cancel (11) and the order it cancelled (41).
  else if (r.requestClientOrderId !== "" && o !== undefined && o.clientOrderId !== r.requestClientOrderId)
    e.string(Tag.OrigClOrdID, o.clientOrderId);
  e.string(Tag.ExecID, execId);
  // An answer to an OrderStatusRequest is ExecType I (order status), whatever came last.
  e.char(Tag.ExecType, statusReply ? 0x49 : (EXEC_TYPE[r.execType] ?? 0x30));
  e.char(Tag.OrdStatus, o === undefined ? 0x38 : (ORD_STATUS[o.status] ?? 0x38));
  if (!statusReply && r.execType === ExecType.REJECTED) e.int(Tag.OrdRejReason, ordRejReasonOf(r.rejectReason));
  if (o !== undefined) {
    if (o.account !== "") e.string(Tag.Account, o.account);
    if (symbol !== "") e.string(Tag.Symbol, symbol);
    if (o.side === Side.BUY || o.side === Side.SELL) e.char(Tag.Side, o.side === Side.BUY ? 0x31 : 0x32);
    const [qm, qe] = instruments.qty(symbol, o.qty);
    e.decimal(Tag.OrderQty, qm, qe);
    const ordType = ORD_TYPE[o.orderType];
    if (ordType !== undefined) e.char(Tag.OrdType, ordType);
    if (o.price > 0) e.decimal(Tag.Price, ...instruments.price(symbol, o.price));
    if (o.stopPrice > 0) e.decimal(Tag.StopPx, ...instruments.price(symbol, o.stopPrice));
    const tif = TIF[o.timeInForce];
    if (tif !== undefined) e.char(Tag.TimeInForce, tif);
    const expire = millis(o.expireTime);
    if (!Number.isNaN(expire)) e.timestamp(Tag.ExpireTime, expire);
    if (o.displayQty > 0) e.decimal(Tag.MaxFloor, ...instruments.qty(symbol, o.displayQty));
    if (o.postOnly) e.string(Tag.ExecInst, "6");
  }
  const trade = !statusReply && r.execType === ExecType.TRADE;
  e.decimal(Tag.LastQty, ...(trade ? instruments.qty(symbol, r.lastQty) : ([0, 0] as [number, number])));
  e.decimal(Tag.LastPx, ...(trade ? instruments.price(symbol, r.lastPrice) : ([0, 0] as [number, number])));
  e.decimal(Tag.LeavesQty, ...instruments.qty(symbol, o?.leavesQty ?? 0));
  e.decimal(Tag.CumQty, ...instruments.qty(symbol, o?.cumQty ?? 0));
  e.decimal(Tag.AvgPx, ...instruments.avgPx(symbol, o?.cumNotional ?? 0, o?.cumQty ?? 0));
  const transact = millis(r.transactTime);
  e.timestamp(Tag.TransactTime, Number.isNaN(transact) ? nowMs : transact);
  if (trade && r.liquidity !== LiquidityIndicator.UNSPECIFIED)
    e.int(
      Tag.LastLiquidityInd,
      r.liquidity === LiquidityIndicator.ADDED ? 1 : r.liquidity === LiquidityIndicator.REMOVED ? 2 : 4,
    );
  if (statusReply) return;
  if (r.execType === ExecType.REJECTED) e.string(Tag.Text, reasonText(r.rejectReason, r.text));
  else if (r.text !== "") e.string(Tag.Text, r.text);
}

/** The answer to an OrderStatusRequest (H): the order as it stands, ExecType I. */
export function writeOrderStatus(e: FixEncoder, order: Order, instruments: InstrumentTable, nowMs: number): void {
  const report: ExecutionReport = {
    sequence: 0,
    execType: ExecType.UNSPECIFIED,
    order,
    requestKind: RequestKind.UNSPECIFIED,
    requestClientOrderId: "",
    origClientOrderId: "",
    tradeId: 0,
    lastPrice: 0,
    lastQty: 0,
    lastNotional: 0,
    liquidity: LiquidityIndicator.UNSPECIFIED,
    rejectReason: RejectReason.UNSPECIFIED,
    cancelReason: 0,
    text: "",
    commandSeq: 0,
    eventIndex: 0,
    transactTime: order.updateTime,
  };
  writeReport(e, report, instruments, "0", nowMs, true);
}

function writeCancelReject(e: FixEncoder, r: ExecutionReport, o: Order | undefined): void {
  const known = o !== undefined && o.orderId > 0;
  e.string(Tag.OrderID, known ? String(o.orderId) : "NONE");
  e.string(Tag.ClOrdID, r.requestClientOrderId !== "" ? r.requestClientOrderId : "NONE");
  e.string(Tag.OrigClOrdID, r.origClientOrderId !== "" ? r.origClientOrderId : known ? o.clientOrderId : "NONE");
  e.char(Tag.OrdStatus, known ? (ORD_STATUS[o.status] ?? 0x38) : 0x38);
  e.char(Tag.CxlRejResponseTo, r.requestKind === RequestKind.CANCEL_ORDER ? 0x31 : 0x32);
  e.int(Tag.CxlRejReason, cxlRejReasonOf(r.rejectReason));
  e.string(Tag.Text, reasonText(r.rejectReason, r.text));
}

/** What the client sent, echoed on a Rejected ExecutionReport the gateway itself makes. */
export interface RefusedOrder {
  readonly clOrdId: string;
  readonly symbol?: string;
  readonly sideChar?: number;
}

/** A Rejected ExecutionReport for a D (or H) the gateway refused before OrderEntry. */
export function writeOrderRefusal(
  e: FixEncoder,
  o: RefusedOrder,
  reason: number,
  text: string,
  execId: string,
  nowMs: number,
): void {
  e.string(Tag.OrderID, "NONE")
    .string(Tag.ClOrdID, o.clOrdId)
    .string(Tag.ExecID, execId)
    .char(Tag.ExecType, 0x38)
    .char(Tag.OrdStatus, 0x38)
    .int(Tag.OrdRejReason, reason);
  if (o.symbol !== undefined) e.string(Tag.Symbol, o.symbol);
  if (o.sideChar === 0x31 || o.sideChar === 0x32) e.char(Tag.Side, o.sideChar);
  e.decimal(Tag.LastQty, 0, 0)
    .decimal(Tag.LastPx, 0, 0)
    .decimal(Tag.LeavesQty, 0, 0)
    .decimal(Tag.CumQty, 0, 0)
    .decimal(Tag.AvgPx, 0, 0)
    .timestamp(Tag.TransactTime, nowMs)
    .string(Tag.Text, text);
}

/** An OrderCancelReject (9) for an F or G the gateway refused before OrderEntry. */
export function writeCancelRefusal(
  e: FixEncoder,
  clOrdId: string,
  origClOrdId: string,
  responseTo: "F" | "G",
  text: string,
): void {
  e.string(Tag.OrderID, "NONE")
    .string(Tag.ClOrdID, clOrdId)
    .string(Tag.OrigClOrdID, origClOrdId)
    .char(Tag.OrdStatus, 0x38)
    .char(Tag.CxlRejResponseTo, responseTo === "F" ? 0x31 : 0x32)
    .int(Tag.CxlRejReason, 99)
    .string(Tag.Text, text);
}

/** OrderMassCancelReport (r): accepted with the number of orders cancelled, or rejected (531=0). */
export function writeMassCancelReport(
  e: FixEncoder,
  clOrdId: string,
  requestType: string,
  outcome: { readonly cancelled: number } | { readonly rejectedText: string },
): void {
  e.string(Tag.ClOrdID, clOrdId).string(Tag.OrderID, "NONE").string(Tag.MassCancelRequestType, requestType);
  if ("cancelled" in outcome) {
    e.string(Tag.MassCancelResponse, requestType).int(Tag.TotalAffectedOrders, outcome.cancelled);
  } else {
    e.string(Tag.MassCancelResponse, "0").int(Tag.MassCancelRejectReason, 99).string(Tag.Text, outcome.rejectedText);
  }
}

/** BusinessMessageReject (j). */
export function writeBusinessReject(
  e: FixEncoder,
  refSeq: number,
  refMsgType: string,
  reason: number,
  text: string,
): void {
  if (refSeq > 0) e.int(Tag.RefSeqNum, refSeq);
  e.string(Tag.RefMsgType, refMsgType.slice(0, 2)).int(Tag.BusinessRejectReason, reason).string(Tag.Text, text);
}
