import type { KV } from "@nats-io/kv";
import {
  ACCOUNT_KEY_PREFIX,
  KILL_SWITCH_KEY_PREFIX,
  parseAccount,
  parseKillSwitch,
  parseToken,
  TOKEN_KEY_PREFIX,
  tokenHash,
  type AccountRecord,
  type KillSwitchRecord,
  type StoredAccount,
} from "@tradeplane/accounts";
import type { Metadata } from "@grpc/grpc-js";
import { bearerToken, type Logger } from "@tradeplane/platform";

/**
 * This replica's live view of the venue's accounts bucket (record formats in
 * @tradeplane/accounts): accounts, the principals of API tokens and kill switches, loaded at
 * start and followed through a watch. The operator, the CLI and RiskAdmin write the bucket;
 * every gateway replica follows it, so a revoked token is refused once the watch shows it.
 */
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
  /** Streams opened with a token, by its hash: told when it is revoked. */
  private readonly revocationListeners = new Map<string, Set<() => void>>();
  /** Engaged kill switches by key ("venue" or "account.<name>"). */
  private readonly killSwitches = new Map<string, KillSwitchRecord>();
  private readonly kv: KV;
  private readonly logger: Logger;
  /** Called after a kill switch is engaged or released in the bucket (the engine's blocks follow it). */
  onKillSwitchChange: (() => void) | undefined;
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
      if (key.startsWith(ACCOUNT_KEY_PREFIX)) {
        const name = key.slice(ACCOUNT_KEY_PREFIX.length);
        if (value === undefined) {
          this.accounts.delete(name);
          this.revisions.delete(name);
        } else {
          this.accounts.set(name, parseAccount(name, value));
          this.revisions.set(name, revision);
        }
        this.sortedNames = undefined;
      } else if (key.startsWith(KILL_SWITCH_KEY_PREFIX)) {
        const which = key.slice(KILL_SWITCH_KEY_PREFIX.length);
        if (value === undefined) this.killSwitches.delete(which);
        else this.killSwitches.set(which, parseKillSwitch(value));
        this.onKillSwitchChange?.();
      } else if (key.startsWith(TOKEN_KEY_PREFIX)) {
        const hash = key.slice(TOKEN_KEY_PREFIX.length);
        const principal = value === undefined ? undefined : parseToken(value)?.principal;
        if (principal === undefined) {
          this.principals.delete(hash);
          this.revoked(hash);
        } else this.principals.set(hash, principal);
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

  /**
   * Calls `onRevoked` once when the bearer token a stream was opened with is revoked, so a
   * long-lived Session or report stream ends with its credential rather than outliving it.
   * A call without a token (a client certificate) has nothing to revoke. Returns the
   * unsubscribe, to call when the stream ends.
   */
  whenRevoked(metadata: Metadata, onRevoked: () => void): () => void {
    const token = bearerToken(metadata);
    if (token === "") return () => undefined;
    const hash = tokenHash(token);
    let listeners = this.revocationListeners.get(hash);
    if (listeners === undefined) this.revocationListeners.set(hash, (listeners = new Set()));
    listeners.add(onRevoked);
    return () => {
      listeners.delete(onRevoked);
      if (listeners.size === 0 && this.revocationListeners.get(hash) === listeners)
        this.revocationListeners.delete(hash);
    };
  }

  private revoked(hash: string): void {
    const listeners = this.revocationListeners.get(hash);
    if (listeners === undefined) return;
    this.revocationListeners.delete(hash);
    for (const listener of listeners) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, "ending a stream of a revoked token failed");
      }
    }
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
}
