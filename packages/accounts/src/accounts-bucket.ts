import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { AlreadyExistsError, RevisionConflictError } from "@tradeplane/platform";
import {
  accountKey,
  KILL_SWITCH_KEY_PREFIX,
  parseAccount,
  parseToken,
  TOKEN_KEY_PREFIX,
  tokenHash,
  tokenIdOf,
  tokenKey,
  type AccountRecord,
  type KillSwitchRecord,
  type StoredAccount,
  type StoredToken,
  type TokenRecord,
} from "./records.ts";

/**
 * Reads and writes of one venue's accounts bucket (the record formats are in records.ts).
 * Straight to the bucket, never through a gateway's view of it: what these return is what
 * is stored now.
 */

/** Writes an account unconditionally (local mode, tests); returns its revision. */
export async function putAccount(kv: KV, account: AccountRecord): Promise<number> {
  return kv.put(accountKey(account.name), JSON.stringify(account));
}

/** Reads an account, or undefined when there is none. */
export async function readAccount(kv: KV, name: string): Promise<StoredAccount | undefined> {
  const entry = await kv.get(accountKey(name));
  if (entry === null || entry.operation !== "PUT") return undefined;
  return { record: parseAccount(name, entry.string()), revision: entry.revision };
}

/** Creates an account; AlreadyExistsError if the name is taken. Returns the revision. */
export async function createAccount(kv: KV, account: AccountRecord): Promise<number> {
  try {
    return await kv.create(accountKey(account.name), JSON.stringify(account));
  } catch (err) {
    if (isWrongLastSequence(err)) throw new AlreadyExistsError(`account ${account.name} exists`);
    throw err;
  }
}

/** Replaces an account stored at `revision`; RevisionConflictError if it changed since. */
export async function updateAccount(kv: KV, account: AccountRecord, revision: number): Promise<number> {
  try {
    return await kv.update(accountKey(account.name), JSON.stringify(account), revision);
  } catch (err) {
    if (isWrongLastSequence(err))
      throw new RevisionConflictError(`account ${account.name} changed after revision ${revision}`, { cause: err });
    throw err;
  }
}

/**
 * Deletes an account stored at `revision`; RevisionConflictError if it changed since.
 * Returns the revision of the delete marker.
 */
export async function deleteAccount(kv: KV, name: string, revision: number): Promise<number> {
  try {
    await kv.delete(accountKey(name), { previousSeq: revision });
    return (await kv.get(accountKey(name)))?.revision ?? revision;
  } catch (err) {
    if (isWrongLastSequence(err))
      throw new RevisionConflictError(`account ${name} changed after revision ${revision}`, { cause: err });
    throw err;
  }
}

/** Engages (record) or releases (undefined) a kill switch: "venue" or "account.<name>". */
export async function setKillSwitch(kv: KV, which: string, record: KillSwitchRecord | undefined): Promise<number> {
  const key = `${KILL_SWITCH_KEY_PREFIX}${which}`;
  if (record !== undefined) return kv.put(key, JSON.stringify(record));
  await kv.delete(key);
  return (await kv.get(key))?.revision ?? 0;
}

/** Registers a token (only its hash is stored); returns the stored token and the bucket revision. */
export async function putToken(
  kv: KV,
  token: string,
  record: TokenRecord | string,
): Promise<{ token: StoredToken; revision: number }> {
  const hash = tokenHash(token);
  const stored: TokenRecord = typeof record === "string" ? { principal: record } : record;
  const revision = await kv.put(tokenKey(hash), JSON.stringify(stored));
  return { token: { id: tokenIdOf(hash), hash, record: stored }, revision };
}

/** Every stored token, without secrets (there are none to show). */
export async function listTokens(kv: KV): Promise<StoredToken[]> {
  const keys: string[] = [];
  for await (const key of await kv.keys(`${TOKEN_KEY_PREFIX}>`)) keys.push(key);
  const out: StoredToken[] = [];
  for (const key of keys) {
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== "PUT") continue;
    let record: TokenRecord | undefined;
    try {
      record = parseToken(entry.string());
    } catch {
      continue; // not JSON: the gateway ignores it too
    }
    const hash = key.slice(TOKEN_KEY_PREFIX.length);
    if (record !== undefined) out.push({ id: tokenIdOf(hash), hash, record });
  }
  return out;
}

/** The stored token with this public id, or undefined. */
export async function findToken(kv: KV, id: string): Promise<StoredToken | undefined> {
  return (await listTokens(kv)).find((t) => t.id === id);
}

/** Revokes a stored token by its hash; returns the bucket revision of the delete. */
export async function revokeTokenHash(kv: KV, hash: string): Promise<number> {
  await kv.delete(tokenKey(hash));
  return (await kv.get(tokenKey(hash)))?.revision ?? 0;
}

/** Revokes a token given as its secret (tests, tools holding it). */
export async function revokeToken(kv: KV, token: string): Promise<number> {
  return revokeTokenHash(kv, tokenHash(token));
}

/** The expected-revision header did not match: the key changed (or exists, for create). */
function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
