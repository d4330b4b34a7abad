import { createHash } from "node:crypto";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { AlreadyExistsError, RevisionConflictError, type Logger } from "@tradeplane/platform";
import { overridesOf, wireLimitsOf } from "../domain/account-validation.ts";
import type { LimitOverrides } from "@tradeplane/risk-checks/limits";

/**
 * Accounts and API tokens, held in the venue's accounts KV bucket and watched live:
 *   account.<name>   {"name","disabled","principals":[...],"limits":{...},"defaultStpMode",
 *                     "displayName","createTimeMs","updateTimeMs"}   (the last three optional)
 *   token.<sha256>   {"principal"}       (only the hash of a token is ever stored)
 *   killswitch.venue, killswitch.account.<name>   {"reason","changedBy","changeTimeMs"} while engaged
 * The operator, the CLI and RiskAdmin write them; every gateway replica follows the same
 * bucket. An account's revision is the KV revision of its key (optimistic concurrency).
 */
export interface AccountRecord {
  readonly name: string;
  readonly disabled: boolean;
  /** Principals (token subjects) allowed to trade the account. */
  readonly principals: readonly string[];
  readonly limits: LimitOverrides;
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
}

export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export class AccountRegistry {
  private readonly accounts = new Map<string, AccountRecord>();
  /** KV revision of each account's key. */
  private readonly revisions = new Map<string, number>();
  /** Account names in ascending order, rebuilt lazily after a change. */
  private sortedNames: string[] | undefined;
  /** Highest bucket revision applied, and callers waiting for one. */
  private applied = 0;
  private waiters: { revision: number; done: (caughtUp: boolean) => void }[] = [];
  private readonly principals = new Map<string, string>();
  /** Engaged kill switches by key ("venue" or "account.<name>"). */
  private readonly killSwitches = new Map<string, KillSwitchRecord>();
  private readonly kv: KV;
  private readonly logger: Logger;
  private stopWatch: (() => void) | undefined;

  constructor(kv: KV, logger: Logger) {
    this.kv = kv;
    this.logger = logger;
  }

  /** Loads every key and keeps following changes. */
  async start(): Promise<void> {
    const watch = await this.kv.watch({ key: ">" });
    this.stopWatch = () => watch.stop();
    let initialDone: () => void = () => undefined;
    const initial = new Promise<void>((r) => (initialDone = r));
    void (async () => {
      for await (const entry of watch) {
        this.apply(entry.key, entry.operation === "PUT" ? entry.string() : undefined, entry.revision);
        if (entry.delta === 0) initialDone();
      }
    })();
    // An empty bucket sends no initial entries; its status arrives at once.
    const status = await this.kv.status();
    if (status.values === 0) initialDone();
    await initial;
  }

  stop(): void {
    this.stopWatch?.();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.done(false);
  }

  private apply(key: string, value: string | undefined, revision: number): void {
    try {
      if (key.startsWith("account.")) {
        const name = key.slice("account.".length);
        if (value === undefined) {
          this.accounts.delete(name);
          this.revisions.delete(name);
        } else {
          this.accounts.set(name, parseAccount(name, value));
          this.revisions.set(name, revision);
        }
        this.sortedNames = undefined;
      } else if (key.startsWith("killswitch.")) {
        const which = key.slice("killswitch.".length);
        if (value === undefined) this.killSwitches.delete(which);
        else this.killSwitches.set(which, JSON.parse(value) as KillSwitchRecord);
      } else if (key.startsWith("token.")) {
        const hash = key.slice("token.".length);
        if (value === undefined) this.principals.delete(hash);
        else this.principals.set(hash, String((JSON.parse(value) as { principal: unknown }).principal));
      }
    } catch (err) {
      this.logger.error({ key, err: (err as Error).message }, "unreadable accounts entry ignored");
    }
    if (revision > this.applied) {
      this.applied = revision;
      if (this.waiters.length > 0) {
        const due = this.waiters.filter((w) => w.revision <= revision);
        this.waiters = this.waiters.filter((w) => w.revision > revision);
        for (const w of due) w.done(true);
      }
    }
  }

  /**
   * Resolves once this registry has applied the bucket at `revision` (so this replica's
   * checks see a write it just made), or after `timeoutMs` (then it logs: the write is
   * stored, only the watch is behind). Returns whether it caught up.
   */
  caughtUp(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.applied >= revision) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.logger.warn({ revision, applied: this.applied }, "accounts watch is behind a write");
        resolve(false);
      }, timeoutMs);
      const waiter = {
        revision,
        done: (caughtUp: boolean) => {
          clearTimeout(timer);
          resolve(caughtUp);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** The principal a bearer token stands for, if any. */
  principalOf(token: string): string | undefined {
    return token === "" ? undefined : this.principals.get(tokenHash(token));
  }

  account(name: string): AccountRecord | undefined {
    return this.accounts.get(name);
  }

  /** An account with its revision, as this replica last saw it. */
  storedAccount(name: string): StoredAccount | undefined {
    const record = this.accounts.get(name);
    return record === undefined ? undefined : { record, revision: this.revisions.get(name) ?? 0 };
  }

  /** Every account name, ascending (a shared array: do not change it). */
  accountNames(): readonly string[] {
    this.sortedNames ??= [...this.accounts.keys()].sort();
    return this.sortedNames;
  }

  get accountCount(): number {
    return this.accounts.size;
  }

  /** Accounts a principal may trade. */
  accountsOf(principal: string): string[] {
    return [...this.accounts.values()].filter((a) => a.principals.includes(principal)).map((a) => a.name);
  }

  venueKillSwitch(): KillSwitchRecord | undefined {
    return this.killSwitches.get("venue");
  }

  accountKillSwitch(account: string): KillSwitchRecord | undefined {
    return this.killSwitches.get(`account.${account}`);
  }

  /** Every engaged kill switch: "venue" or "account.<name>" with its record. */
  engagedKillSwitches(): [string, KillSwitchRecord][] {
    return [...this.killSwitches];
  }

  /** Engages (record) or releases (undefined) a kill switch: "venue" or "account.<name>". */
  static async setKillSwitch(kv: KV, which: string, record: KillSwitchRecord | undefined): Promise<void> {
    if (record === undefined) await kv.delete(`killswitch.${which}`);
    else await kv.put(`killswitch.${which}`, JSON.stringify(record));
  }

  /** Writes an account unconditionally (for the CLI, the operator and tests); returns its revision. */
  static async putAccount(kv: KV, account: AccountRecord): Promise<number> {
    return kv.put(`account.${account.name}`, JSON.stringify(account));
  }

  /** Reads an account straight from the bucket (not from a replica's view). */
  static async readAccount(kv: KV, name: string): Promise<StoredAccount | undefined> {
    const entry = await kv.get(`account.${name}`);
    if (entry === null || entry.operation !== "PUT") return undefined;
    return { record: parseAccount(name, entry.string()), revision: entry.revision };
  }

  /** Creates an account; AlreadyExistsError if the name is taken. Returns the revision. */
  static async createAccount(kv: KV, account: AccountRecord): Promise<number> {
    try {
      return await kv.create(`account.${account.name}`, JSON.stringify(account));
    } catch (err) {
      if (isWrongLastSequence(err)) throw new AlreadyExistsError(`account ${account.name} exists`);
      throw err;
    }
  }

  /** Replaces an account stored at `revision`; RevisionConflictError if it changed since. */
  static async updateAccount(kv: KV, account: AccountRecord, revision: number): Promise<number> {
    try {
      return await kv.update(`account.${account.name}`, JSON.stringify(account), revision);
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
  static async deleteAccount(kv: KV, name: string, revision: number): Promise<number> {
    try {
      await kv.delete(`account.${name}`, { previousSeq: revision });
      return (await kv.get(`account.${name}`))?.revision ?? revision;
    } catch (err) {
      if (isWrongLastSequence(err))
        throw new RevisionConflictError(`account ${name} changed after revision ${revision}`, { cause: err });
      throw err;
    }
  }

  /** Registers a token for a principal; only its hash is stored. */
  static async putToken(kv: KV, token: string, principal: string): Promise<void> {
    await kv.put(`token.${tokenHash(token)}`, JSON.stringify({ principal }));
  }

  /** Revokes a token: every gateway refuses it once its watch shows the delete. */
  static async revokeToken(kv: KV, token: string): Promise<void> {
    await kv.delete(`token.${tokenHash(token)}`);
  }
}

/** The expected-revision header did not match: the key changed (or exists, for create). */
function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function parseAccount(name: string, value: string): AccountRecord {
  const raw = JSON.parse(value) as Partial<AccountRecord>;
  const time = (v: unknown): number | undefined => (typeof v === "number" && Number.isSafeInteger(v) ? v : undefined);
  return {
    name,
    disabled: raw.disabled === true,
    principals: Array.isArray(raw.principals) ? raw.principals.map(String) : [],
    // Written by hand or by other tools too: only whole numbers >= 0 count; anything else inherits.
    limits: typeof raw.limits === "object" && raw.limits !== null ? overridesOf(wireLimitsOf(raw.limits)) : {},
    defaultStpMode: typeof raw.defaultStpMode === "number" ? raw.defaultStpMode : 0,
    displayName: typeof raw.displayName === "string" ? raw.displayName : undefined,
    createTimeMs: time(raw.createTimeMs),
    updateTimeMs: time(raw.updateTimeMs),
  };
}
