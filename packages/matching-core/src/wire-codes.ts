import {
  CancelReason as WireCancelReason,
  type Command,
  InstrumentState as WireState,
  RejectReason as WireReject,
  RequestKind,
  StpMode as WireStp,
  TimeInForce as WireTif,
  type Timestamp,
} from "@tradeplane/contracts";
import { CancelReason, InstrumentState, RejectReason, StpMode, TimeInForce } from "./constants.ts";

// The core's numeric codes to and from the wire's (protobuf enums), wire timestamps to engine
// time (microseconds) and back, and the request fields a wire event repeats.

export const TIF_FROM_WIRE: Record<number, number> = {
  [WireTif.DAY]: TimeInForce.DAY,
  [WireTif.GTC]: TimeInForce.GTC,
  [WireTif.IOC]: TimeInForce.IOC,
  [WireTif.FOK]: TimeInForce.FOK,
  [WireTif.GTD]: TimeInForce.GTD,
};
export const TIF_TO_WIRE: Record<number, WireTif> = Object.fromEntries(
  Object.entries(TIF_FROM_WIRE).map(([wire, core]) => [core, Number(wire) as WireTif]),
);

export const STATE_FROM_WIRE: Record<number, number> = {
  [WireState.CLOSED]: InstrumentState.CLOSED,
  [WireState.PRE_OPEN]: InstrumentState.PRE_OPEN,
  [WireState.CONTINUOUS]: InstrumentState.CONTINUOUS,
  [WireState.HALTED]: InstrumentState.HALTED,
};
export const STATE_TO_WIRE: Record<number, WireState> = Object.fromEntries(
  Object.entries(STATE_FROM_WIRE).map(([wire, core]) => [core, Number(wire) as WireState]),
);

/** The wire state of a core instrument state. */
export function wireStateOf(coreState: number): WireState {
  return STATE_TO_WIRE[coreState] ?? WireState.UNSPECIFIED;
}

/** NSE's rule (cancel the resting order) is the default; NONE is not offered (common.proto): -1 refuses it. */
export const STP_FROM_WIRE: Record<number, number> = {
  [WireStp.UNSPECIFIED]: StpMode.CANCEL_RESTING,
  [WireStp.CANCEL_MAKER]: StpMode.CANCEL_RESTING,
  [WireStp.CANCEL_TAKER]: StpMode.CANCEL_INCOMING,
  [WireStp.CANCEL_BOTH]: StpMode.CANCEL_BOTH,
  [WireStp.DECREMENT]: StpMode.DECREMENT,
};

export const REJECT_TO_WIRE: Record<number, WireReject> = {
  [RejectReason.INVALID_SEQUENCE]: WireReject.MALFORMED_COMMAND,
  [RejectReason.INVALID_TIME]: WireReject.MALFORMED_COMMAND,
  [RejectReason.INVALID_ORDER_ID]: WireReject.UNKNOWN_ORDER,
  [RejectReason.UNKNOWN_INSTRUMENT]: WireReject.UNKNOWN_INSTRUMENT,
  [RejectReason.INVALID_ACCOUNT]: WireReject.MALFORMED_COMMAND,
  [RejectReason.INVALID_COMMAND]: WireReject.UNSUPPORTED_ORDER,
  [RejectReason.INVALID_PRICE]: WireReject.INVALID_PRICE,
  [RejectReason.OFF_TICK]: WireReject.OFF_TICK,
  [RejectReason.INVALID_QTY]: WireReject.INVALID_QTY,
  [RejectReason.OFF_LOT]: WireReject.OFF_LOT,
  [RejectReason.QTY_OUT_OF_RANGE]: WireReject.QTY_OUT_OF_RANGE,
  [RejectReason.MAX_ORDER_VALUE]: WireReject.MAX_ORDER_VALUE,
  [RejectReason.OUTSIDE_PRICE_BAND]: WireReject.OUTSIDE_PRICE_BAND,
  [RejectReason.DUPLICATE_ORDER_ID]: WireReject.DUPLICATE_ORDER_ID,
  [RejectReason.UNKNOWN_ORDER]: WireReject.UNKNOWN_ORDER,
  [RejectReason.ORDER_FINISHED]: WireReject.ORDER_FINISHED,
  // Another account's order is reported as unknown: its existence is not the caller's business.
  [RejectReason.NOT_OWNER]: WireReject.UNKNOWN_ORDER,
  [RejectReason.POST_ONLY_WOULD_TAKE]: WireReject.POST_ONLY_WOULD_TAKE,
  [RejectReason.FOK_NOT_FILLABLE]: WireReject.FOK_NOT_FILLABLE,
  [RejectReason.INSTRUMENT_HALTED]: WireReject.INSTRUMENT_HALTED,
  [RejectReason.MARKET_CLOSED]: WireReject.MARKET_CLOSED,
  [RejectReason.ORDER_TYPE_NOT_ALLOWED]: WireReject.UNSUPPORTED_ORDER,
  [RejectReason.INVALID_DISPLAY_QTY]: WireReject.INVALID_DISPLAY_QTY,
  [RejectReason.INVALID_STOP_PRICE]: WireReject.INVALID_PRICE,
  [RejectReason.INVALID_EXPIRY]: WireReject.INVALID_EXPIRE_TIME,
  [RejectReason.INVALID_STATE_TRANSITION]: WireReject.INVALID_STATE_TRANSITION,
  [RejectReason.CAPACITY_EXCEEDED]: WireReject.CAPACITY_EXCEEDED,
  [RejectReason.SELF_TRADE]: WireReject.SELF_TRADE,
  [RejectReason.FENCED]: WireReject.FENCED,
  [RejectReason.KILL_SWITCH]: WireReject.KILL_SWITCH,
  [RejectReason.INVALID_EPOCH]: WireReject.MALFORMED_COMMAND,
};

