import type { KV } from "@nats-io/kv";
import { parseToken, readAccount, tokenHash, tokenKey } from "@tradeplane/accounts";

/**
 * The accounts a trading token's principal may read, from the venue's accounts bucket (the
 * same records the risk gateway authenticates orders with): the account the token was issued
 * for, or the account named after its principal, when that account lists the principal and
 * is enabled. Read per call, so a revoked token or a removed principal stops at once.
 * Undefined when the token is unknown.
 */
export function tradingTokenAccounts(kv: KV) {
  return async (token: string): Promise<{ principal: string; accounts: string[] } | undefined> => {
    const entry = await kv.get(tokenKey(tokenHash(token)));
    if (entry === null || entry.operation !== "PUT") return undefined;
    let record;
    try {
      record = parseToken(entry.string());
    } catch {
      return undefined;
    }
    if (record === undefined) return undefined;
    const name = record.account ?? record.principal;
    const account = await readAccount(kv, name).catch(() => undefined);
    const allowed =
      account !== undefined && !account.record.disabled && account.record.principals.includes(record.principal);
    return { principal: record.principal, accounts: allowed ? [name] : [] };
  };
}
