import { StpMode, type RiskLimits } from "@tradeplane/contracts";
import type { LimitOverrides } from "@tradeplane/risk-checks/limits";
import type { FieldProblem } from "./request-validation.ts";

/**
 * Checks of RiskAdmin account and limit requests (risk_admin.proto), before anything is
 * written to the accounts bucket. Pure: each returns the first offending field (named as
 * in the proto, with the path into the request) and why, or undefined.
 */

/**
 * 1..64 of [A-Za-z0-9_.-], starting with a letter or digit (the proto's rule), and, because
 * the account is stored under the bucket key `account.<name>` whose dots separate subject
 * tokens, no empty token: no "..", no trailing ".".
 */
const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const MAX_DISPLAY_NAME = 256;
export const MAX_PRINCIPALS = 100;
/** Principals are token subjects: printable ASCII without spaces. */
const PRINCIPAL = /^[\x21-\x7e]{1,128}$/;
/** Largest price collar, in basis points (1,000%): a larger one would never bind. */
export const MAX_PRICE_COLLAR_BPS = 100_000;
export const MAX_RESTRICTED_INSTRUMENTS = 10_000;

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1_000;

export function accountNameProblem(field: string, name: string): FieldProblem | undefined {
  if (name === "") return { field, message: "required" };
  if (!ACCOUNT_NAME.test(name))
    return { field, message: "must be 1..64 characters of [A-Za-z0-9_.-] starting with a letter or digit" };
  if (name.includes("..") || name.endsWith("."))
    return { field, message: 'must not contain ".." or end with "." (the name is a key in the accounts bucket)' };
  return undefined;
}

/** The fields of an Account that a caller sets (create and update). */
export interface AccountFields {
  readonly name: string;
  readonly displayName: string;
  readonly principals: readonly string[];
  readonly defaultStpMode: number;
}

/** A principal named in a request (token subject or certificate CN). */
export function principalProblem(field: string, principal: string): FieldProblem | undefined {
  return PRINCIPAL.test(principal) ? undefined : { field, message: "must be 1..128 printable ASCII characters" };
}

/** Longest description of an API token, in characters. */
export const MAX_TOKEN_DESCRIPTION = 256;

export function accountProblem(prefix: string, a: AccountFields): FieldProblem | undefined {
  const name = accountNameProblem(`${prefix}.name`, a.name);
  if (name !== undefined) return name;
  if (a.displayName.length > MAX_DISPLAY_NAME)
    return { field: `${prefix}.display_name`, message: `must be at most ${MAX_DISPLAY_NAME} characters` };
  if (a.principals.length > MAX_PRINCIPALS)
    return { field: `${prefix}.principals`, message: `at most ${MAX_PRINCIPALS} principals` };
  const seen = new Set<string>();
  for (const [i, p] of a.principals.entries()) {
    if (!PRINCIPAL.test(p))
      return { field: `${prefix}.principals[${i}]`, message: "must be 1..128 printable ASCII characters" };
    if (seen.has(p)) return { field: `${prefix}.principals[${i}]`, message: `${p} is listed twice` };
    seen.add(p);
  }
  if (!isStpMode(a.defaultStpMode))
    return { field: `${prefix}.default_stp_mode`, message: "unknown self-trade prevention mode" };
  if (a.defaultStpMode === StpMode.NONE)
    return {
      field: `${prefix}.default_stp_mode`,
      message: "STP_MODE_NONE is not offered: orders of one account never trade with each other",
    };
  return undefined;
}

function isStpMode(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && Object.values(StpMode).includes(v as StpMode);
}

const nonNegative = (v: number, max = Number.MAX_SAFE_INTEGER): boolean =>
  Number.isSafeInteger(v) && v >= 0 && v <= max;

