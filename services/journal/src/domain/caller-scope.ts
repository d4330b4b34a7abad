/**
 * What a JournalQuery caller may read. An admin token (any role) reads every account: the
 * journal serves compliance, operations and clearing. A trading token reads only the
 * accounts its principal trades: their trades, ratios, obligations and orders, never the
 * register of the day (it names every counterparty) and never another account's order.
 * Pure: the adapter resolves the token, this decides.
 */

export type CallerScope =
  | { readonly kind: "admin"; readonly principal: string }
  | { readonly kind: "account"; readonly principal: string; readonly accounts: readonly string[] };

export type ScopeDecision =
  { readonly ok: true; readonly account: string } | { readonly ok: false; readonly message: string };

/**
 * The account filter a call runs with: an admin's as asked ("" = every account); an account
 * caller's as asked when it is one of its accounts, or its only account when it names none.
 */
export function scopedAccount(scope: CallerScope, requested: string): ScopeDecision {
  if (scope.kind === "admin") return { ok: true, account: requested };
  if (scope.accounts.length === 0) return { ok: false, message: "this token may read no account" };
  if (requested === "") {
    if (scope.accounts.length === 1) return { ok: true, account: scope.accounts[0]! };
    return { ok: false, message: "this token trades several accounts: name one with account" };
  }
  return scope.accounts.includes(requested)
    ? { ok: true, account: requested }
    : { ok: false, message: "this token may not read that account" };
}

/** Whether the caller may read an order of `orderAccount`. */
export function mayReadOrder(scope: CallerScope, orderAccount: string): boolean {
  return scope.kind === "admin" || scope.accounts.includes(orderAccount);
}

/** Whether the caller may read the whole day's register (both sides of every trade). */
export function mayReadRegister(scope: CallerScope): boolean {
  return scope.kind === "admin";
}
