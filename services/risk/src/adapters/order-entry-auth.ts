import type { Metadata } from "@grpc/grpc-js";
import {
  AuthError,
  excerpt,
  ValidationError,
  verifiedClientCommonName,
  type PeerAuthSource,
} from "@tradeplane/platform";
import { accountNameProblem } from "../domain/account-validation.ts";
import type { AccountRegistry } from "./accounts.ts";

/** What authorisation reads of a call: its metadata (bearer token) and its transport (client certificate). */
export type Caller = PeerAuthSource & { readonly metadata: Metadata };

/**
 * Who is calling: the principal of the bearer token when the call carries an
 * authorization header (a bad token is refused, whatever the transport says), else the
 * subject CN of the client certificate the server verified (mutual TLS).
 */
export function principalOf(accounts: AccountRegistry, caller: Caller): string | undefined {
  const header = String(caller.metadata.get("authorization")[0] ?? "");
  if (header === "") return verifiedClientCommonName(caller);
  return accounts.principalOf(header.startsWith("Bearer ") ? header.slice(7) : "");
}

/**
 * The account the caller may act for: the one it asks for, or its only one when it names
 * none. A name that cannot be an account is refused (INVALID_ARGUMENT) before anything is
 * looked up with it; the refusals repeat at most a short excerpt of it.
 */
export function authoriseAccount(accounts: AccountRegistry, caller: Caller, requested: string): string {
  const problem = requested === "" ? undefined : accountNameProblem("account", requested);
  if (problem !== undefined)
    throw new ValidationError(`${problem.field}: ${problem.message}`, [
      { path: problem.field, message: problem.message },
    ]);
  const principal = principalOf(accounts, caller);
  if (principal === undefined)
    throw new AuthError("UNAUTHENTICATED", "a valid bearer token (or a verified client certificate) is required");
  const allowed = accounts.accountsOf(principal);
  const account = requested === "" && allowed.length === 1 ? allowed[0]! : requested;
  if (!allowed.includes(account))
    throw new AuthError(
      "PERMISSION_DENIED",
      `principal may not trade account ${account === "" ? "(none)" : excerpt(account)}`,
    );
  return account;
}
