/**
 * Numeric codes of the matching core. Plain `as const` objects (no enums: the code runs
 * under Node's type stripping), so the hot path compares small integers only.
 */

export const Side = { BUY: 1, SELL: 2 } as const;
export type Side = (typeof Side)[keyof typeof Side];

export const OrderType = { LIMIT: 1, MARKET: 2, STOP_MARKET: 3, STOP_LIMIT: 4 } as const;
export type OrderType = (typeof OrderType)[keyof typeof OrderType];

export const TimeInForce = { DAY: 1, GTC: 2, GTD: 3, IOC: 4, FOK: 5 } as const;
export type TimeInForce = (typeof TimeInForce)[keyof typeof TimeInForce];

/** PRE_OPEN is the call auction, used both for the opening and for re-opening after a halt. */
export const InstrumentState = { PRE_OPEN: 1, CONTINUOUS: 2, HALTED: 3, CLOSED: 4 } as const;
export type InstrumentState = (typeof InstrumentState)[keyof typeof InstrumentState];

/** Self-trade prevention: the mode of the incoming (taking) order decides. 0 is the default. */
export const StpMode = { CANCEL_RESTING: 0, CANCEL_INCOMING: 1, CANCEL_BOTH: 2, DECREMENT: 3 } as const;
export type StpMode = (typeof StpMode)[keyof typeof StpMode];

/** Bit flags of an order. */
export const OrderFlags = { NONE: 0, POST_ONLY: 1 } as const;

export const EventKind = {
  ACCEPTED: 1,
  REJECTED: 2,
  TRADE: 3,
  CANCELLED: 4,
  REPLACED: 5,
  TRIGGERED: 6,
  EXPIRED: 7,
  STATE_CHANGED: 8,
  BOOK_DELTA: 9,
  /** A fence was applied (ADR 0003): account, price = the account's fence after it. */
  ACCOUNT_FENCED: 10,
  /** A kill-switch block was set or lifted: account (-1 = every account), state = 1 blocked, 0 not. */
  ACCOUNT_BLOCK_CHANGED: 11,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Why a command was refused. A rejected command changes nothing but `lastSeq`. */
export const RejectReason = {
  /** seq is not a safe integer greater than the last applied one (lastSeq is left unchanged). */
  INVALID_SEQUENCE: 1,
  /** timeNs is not a non-negative integer. */
  INVALID_TIME: 2,
  /** orderId is not a positive safe integer. */
  INVALID_ORDER_ID: 3,
  UNKNOWN_INSTRUMENT: 4,
  /** account (or STP group) is not an integer in 0..2^31-1 (mass cancel also takes -1 = all). */
  INVALID_ACCOUNT: 5,
  /** A bad side, type, time in force, flag, STP mode or state, or a combination the venue does not offer. */
  INVALID_COMMAND: 6,
  /** Price missing, not a positive safe integer. */
  INVALID_PRICE: 7,
  /** Price (or stop price) not a multiple of the tick size that applies at that price. */
  OFF_TICK: 8,
  /** Quantity not a positive safe integer. */
  INVALID_QTY: 9,
  OFF_LOT: 10,
  /** Quantity outside the instrument's min/max order quantity. */
  QTY_OUT_OF_RANGE: 11,
  MAX_ORDER_VALUE: 12,
  /** Price (or stop price) outside the static price band (or the reference range when there is no band). */
  OUTSIDE_PRICE_BAND: 13,
  /** Another live order (resting or parked stop) has this id. */
  DUPLICATE_ORDER_ID: 14,
  /** No live order has this id: it never existed or is already finished (the core keeps no finished ids). */
  UNKNOWN_ORDER: 15,
  /** Reserved for layers that remember finished ids; the core itself reports UNKNOWN_ORDER. */
  ORDER_FINISHED: 16,
  NOT_OWNER: 17,
  POST_ONLY_WOULD_TAKE: 18,
  FOK_NOT_FILLABLE: 19,
  INSTRUMENT_HALTED: 20,
  MARKET_CLOSED: 21,
  /** The order type or time in force is not accepted in the instrument's current state (e.g. market in pre-open). */
  ORDER_TYPE_NOT_ALLOWED: 22,
  INVALID_DISPLAY_QTY: 23,
  INVALID_STOP_PRICE: 24,
  /** GTD without an expiry time later than the command's time. */
  INVALID_EXPIRY: 25,
  INVALID_STATE_TRANSITION: 26,
  CAPACITY_EXCEEDED: 27,
  /**
   * In the call auction (PRE_OPEN), the order would cross a resting order of its own owner
   * (account or STP group): refused at entry whatever its STP mode, as NSE does, so that the
   * uncross never matches two orders of one owner.
   */
  SELF_TRADE: 28,
  /**
   * The account is fenced (ADR 0003): the command's owner epoch is below the account's fence,
   * so it came from a gateway replica that no longer owns the account.
   */
  FENCED: 29,
  /** A kill switch blocks the account (or every account): new orders and replaces are refused. */
  KILL_SWITCH: 30,
  /** A fence epoch that is not a positive safe integer. */
  INVALID_EPOCH: 31,
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

/** Why a live order (or part of it) left the book. EXPIRY is carried by EXPIRED events. */
export const CancelReason = {
  USER: 1,
  IOC_REMAINDER: 2,
  STP: 3,
  EXPIRY: 4,
  HALT: 5,
  MASS_CANCEL: 6,
  /** A stop order of a blocked account triggered: cancelled instead of entering the book. */
  KILL_SWITCH: 7,
} as const;
export type CancelReason = (typeof CancelReason)[keyof typeof CancelReason];

/** A tick-size slab: from `fromPrice` (inclusive, minor units) upward the tick is `tickSize`. */
export interface TickSlab {
  readonly fromPrice: number;
  readonly tickSize: number;
}

/**
 * NSE equity tick sizes from April 2025, in paise: below 250 INR 0.01, 250-1,000 0.05,
 * 1,000-5,000 0.10, 5,000-10,000 0.50, 10,000-20,000 1.00, above 20,000 5.00.
 */
export const NSE_TICK_SLABS: readonly TickSlab[] = Object.freeze([
  Object.freeze({ fromPrice: 0, tickSize: 1 }),
  Object.freeze({ fromPrice: 25_000, tickSize: 5 }),
  Object.freeze({ fromPrice: 100_000, tickSize: 10 }),
  Object.freeze({ fromPrice: 500_000, tickSize: 50 }),
  Object.freeze({ fromPrice: 1_000_000, tickSize: 100 }),
  Object.freeze({ fromPrice: 2_000_000, tickSize: 500 }),
]);

/** Name of a code in one of the objects above, for messages and tests: `codeName(RejectReason, 8)` is "OFF_TICK". */
export function codeName(codes: Readonly<Record<string, number>>, value: number): string {
  for (const [name, v] of Object.entries(codes)) if (v === value) return name;
  return String(value);
}
