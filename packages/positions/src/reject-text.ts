import { RejectReason } from "@tradeplane/contracts";

/**
 * What each engine reject means, in words (docs/api.md's table): the text of a REJECTED
 * report when the engine gave none, so that a reject always says why.
 */
const ENGINE_REJECT_TEXT: Partial<Record<RejectReason, string>> = {
  [RejectReason.UNKNOWN_INSTRUMENT]: "the instrument is not listed",
  [RejectReason.OFF_TICK]: "the price is not on the instrument's tick table",
  [RejectReason.OFF_LOT]: "the quantity is not a multiple of the lot",
  [RejectReason.INVALID_QTY]: "the quantity is not positive, or not above the filled quantity",
  [RejectReason.INVALID_PRICE]: "the price is missing, not positive, or given where the order type takes none",
  [RejectReason.QTY_OUT_OF_RANGE]: "the quantity is outside the instrument's min_qty..max_qty",
  [RejectReason.MAX_ORDER_VALUE]: "the notional is above the instrument's max_order_notional",
  [RejectReason.OUTSIDE_PRICE_BAND]: "the price is outside the band around the reference price",
  [RejectReason.DUPLICATE_ORDER_ID]: "the command was delivered twice",
  [RejectReason.UNKNOWN_ORDER]: "unknown order",
  [RejectReason.ORDER_FINISHED]: "the order is already filled, cancelled or expired",
  [RejectReason.POST_ONLY_WOULD_TAKE]: "a post-only order would trade on entry",
  [RejectReason.FOK_NOT_FILLABLE]: "a fill-or-kill order cannot fill completely",
  [RejectReason.MARKET_CLOSED]: "the instrument is closed",
  [RejectReason.INSTRUMENT_HALTED]: "the instrument is halted",
  [RejectReason.SELF_TRADE]: "self-trade prevention: the order would trade with an order of the same owner",
  [RejectReason.UNSUPPORTED_ORDER]: "this order type, time in force and flags are not supported together (or not now)",
  [RejectReason.INVALID_EXPIRE_TIME]: "GTD needs a future expire_time; other times in force take none",
  [RejectReason.INVALID_DISPLAY_QTY]: "display_qty is negative, off the lot or above qty",
  [RejectReason.CAPACITY_EXCEEDED]: "the engine holds as many live orders as it is configured for; retry later",
  [RejectReason.INVALID_STATE_TRANSITION]: "the instrument cannot make this state change from its state",
  [RejectReason.MALFORMED_COMMAND]: "the command could not be read",
  [RejectReason.FENCED]: "written by a gateway replica that no longer owns the account; nothing happened",
  [RejectReason.KILL_SWITCH]: "a kill switch for the account or the whole venue is engaged",
};

/** The report text of a reject: the engine's own, else what the reason means, else its name. */
export function rejectText(reason: number, engineText: string): string {
  if (engineText !== "") return engineText;
  return (
    ENGINE_REJECT_TEXT[reason as RejectReason] ??
    Object.entries(RejectReason).find(([, v]) => v === reason)?.[0] ??
    `reject reason ${reason}`
  );
}
