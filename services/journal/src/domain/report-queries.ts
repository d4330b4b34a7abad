import { isInstrumentSymbol } from "@tradeplane/contracts";
import { DEFAULT_QUERY_ROWS, MAX_QUERY_ROWS, type QueryRefusal } from "./queries.ts";
import { isTradingDayText } from "./trading-calendar.ts";

/**
 * The JournalQuery requests, checked once with every bound explicit: a refusal says which
 * field and why with a reason code. Pure; the SQL adapter takes only checked queries.
 */

const ACCOUNT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: QueryRefusal };

const refuse = (reason: QueryRefusal["reason"], message: string) => ({
  ok: false as const,
  refusal: { reason, message },
});

/** The key of an execution row, to page after. */
export interface ExecutionKey {
  readonly commandSeq: number;
  readonly index: number;
  readonly role: "maker" | "taker";
}

export interface ExecutionsQuery {
  /** "" = every account. */
  readonly account: string;
  /** "" = every instrument. */
  readonly instrument: string;
  readonly fromUs: number;
  readonly toUs: number;
  readonly limit: number;
  /** Rows after this key; commandSeq 0 = from the first. */
  readonly after: ExecutionKey;
}

export interface RawExecutionsQuery {
  readonly account: string;
  readonly instrument: string;
  readonly fromUs?: number;
  readonly toUs?: number;
  readonly limit: number;
  readonly afterCommandSeq: number;
  readonly afterIndex: number;
  readonly afterRole: string;
}

/** An account filter: "" (every account) or an account name. */
export function checkAccountFilter(account: string): QueryRefusal | undefined {
  return account === "" || ACCOUNT_PATTERN.test(account)
    ? undefined
    : {
        reason: "INVALID_ACCOUNT",
        message: "account must be 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit",
      };
}

function checkLimit(limit: number): Outcome<number> {
  if (limit === 0) return { ok: true, value: DEFAULT_QUERY_ROWS };
  return Number.isInteger(limit) && limit >= 1 && limit <= MAX_QUERY_ROWS
    ? { ok: true, value: limit }
    : refuse("INVALID_LIMIT", `limit must be 1..${MAX_QUERY_ROWS} (0 = ${DEFAULT_QUERY_ROWS})`);
}

export function checkExecutionsQuery(q: RawExecutionsQuery): Outcome<ExecutionsQuery> {
  const account = checkAccountFilter(q.account);
  if (account !== undefined) return { ok: false, refusal: account };
  if (q.instrument !== "" && !isInstrumentSymbol(q.instrument))
    return refuse("INVALID_INSTRUMENT", "instrument must be 1..32 characters of [A-Za-z0-9_-]");
  const fromUs = q.fromUs ?? 0;
  const toUs = q.toUs ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(fromUs) || !Number.isSafeInteger(toUs) || fromUs < 0 || fromUs > toUs)
    return refuse("INVALID_TIME_RANGE", "time range must have from_time <= to_time, both after 1970");
  const limit = checkLimit(q.limit);
  if (!limit.ok) return limit;
  const role = q.afterRole === "" ? "maker" : q.afterRole.toLowerCase();
  if (!Number.isSafeInteger(q.afterCommandSeq) || q.afterCommandSeq < 0 || (role !== "maker" && role !== "taker"))
    return refuse("INVALID_PAGE", "after_role must be MAKER or TAKER, after_command_seq a sequence >= 0");
  return {
    ok: true,
    value: {
      account: q.account,
      instrument: q.instrument,
      fromUs,
      toUs,
      limit: limit.value,
      after: { commandSeq: q.afterCommandSeq, index: q.afterIndex, role },
    },
  };
}

export function checkTradingDay(day: string): QueryRefusal | undefined {
  return isTradingDayText(day)
    ? undefined
    : { reason: "INVALID_TRADING_DAY", message: 'trading_day must be a date "YYYY-MM-DD" that exists' };
}

export interface RegisterPage {
  readonly limit: number;
  readonly afterCommandSeq: number;
  readonly afterIndex: number;
}

export function checkRegisterPage(limit: number, afterCommandSeq: number, afterIndex: number): Outcome<RegisterPage> {
  const checked = checkLimit(limit);
  if (!checked.ok) return checked;
  if (!Number.isSafeInteger(afterCommandSeq) || afterCommandSeq < 0)
    return refuse("INVALID_PAGE", "after_command_seq must be a sequence >= 0");
  return { ok: true, value: { limit: checked.value, afterCommandSeq, afterIndex } };
}