/** Limits of SetLimits: every present limit >= 0 (0 blocks), restricted instruments listed by the venue. */
export function limitsProblem(
  prefix: string,
  l: RiskLimits,
  knownInstrument: (symbol: string) => boolean,
): FieldProblem | undefined {
  const numeric: [field: string, value: number | undefined, max?: number][] = [
    ["max_order_qty", l.maxOrderQty],
    ["max_order_notional", l.maxOrderNotional],
    ["price_collar_bps", l.priceCollarBps, MAX_PRICE_COLLAR_BPS],
    ["max_position", l.maxPosition],
    ["credit_limit", l.creditLimit],
    ["max_orders_per_second", l.maxOrdersPerSecond],
  ];
  for (const [field, value, max] of numeric) {
    if (value !== undefined && !nonNegative(value, max))
      return {
        field: `${prefix}.${field}`,
        message:
          max === undefined ? "must be a whole number >= 0 (0 blocks every order)" : `must be a whole number 0..${max}`,
      };
  }
  if (l.restrictedInstruments.length > MAX_RESTRICTED_INSTRUMENTS)
    return { field: `${prefix}.restricted_instruments`, message: `at most ${MAX_RESTRICTED_INSTRUMENTS} instruments` };
  const seen = new Set<string>();
  for (const [i, symbol] of l.restrictedInstruments.entries()) {
    const field = `${prefix}.restricted_instruments[${i}]`;
    if (!knownInstrument(symbol))
      return { field, message: `unknown instrument ${JSON.stringify(symbol.slice(0, 40))}` };
    if (seen.has(symbol)) return { field, message: `${symbol} is listed twice` };
    seen.add(symbol);
  }
  return undefined;
}

/** The wire limits as stored (absent = inherit); the shapes match field by field. */
export function overridesOf(l: RiskLimits | undefined): LimitOverrides {
  if (l === undefined) return {};
  const out: { -readonly [K in keyof LimitOverrides]: LimitOverrides[K] } = {};
  if (l.maxOrderQty !== undefined) out.maxOrderQty = l.maxOrderQty;
  if (l.maxOrderNotional !== undefined) out.maxOrderNotional = l.maxOrderNotional;
  if (l.priceCollarBps !== undefined) out.priceCollarBps = l.priceCollarBps;
  if (l.maxPosition !== undefined) out.maxPosition = l.maxPosition;
  if (l.creditLimit !== undefined) out.creditLimit = l.creditLimit;
  if (l.maxOrdersPerSecond !== undefined) out.maxOrdersPerSecond = l.maxOrdersPerSecond;
  if (l.restrictedInstruments.length > 0) out.restrictedInstruments = [...l.restrictedInstruments];
  return out;
}

/** Stored limits on the wire; a stored value that is not a whole number >= 0 is left out (inherits). */
export function wireLimitsOf(o: LimitOverrides): RiskLimits {
  const num = (v: unknown): number | undefined =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  return {
    maxOrderQty: num(o.maxOrderQty),
    maxOrderNotional: num(o.maxOrderNotional),
    priceCollarBps: num(o.priceCollarBps),
    maxPosition: num(o.maxPosition),
    creditLimit: num(o.creditLimit),
    maxOrdersPerSecond: num(o.maxOrdersPerSecond),
    restrictedInstruments: Array.isArray(o.restrictedInstruments) ? o.restrictedInstruments.map(String) : [],
  };
}

/** page_size of ListAccounts: 0 = the default, else 1..MAX_PAGE_SIZE. */
export function pageSizeOf(pageSize: number): number | FieldProblem {
  if (pageSize === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE)
    return { field: "page_size", message: `must be 0 (= ${DEFAULT_PAGE_SIZE}) or 1..${MAX_PAGE_SIZE}` };
  return pageSize;
}

/**
 * Page tokens are opaque to callers: the last name of the previous page, versioned and
 * base64url-encoded, so a listing continues after it even when accounts come and go.
 */
const TOKEN_PREFIX = "v1:";

export function pageTokenOf(lastName: string): string {
  return Buffer.from(TOKEN_PREFIX + lastName, "utf8").toString("base64url");
}

/** The name a page token continues after ("" for the first page), or the problem. */
export function afterNameOf(pageToken: string): string | FieldProblem {
  if (pageToken === "") return "";
  const problem = { field: "page_token", message: "not a token from a previous ListAccounts answer" };
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(pageToken)) return problem;
  const text = Buffer.from(pageToken, "base64url").toString("utf8");
  if (!text.startsWith(TOKEN_PREFIX)) return problem;
  const name = text.slice(TOKEN_PREFIX.length);
  return accountNameProblem("page_token", name) === undefined ? name : problem;
}

/** One page of names in ascending order after `after`, and the token of the next page ("" on the last). */
export function pageOf(
  sortedNames: readonly string[],
  after: string,
  pageSize: number,
): { names: string[]; nextPageToken: string } {
  let start = 0;
  if (after !== "") {
    // First name greater than `after` (binary search: the list is sorted).
    let lo = 0;
    let hi = sortedNames.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sortedNames[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const names = sortedNames.slice(start, start + pageSize);
  const more = start + pageSize < sortedNames.length;
  return { names, nextPageToken: more ? pageTokenOf(names[names.length - 1]!) : "" };
}
