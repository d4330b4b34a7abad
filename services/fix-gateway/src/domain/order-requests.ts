// FIX application messages (D, F, G, q, H) to OrderEntry requests, or the refusal the
// client gets instead: a session Reject for a missing or malformed required field, an
// ExecutionReport (D) or OrderCancelReject (F, G) with a reason for a value the venue
// cannot take (off tick, off lot, an unknown order type). Pure; docs/fix.md lists the tags.

import {
  OrderType,
  Side,
  StpMode,
  TimeInForce,
  type CancelOrderRequest,
  type MassCancelRequest,
  type ReplaceOrderRequest,
  type SubmitOrderRequest,
} from "@tradeplane/contracts";
import type { FixMessage } from "./fix-message.ts";
import type { InstrumentTable } from "./instruments.ts";
import { SessionRejectReason, Tag } from "./fix-tags.ts";

/** OrdRejReason (103) and CxlRejReason (102) values used. */
export const OrdRejReason = {
  UnknownSymbol: 1,
  ExchangeClosed: 2,
  OrderExceedsLimit: 3,
  TooLateToEnter: 4,
  UnknownOrder: 5,
  DuplicateOrder: 6,
  UnsupportedOrderCharacteristic: 11,
  IncorrectQuantity: 13,
  UnknownAccount: 15,
  InvalidPriceIncrement: 18,
  Other: 99,
} as const;

export type Refusal =
  /** Answer with a session-level Reject (3). */
  | { readonly kind: "session-reject"; readonly reason: number; readonly refTag: number; readonly text: string }
  /** Answer with an ExecutionReport Rejected (D, H) or an OrderCancelReject (F, G). */
  | { readonly kind: "order-reject"; readonly reason: number; readonly text: string };

export type Decoded<T> = { readonly ok: true; readonly request: T } | { readonly ok: false; readonly refusal: Refusal };

/** ClOrdID and friends: what OrderEntry accepts (common.proto). */
export const CLIENT_ORDER_ID = /^[\x21-\x7e]{1,36}$/;

/** ExecInst (18) value for post-only: Participate don't initiate. */
const EXEC_INST_POST_ONLY = "6";

/** StpMode (7928) values: the venue's self-trade prevention modes. */
export const STP_MODES: Readonly<Record<string, StpMode>> = {
  N: StpMode.NONE,
  T: StpMode.CANCEL_TAKER,
  M: StpMode.CANCEL_MAKER,
  B: StpMode.CANCEL_BOTH,
  D: StpMode.DECREMENT,
};

const ORD_TYPES: Readonly<Record<number, OrderType>> = {
  0x31: OrderType.MARKET,
  0x32: OrderType.LIMIT,
  0x33: OrderType.STOP,
  0x34: OrderType.STOP_LIMIT,
};
const TIME_IN_FORCE: Readonly<Record<number, TimeInForce>> = {
  0x30: TimeInForce.DAY,
  0x31: TimeInForce.GTC,
  0x33: TimeInForce.IOC,
  0x34: TimeInForce.FOK,
  0x36: TimeInForce.GTD,
};

/** Who is asking: the session's account (orders name it or no account at all). */
export interface RequestContext {
  readonly account: string;
  readonly instruments: InstrumentTable;
}

class Refused extends Error {
  readonly refusal: Refusal;
  constructor(refusal: Refusal) {
    super(refusal.text);
    this.refusal = refusal;
  }
}

function missing(tag: number, name: string): never {
  throw new Refused({
    kind: "session-reject",
    reason: SessionRejectReason.RequiredTagMissing,
    refTag: tag,
    text: `${name} (${tag}) missing`,
  });
}

function badValue(tag: number, text: string): never {
  throw new Refused({ kind: "session-reject", reason: SessionRejectReason.ValueIncorrect, refTag: tag, text });
}

function refuse(reason: number, text: string): never {
  throw new Refused({ kind: "order-reject", reason, text });
}

function decode<T>(read: () => T): Decoded<T> {
  try {
    return { ok: true, request: read() };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, refusal: e.refusal };
    throw e;
  }
}

function clOrdId(m: FixMessage, tag: number, name: string): string {
  const id = m.string(tag);
  if (id === undefined) missing(tag, name);
  if (!CLIENT_ORDER_ID.test(id)) badValue(tag, `${name} must be 1..36 printable ASCII characters`);
  return id;
}

function symbol(m: FixMessage, ctx: RequestContext): string {
  const s = m.interned(Tag.Symbol);
  if (s === undefined) missing(Tag.Symbol, "Symbol");
  if (ctx.instruments.get(s) === undefined) refuse(OrdRejReason.UnknownSymbol, `unknown Symbol ${s.slice(0, 32)}`);
  return s;
}

