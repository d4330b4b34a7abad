/**
 * The rows the journal writes, one interface per table (see migrations/0001_journal.sql).
 * Every row of an event is keyed by the event's `(commandSeq, index)`, unique venue-wide,
 * so writing the same event twice is a no-op (ON CONFLICT DO NOTHING). Prices in ticks,
 * quantities in lots, times in microseconds since the epoch.
 */

/** One row per event and order it concerns (a trade concerns two): an order's audit trail. */
export interface OrderEventRow {
  readonly commandSeq: number;
  readonly index: number;
  /** 0 for an event about no order (a state change, a rejection of an unknown order). */
  readonly orderId: number;
  readonly streamSeq: number;
  readonly partition: number;
  readonly instrument: string;
  readonly kind: EventKindName;
  readonly account: string;
  readonly timeUs: number;
  /** The event as protobuf JSON (EngineEvent.toJSON), for the audit trail. */
  readonly detail: string;
}

export type EventKindName =
  | "accepted"
  | "rejected"
  | "trade"
  | "cancelled"
  | "replaced"
  | "triggered"
  | "expired"
  | "instrumentStateChanged"
  | "massCancelCompleted"
  | "accountFenced"
  | "accountBlockChanged";

export interface TradeRow {
  readonly commandSeq: number;
  readonly index: number;
  /** Per instrument, from the engine: unique only with the instrument. */
  readonly tradeId: number;
  readonly streamSeq: number;
  readonly partition: number;
  readonly instrument: string;
  readonly price: number;
  readonly qty: number;
  readonly aggressorSide: string;
  readonly makerOrderId: number;
  readonly makerAccount: string;
  readonly takerOrderId: number;
  readonly takerAccount: string;
  readonly timeUs: number;
}

/** One side of a trade, for the account that traded it. */
export interface ExecutionRow {
  readonly commandSeq: number;
  readonly index: number;
  readonly role: "maker" | "taker";
  readonly account: string;
  readonly orderId: number;
  readonly instrument: string;
  readonly side: "BUY" | "SELL";
  readonly price: number;
  readonly qty: number;
  readonly leavesQty: number;
  readonly timeUs: number;
}

/**
 * Fields of an order that events set together, each group with the key of the newest event
 * that set it: an order's row takes each group from the newest event that carries it, so the
 * row is the same whatever order the events arrive in (a replace stored after the cancel that
 * followed it still leaves the replaced terms).
 */
export const ORDER_FIELD_GROUPS = {
  terms: ["clientOrderId", "stopPrice", "qty"],
  orderType: ["orderType"],
  price: ["price"],
  leaves: ["leavesQty"],
  status: ["status"],
} as const;

export type OrderFieldGroup = keyof typeof ORDER_FIELD_GROUPS;

/** An event key: (commandSeq, index). */
export type EventKey = readonly [commandSeq: number, index: number];

/**
 * What one batch knows of an order, merged over the batch's events in (commandSeq, index)
 * order: undefined fields are unchanged. `keys` says which event set each field group.
 * Account, side, time in force and acceptance never change: the first value learnt stays.
 */
export interface OrderUpdate {
  readonly orderId: number;
  readonly lastCommandSeq: number;
  readonly lastIndex: number;
  readonly partition: number;
  readonly instrument: string;
  readonly timeUs: number;
  readonly account?: string;
  readonly clientOrderId?: string;
  readonly side?: string;
  readonly orderType?: string;
  readonly timeInForce?: string;
  readonly price?: number;
  readonly stopPrice?: number;
  readonly qty?: number;
  readonly leavesQty?: number;
  readonly status?: OrderStatus;
  /** Command sequence of the acceptance (the order id, unless the event says otherwise). */
  readonly acceptedCommandSeq?: number;
  /** Filled in by mergeOrderUpdates. */
  readonly keys?: Readonly<Partial<Record<OrderFieldGroup, EventKey>>>;
}

export type OrderStatus = "NEW" | "PARTIALLY_FILLED" | "FILLED" | "CANCELLED" | "EXPIRED" | "TRIGGERED";

/** A message or event the projector could not use, with the reason; never stops the projector. */
export interface DeadLetterRow {
  readonly streamSeq: number;
  /** The event's position in its message; -1 for the whole message. */
  readonly position: number;
  readonly subject: string;
  readonly reason: DeadLetterReason;
  readonly detail: string;
  /** The message's bytes (whole-message letters only). */
  readonly data: Uint8Array | undefined;
}

export type DeadLetterReason =
  "UNDECODABLE" | "BAD_SUBJECT" | "MISSING_BODY" | "BAD_KEY" | "BAD_FIELD" | "UNKNOWN_KIND";

/** Everything one batch of stream messages writes, in one transaction with `resumeAfter`. */
export interface JournalWrites {
  readonly orderEvents: OrderEventRow[];
  readonly trades: TradeRow[];
  readonly executions: ExecutionRow[];
  readonly orders: OrderUpdate[];
  readonly deadLetters: DeadLetterRow[];
  /** The stream sequence of the batch's last message: where the projector resumes after it. */
  readonly resumeAfter: number;
}
