import { createHash } from "node:crypto";
import type { KV } from "@nats-io/kv";
import type { Logger } from "@tradeplane/platform";
import type { LimitOverrides } from "../domain/limits.ts";

/**
 * Accounts and API tokens, held in the venue's accounts KV bucket and watched live:
 *   account.<name>   {"name","disabled","principals":[...],"limits":{...},"defaultStpMode"}
 *   token.<sha256>   {"principal"}       (only the hash of a token is ever stored)
 *   killswitch.venue, killswitch.account.<name>   {"reason","changedBy","changeTimeMs"} while engaged
 * The operator and the CLI write them; every gateway replica follows the same bucket.
 */
export interface AccountRecord {
  readonly name: string;
  readonly disabled: boolean;
  /** Principals (token subjects) allowed to trade the account. */
  readonly principals: readonly string[];
  readonly limits: LimitOverrides;
  readonly defaultStpMode: number;
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
        this.apply(entry.key, entry.operation === "PUT" ? entry.string() : undefined);
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
  }

  private apply(key: string, value: string | undefined): void {
    try {
      if (key.startsWith("account.")) {
        const name = key.slice("account.".length);
        if (value === undefined) this.accounts.delete(name);
        else this.accounts.set(name, parseAccount(name, value));
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
  }

  /** The principal a bearer token stands for, if any. */
  principalOf(token: string): string | undefined {
    return token === "" ? undefined : this.principals.get(tokenHash(token));
  }

  account(name: string): AccountRecord | undefined {
    return this.accounts.get(name);
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

  /** Writes an account (for the CLI, the operator and tests). */
  static async putAccount(kv: KV, account: AccountRecord): Promise<void> {
    await kv.put(`account.${account.name}`, JSON.stringify(account));
  }

  /** Registers a token for a principal; only its hash is stored. */
  static async putToken(kv: KV, token: string, principal: string): Promise<void> {
    await kv.put(`token.${tokenHash(token)}`, JSON.stringify({ principal }));
  }
}

function parseAccount(name: string, value: string): AccountRecord {
  const raw = JSON.parse(value) as Partial<AccountRecord>;
  return {
    name,
    disabled: raw.disabled === true,
    principals: Array.isArray(raw.principals) ? raw.principals.map(String) : [],
    limits: typeof raw.limits === "object" && raw.limits !== null ? raw.limits : {},
    defaultStpMode: typeof raw.defaultStpMode === "number" ? raw.defaultStpMode : 0,
  };
}