function side(m: FixMessage): Side {
  const c = m.char(Tag.Side);
  if (c === -1) missing(Tag.Side, "Side");
  if (c === 0x31) return Side.BUY;
  if (c === 0x32) return Side.SELL;
  return badValue(Tag.Side, "Side must be 1 (buy) or 2 (sell)");
}

function account(m: FixMessage, ctx: RequestContext): string {
  const a = m.interned(Tag.Account);
  if (a !== undefined && a !== ctx.account)
    refuse(OrdRejReason.UnknownAccount, "Account is not this session's account");
  return ctx.account;
}

function lots(m: FixMessage, tag: number, name: string, sym: string, ctx: RequestContext, required: boolean): number {
  if (!m.has(tag)) return required ? missing(tag, name) : 0;
  if (!m.decimal(tag)) badValue(tag, `${name} must be a decimal`);
  const r = ctx.instruments.toLots(sym, m.mantissa, m.exponent);
  if (r.ok) return r.value;
  return refuse(
    OrdRejReason.IncorrectQuantity,
    `${name} ${r.problem === "off-lot" ? "is not a multiple of the lot size" : "must be positive"}`,
  );
}

function ticks(m: FixMessage, tag: number, name: string, sym: string, ctx: RequestContext): number {
  if (!m.decimal(tag)) badValue(tag, `${name} must be a decimal`);
  const r = ctx.instruments.toTicks(sym, m.mantissa, m.exponent);
  if (r.ok) return r.value;
  return refuse(
    OrdRejReason.InvalidPriceIncrement,
    `${name} ${r.problem === "off-tick" ? "is not on the instrument's tick" : r.problem === "not-positive" ? "must be positive" : "is too large"}`,
  );
}

