import { OrderType, RejectReason, Side, StpMode, TimeInForce, type SubmitOrderRequest } from "@tradeplane/contracts";

/**
 * Syntax checks of an order request, before any risk check: every field in its range
 * (see common.proto). Pure; returns the offending field and why, or undefined.
 */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
  /** The reject reason when it is not MALFORMED_REQUEST (an unknown instrument has its own). */
  readonly reason?: RejectReason;
}

const CLIENT_ORDER_ID = /^[\x21-\x7e]{1,36}$/;
const MAX_TICKS = 2 ** 40;
const MAX_LOTS = 2 ** 40;

/** A named value of the enum other than UNSPECIFIED (0) and ts-proto's UNRECOGNIZED marker (-1). */
const inEnum = (values: Record<string, number>, v: number): boolean => v > 0 && Object.values(values).includes(v);
const positiveInt = (v: number, max: number): boolean => Number.isSafeInteger(v) && v >= 1 && v <= max;

export function clientOrderIdProblem(field: string, value: string): FieldProblem | undefined {
  return CLIENT_ORDER_ID.test(value) ? undefined : { field, message: "must be 1..36 printable ASCII characters" };
}

export function submitProblem(
  r: SubmitOrderRequest,
  knownInstrument: (symbol: string) => boolean,
): FieldProblem | undefined {
  const id = clientOrderIdProblem("client_order_id", r.clientOrderId);
  if (id !== undefined) return id;
  if (!knownInstrument(r.instrument))
    return {
      field: "instrument",
      message: `unknown instrument ${JSON.stringify(r.instrument.slice(0, 40))}`,
      reason: RejectReason.UNKNOWN_INSTRUMENT,
    };
  if (!inEnum(Side, r.side)) return { field: "side", message: "must be BUY or SELL" };
  if (!inEnum(OrderType, r.orderType)) return { field: "order_type", message: "required" };
  if (!inEnum(TimeInForce, r.timeInForce)) return { field: "time_in_force", message: "required" };
  if (!positiveInt(r.qty, MAX_LOTS)) return { field: "qty", message: "must be a whole number of lots >= 1" };
  const limit = r.orderType === OrderType.LIMIT || r.orderType === OrderType.STOP_LIMIT;
  const stop = r.orderType === OrderType.STOP || r.orderType === OrderType.STOP_LIMIT;
  if (limit && !positiveInt(r.price, MAX_TICKS))
    return { field: "price", message: "must be a whole number of ticks >= 1" };
  if (!limit && r.price !== 0) return { field: "price", message: "must be 0 for MARKET and STOP orders" };
  if (stop && !positiveInt(r.stopPrice, MAX_TICKS))
    return { field: "stop_price", message: "must be >= 1 for stop orders" };
  if (!stop && r.stopPrice !== 0) return { field: "stop_price", message: "must be 0 unless the order is a stop" };
  if (r.orderType === OrderType.MARKET && r.timeInForce !== TimeInForce.IOC && r.timeInForce !== TimeInForce.FOK)
    return { field: "time_in_force", message: "MARKET orders take IOC or FOK" };
  if (r.timeInForce === TimeInForce.GTD && r.expireTime === undefined)
    return { field: "expire_time", message: "required for GTD" };
  if (r.timeInForce !== TimeInForce.GTD && r.expireTime !== undefined)
    return { field: "expire_time", message: "only for GTD" };
  if (!Number.isSafeInteger(r.displayQty) || r.displayQty < 0 || r.displayQty > r.qty)
    return { field: "display_qty", message: "must be between 0 and qty" };
  if (r.stpMode !== StpMode.UNSPECIFIED && !inEnum(StpMode, r.stpMode))
    return { field: "stp_mode", message: "unknown mode" };
  if (r.stpMode === StpMode.NONE)
    return {
      field: "stp_mode",
      message: "STP_MODE_NONE is not offered: orders of one account (or STP group) never trade with each other",
      reason: RejectReason.UNSUPPORTED_ORDER,
    };
  if (!Number.isSafeInteger(r.stpGroup) || r.stpGroup < 0 || r.stpGroup > 0x7fffffff)
    return { field: "stp_group", message: "must be 0..2^31-1" };
  return undefined;
}
