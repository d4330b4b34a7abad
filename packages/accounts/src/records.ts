import { createHash, randomBytes } from "node:crypto";

/**
 * The accounts KV bucket (`tp_<venue>_accounts`), key by key:
 *   account.<name>   {"name","disabled","principals":[...],"limits":{...},"defaultStpMode",
 *                     "displayName","createTimeMs","updateTimeMs"}   (the last three optional)
 *   token.<sha256>   {"principal","account","description","issuedBy","createTimeMs"}
 *                    (only "principal" is required; the token itself is never stored)
 *   killswitch.venue, killswitch.account.<name>   {"reason","changedBy","changeTimeMs"} while engaged
 * An account's revision is the KV revision of its key (optimistic concurrency). Records are
 * written by RiskAdmin, the CLI, the operator and by hand: parsing is tolerant, and what is
 * not understood reads as absent.
 */
export const ACCOUNT_KEY_PREFIX = "account.";
export const TOKEN_KEY_PREFIX = "token.";
export const KILL_SWITCH_KEY_PREFIX = "killswitch.";

/** Optional limits as stored: absent = inherit the venue default; 0 blocks. */
export interface StoredLimits {
  readonly maxOrderQty?: number | undefined;
  readonly maxOrderNotional?: number | undefined;
  readonly priceCollarBps?: number | undefined;
  readonly maxPosition?: number | undefined;
  readonly creditLimit?: number | undefined;
  readonly maxOrdersPerSecond?: number | undefined;
  readonly restrictedInstruments?: readonly string[] | undefined;
}

export interface AccountRecord {
  readonly name: string;
  readonly disabled: boolean;
  /** Principals (token subjects, certificate CNs) allowed to trade the account. */
  readonly principals: readonly string[];
  readonly limits: StoredLimits;
  readonly defaultStpMode: number;
  /** Free text for people. */
  readonly displayName?: string | undefined;
  /** Wall-clock milliseconds of creation and last change (absent on records written before RiskAdmin did). */
  readonly createTimeMs?: number | undefined;
  readonly updateTimeMs?: number | undefined;
}

/** An account as stored, with the KV revision of its key. */
export interface StoredAccount {
  readonly record: AccountRecord;
  readonly revision: number;
}

export interface KillSwitchRecord {
  readonly reason: string;
  readonly changedBy: string;
  readonly changeTimeMs: number;
  /**
   * Engaged without its mass cancel (EngageKillSwitchRequest.keep_open_orders): a gateway
   * that writes a missing engine block for the switch (ADR 0003) writes no cancel either.
   * Absent on records written before it was kept: the switch cancelled.
   */
  readonly keepOpenOrders?: boolean;
}

/** What is stored of an API token: never the token, only who it stands for. */
export interface TokenRecord {
  readonly principal: string;
  /** The account it was issued for (absent on tokens written by other tools). */
  readonly account?: string | undefined;
  readonly description?: string | undefined;
  /** The admin principal that issued it. */
  readonly issuedBy?: string | undefined;
  readonly createTimeMs?: number | undefined;
}

/** A token record with its public id (see tokenIdOf). */
export interface StoredToken {
  readonly id: string;
  readonly hash: string;
  readonly record: TokenRecord;
}

export function accountKey(name: string): string {
  return `${ACCOUNT_KEY_PREFIX}${name}`;
}

export function tokenKey(hash: string): string {
  return `${TOKEN_KEY_PREFIX}${hash}`;
}

/** SHA-256 of a token, hex: the only form in which a token is stored. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Hex digits of the hash that make a token's public id (64 bits: no two of a venue's tokens share one). */
export const TOKEN_ID_LENGTH = 16;

/** A token's public id, from its hash: names it in listings, revocations and logs. */
export function tokenIdOf(hash: string): string {
  return hash.slice(0, TOKEN_ID_LENGTH);
}

export function isTokenId(id: string): boolean {
  return new RegExp(`^[0-9a-f]{${TOKEN_ID_LENGTH}}$`).test(id);
}

/** Bytes of randomness in a new token (192 bits). */
const TOKEN_BYTES = 24;

/** A new bearer token: 32 characters of URL-safe base64 from the system's CSPRNG. */
export function newTokenSecret(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

const wholeTime = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isSafeInteger(v) ? v : undefined;
const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Stored limits from any JSON: only whole numbers >= 0 count; anything else inherits. */
export function storedLimitsOf(raw: unknown): StoredLimits {
  if (typeof raw !== "object" || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const num = (v: unknown): number | undefined =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  const out: { -readonly [K in keyof StoredLimits]: StoredLimits[K] } = {};
  for (const key of [
    "maxOrderQty",
    "maxOrderNotional",
    "priceCollarBps",
    "maxPosition",
    "creditLimit",
    "maxOrdersPerSecond",
  ] as const) {
    const v = num(r[key]);
    if (v !== undefined) out[key] = v;
  }
  if (Array.isArray(r.restrictedInstruments) && r.restrictedInstruments.length > 0)
    out.restrictedInstruments = r.restrictedInstruments.map(String);
  return out;
}

/** An account record from its key's value (throws on text that is not JSON). */
export function parseAccount(name: string, value: string): AccountRecord {
  const raw = JSON.parse(value) as Record<string, unknown>;
  return {
    name,
    disabled: raw.disabled === true,
    principals: Array.isArray(raw.principals) ? raw.principals.map(String) : [],
    limits: storedLimitsOf(raw.limits),
    defaultStpMode: typeof raw.defaultStpMode === "number" ? raw.defaultStpMode : 0,
    displayName: text(raw.displayName),
    createTimeMs: wholeTime(raw.createTimeMs),
    updateTimeMs: wholeTime(raw.updateTimeMs),
  };
}

/** A token record from its key's value; undefined without a principal. */
export function parseToken(value: string): TokenRecord | undefined {
  const raw = JSON.parse(value) as Record<string, unknown>;
  if (typeof raw.principal !== "string" || raw.principal === "") return undefined;
  return {
    principal: raw.principal,
    account: text(raw.account),
    description: text(raw.description),
    issuedBy: text(raw.issuedBy),
    createTimeMs: wholeTime(raw.createTimeMs),
  };
}

export function parseKillSwitch(value: string): KillSwitchRecord {
  const raw = JSON.parse(value) as Record<string, unknown>;
  return {
    reason: text(raw.reason) ?? "",
    changedBy: text(raw.changedBy) ?? "",
    changeTimeMs: wholeTime(raw.changeTimeMs) ?? 0,
    ...(raw.keepOpenOrders === true ? { keepOpenOrders: true } : {}),
  };
}
