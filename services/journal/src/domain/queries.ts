import { isInstrumentSymbol } from "@tradeplane/contracts";

/** Most rows one query returns; a caller pages with `afterCommandSeq`/`afterIndex`. */
export const MAX_QUERY_ROWS = 10_000;
export const DEFAULT_QUERY_ROWS = 1_000;
const MAX_ACCOUNT_LENGTH = 256;

/** Why a query was refused: a caller can act on each. */
export type QueryRefusal = {
  readonly reason:
    | "INVALID_ACCOUNT"
    | "INVALID_INSTRUMENT"
    | "INVALID_TIME_RANGE"
    | "INVALID_LIMIT"
    | "INVALID_ORDER_ID"
    | "INVALID_TRADING_DAY"
    | "INVALID_PAGE"
    | "UNKNOWN_INSTRUMENT";
  readonly message: string;
};

export interface TradesQuery {
  readonly account: string;
  readonly instrument?: string;
  /** Microseconds since the epoch, inclusive. */
  readonly fromUs?: number;
  /** Microseconds since the epoch, exclusive. */
  readonly toUs?: number;
  readonly limit?: number;
}

export type Checked<T> =
  { readonly ok: true; readonly value: Required<T> } | { readonly ok: false; readonly refusal: QueryRefusal };

const refuse = (reason: QueryRefusal["reason"], message: string) => ({
  ok: false as const,
  refusal: { reason, message },
});

/** A trades query with every bound explicit, or why it is refused. */
export function checkTradesQuery(q: TradesQuery): Checked<TradesQuery> {
  if (q.account.length === 0 || q.account.length > MAX_ACCOUNT_LENGTH)
    return refuse("INVALID_ACCOUNT", `account must be 1..${MAX_ACCOUNT_LENGTH} characters`);
  if (q.instrument !== undefined && !isInstrumentSymbol(q.instrument))
    return refuse("INVALID_INSTRUMENT", "instrument must be 1..32 characters of [A-Za-z0-9_-]");
  const fromUs = q.fromUs ?? 0;
  const toUs = q.toUs ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(fromUs) || !Number.isSafeInteger(toUs) || fromUs < 0 || fromUs > toUs)
    return refuse("INVALID_TIME_RANGE", "time range must be 0 <= from <= to, in microseconds since the epoch");
  const limit = q.limit ?? DEFAULT_QUERY_ROWS;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_ROWS)
    return refuse("INVALID_LIMIT", `limit must be 1..${MAX_QUERY_ROWS}`);
  return { ok: true, value: { account: q.account, instrument: q.instrument ?? "", fromUs, toUs, limit } };
}

/** An order id as the engine gives them: its command sequence, a safe integer >= 1. */
export function checkOrderId(orderId: number): QueryRefusal | undefined {
  return Number.isSafeInteger(orderId) && orderId >= 1
    ? undefined
    : { reason: "INVALID_ORDER_ID", message: "order id must be an integer >= 1" };
}