const CANCEL_TO_WIRE: Record<number, WireCancelReason> = {
  [CancelReason.USER]: WireCancelReason.CLIENT_REQUEST,
  [CancelReason.IOC_REMAINDER]: WireCancelReason.UNFILLED_REMAINDER,
  [CancelReason.STP]: WireCancelReason.SELF_TRADE_PREVENTION,
  [CancelReason.HALT]: WireCancelReason.HALT,
  [CancelReason.MASS_CANCEL]: WireCancelReason.MASS_CANCEL,
  [CancelReason.KILL_SWITCH]: WireCancelReason.KILL_SWITCH,
};

const US_PER_S = 1_000_000;

/** Microseconds since the epoch of a Timestamp; NaN when absent or out of range. */
export function timestampToUs(ts: Timestamp | undefined): number {
  if (ts === undefined) return NaN;
  const us = ts.seconds * US_PER_S + Math.floor(ts.nanos / 1000);
  return Number.isSafeInteger(us) && us >= 0 && ts.nanos >= 0 && ts.nanos < 1e9 ? us : NaN;
}

/** The Timestamp of microseconds since the epoch. */
export function usToTimestamp(us: number): Timestamp {
  const seconds = Math.floor(us / US_PER_S);
  return { seconds, nanos: (us - seconds * US_PER_S) * 1000 };
}

/** The request kind a rejection reports for `command`. */
export function requestKindOf(command: Command | undefined): RequestKind {
  switch (command?.body?.$case) {
    case "newOrder":
      return RequestKind.NEW_ORDER;
    case "cancelOrder":
      return RequestKind.CANCEL_ORDER;
    case "replaceOrder":
      return RequestKind.REPLACE_ORDER;
    case "massCancel":
      return RequestKind.MASS_CANCEL;
    default:
      return RequestKind.UNSPECIFIED;
  }
}

/** The client order id `command` carries (empty when it has none). */
export function requestClientOrderIdOf(command: Command | undefined): string {
  const b = command?.body;
  if (b === undefined) return "";
  if (b.$case === "cancelOrder" || b.$case === "massCancel" || b.$case === "replaceOrder") return b.value.clientOrderId;
  if (b.$case === "newOrder") return b.value.clientOrderId;
  return "";
}

/** The wire reason of a cancel: the one the cancel command gave, else the core's reason mapped. */
export function cancelReasonOf(command: Command | undefined, core: number): WireCancelReason {
  const b = command?.body;
  if (b?.$case === "cancelOrder" && core === CancelReason.USER && b.value.reason !== WireCancelReason.UNSPECIFIED)
    return b.value.reason;
  if (b?.$case === "massCancel" && core === CancelReason.MASS_CANCEL && b.value.reason !== WireCancelReason.UNSPECIFIED)
    return b.value.reason;
  return CANCEL_TO_WIRE[core] ?? WireCancelReason.UNSPECIFIED;
}