/** A Timestamp as { seconds, nanos } from epoch milliseconds. */
function timestampOf(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** NewOrderSingle (D). */
export function newOrderRequest(m: FixMessage, ctx: RequestContext): Decoded<SubmitOrderRequest> {
  return decode(() => {
    const clientOrderId = clOrdId(m, Tag.ClOrdID, "ClOrdID");
    const acct = account(m, ctx);
    const instrument = symbol(m, ctx);
    const s = side(m);
    const ordTypeChar = m.char(Tag.OrdType);
    if (ordTypeChar === -1) missing(Tag.OrdType, "OrdType");
    const orderType = ORD_TYPES[ordTypeChar];
    if (orderType === undefined) refuse(OrdRejReason.UnsupportedOrderCharacteristic, "OrdType must be 1, 2, 3 or 4");
    const qty = lots(m, Tag.OrderQty, "OrderQty", instrument, ctx, true);
    const priced = orderType === OrderType.LIMIT || orderType === OrderType.STOP_LIMIT;
    const stopped = orderType === OrderType.STOP || orderType === OrderType.STOP_LIMIT;
    if (priced && !m.has(Tag.Price)) missing(Tag.Price, "Price");
    if (stopped && !m.has(Tag.StopPx)) missing(Tag.StopPx, "StopPx");
    const price = priced ? ticks(m, Tag.Price, "Price", instrument, ctx) : 0;
    const stopPrice = stopped ? ticks(m, Tag.StopPx, "StopPx", instrument, ctx) : 0;
    const tifChar = m.char(Tag.TimeInForce);
    const timeInForce =
      tifChar === -1 ? (orderType === OrderType.MARKET ? TimeInForce.IOC : TimeInForce.DAY) : TIME_IN_FORCE[tifChar];
    if (timeInForce === undefined)
      refuse(OrdRejReason.UnsupportedOrderCharacteristic, "TimeInForce must be 0, 1, 3, 4 or 6");
    let expireTime: { seconds: number; nanos: number } | undefined;
    if (timeInForce === TimeInForce.GTD) {
      if (!m.has(Tag.ExpireTime)) missing(Tag.ExpireTime, "ExpireTime");
      const at = m.timestamp(Tag.ExpireTime);
      if (Number.isNaN(at)) badValue(Tag.ExpireTime, "ExpireTime must be a UTCTimestamp");
      expireTime = timestampOf(at);
    }
    const displayQty = m.has(Tag.MaxFloor) ? lots(m, Tag.MaxFloor, "MaxFloor", instrument, ctx, true) : 0;
    const execInst = m.string(Tag.ExecInst) ?? "";
    const postOnly = execInst.split(" ").includes(EXEC_INST_POST_ONLY);
    const stpText = m.string(Tag.StpMode);
    const stpMode = stpText === undefined ? StpMode.UNSPECIFIED : STP_MODES[stpText];
    if (stpMode === undefined) badValue(Tag.StpMode, "StpMode (7928) must be N, T, M, B or D");
    const stpGroup = m.int(Tag.StpGroup, 0);
    if (!(stpGroup >= 0 && stpGroup <= 0xffff_ffff)) badValue(Tag.StpGroup, "StpGroup (7929) must be a uint32");
    return {
      account: acct,
      clientOrderId,
      instrument,
      side: s,
      orderType,
      timeInForce,
      price,
      stopPrice,
      qty,
      postOnly,
      stpMode,
      expireTime,
      displayQty,
      stpGroup,
    };
  });
}

/** OrderCancelRequest (F). */
export function cancelRequest(m: FixMessage, ctx: RequestContext): Decoded<CancelOrderRequest> {
  return decode(() => {
    const clientOrderId = clOrdId(m, Tag.ClOrdID, "ClOrdID");
    const orig = clOrdId(m, Tag.OrigClOrdID, "OrigClOrdID");
    const acct = account(m, ctx);
    const instrument = symbol(m, ctx);
    side(m);
    return { account: acct, instrument, target: { $case: "origClientOrderId", value: orig }, clientOrderId };
  });
}

/** OrderCancelReplaceRequest (G): the new price, quantity and stop price. */
export function replaceRequest(m: FixMessage, ctx: RequestContext): Decoded<ReplaceOrderRequest> {
  return decode(() => {
    const clientOrderId = clOrdId(m, Tag.ClOrdID, "ClOrdID");
    const orig = clOrdId(m, Tag.OrigClOrdID, "OrigClOrdID");
    const acct = account(m, ctx);
    const instrument = symbol(m, ctx);
    side(m);
    const ordTypeChar = m.char(Tag.OrdType);
    if (ordTypeChar === -1) missing(Tag.OrdType, "OrdType");
    const orderType = ORD_TYPES[ordTypeChar];
    if (orderType === undefined) refuse(OrdRejReason.UnsupportedOrderCharacteristic, "OrdType must be 1, 2, 3 or 4");
    const qty = lots(m, Tag.OrderQty, "OrderQty", instrument, ctx, true);
    const priced = orderType === OrderType.LIMIT || orderType === OrderType.STOP_LIMIT;
    const stopped = orderType === OrderType.STOP || orderType === OrderType.STOP_LIMIT;
    if (priced && !m.has(Tag.Price)) missing(Tag.Price, "Price");
    const price = priced ? ticks(m, Tag.Price, "Price", instrument, ctx) : 0;
    const stopPrice = stopped && m.has(Tag.StopPx) ? ticks(m, Tag.StopPx, "StopPx", instrument, ctx) : 0;
    return {
      account: acct,
      instrument,
      target: { $case: "origClientOrderId", value: orig },
      clientOrderId,
      price,
      stopPrice,
      qty,
    };
  });
}

/** MassCancelRequestType (530) values supported. */
export const MassCancelType = { BySecurity: "1", All: "7" } as const;

/** OrderMassCancelRequest (q): by security (530=1, Symbol) or everything (530=7); Side optional. */
export function massCancelRequest(m: FixMessage, ctx: RequestContext): Decoded<MassCancelRequest & { type: string }> {
  return decode(() => {
    const clientOrderId = clOrdId(m, Tag.ClOrdID, "ClOrdID");
    const type = m.string(Tag.MassCancelRequestType);
    if (type === undefined) missing(Tag.MassCancelRequestType, "MassCancelRequestType");
    if (type !== MassCancelType.BySecurity && type !== MassCancelType.All)
      refuse(OrdRejReason.UnsupportedOrderCharacteristic, "MassCancelRequestType must be 1 or 7");
    const instrument = type === MassCancelType.BySecurity ? symbol(m, ctx) : "";
    const s = m.has(Tag.Side) ? side(m) : Side.UNSPECIFIED;
    return { account: account(m, ctx), instrument, side: s, clientOrderId, type };
  });
}

/** OrderStatusRequest (H): by OrigClOrdID-free ClOrdID (11) or OrderID (37). */
export function statusRequest(
  m: FixMessage,
  ctx: RequestContext,
): Decoded<{ account: string; instrument: string; clientOrderId: string; orderId: number; statusReqId: string }> {
  return decode(() => {
    const orderIdText = m.string(Tag.OrderID);
    const clientOrderId = m.has(Tag.ClOrdID) ? clOrdId(m, Tag.ClOrdID, "ClOrdID") : "";
    if (clientOrderId === "" && orderIdText === undefined) missing(Tag.ClOrdID, "ClOrdID");
    const orderId = orderIdText === undefined ? 0 : Number(orderIdText);
    if (!Number.isSafeInteger(orderId) || orderId < 0) badValue(Tag.OrderID, "OrderID must be the venue's order id");
    return {
      account: account(m, ctx),
      instrument: symbol(m, ctx),
      clientOrderId,
      orderId,
      statusReqId: m.string(Tag.OrdStatusReqID) ?? "",
    };
  });
}
