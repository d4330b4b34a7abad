import type { KV, KvEntry } from "@nats-io/kv";
import type { OwnerMetrics } from "./owner-metrics.ts";
import { ValidationError, type Logger } from "@tradeplane/platform";
import {
  isLivenessKey,
  LIVENESS_UNKNOWN,
  livenessKey,
  nextOwnership,
  routeRequest,
  UNOWNED,
  type HolderLiveness,
  type LostReason,
  type OwnerEntry,
  type OwnerValue,
  type Ownership,
  type OwnershipInput,
  type Route,
} from "../domain/account-ownership.ts";

export interface AccountOwnersDeps {
  /** The venue's owners bucket (`ownersBucket(venue)`). */
  readonly kv: KV;
  /** This process: the instance id plus a per-process nonce, so a restart never adopts its predecessor's leases. */
  readonly holder: string;
  /** This replica's GatewayPeer address (host:port) for the others to forward to. */
  readonly address: string;
  readonly ttlMs: number;
  /** How often this replica's liveness key is renewed; ttl/4 by default. */
  readonly renewIntervalMs?: number;
  /** The venue's engine partitions: a new owner fences each. */
  readonly partitions: readonly number[];
  /**
   * Writes FenceAccountCommand{epoch} for the account to every partition. The AccountFenced
   * events come back through `partitionFenced` (the event follower calls it). Resolves with
   * the stream sequence of the entry holding each partition's fence, for `countWindow`.
   */
  readonly fence: (account: string, epoch: number) => Promise<ReadonlyMap<number, number> | void>;
  /**
   * Once every partition is fenced: fills the account's order-rate window with its orders of
   * the last second before the fences (the command log) and says whether it did. Without it,
   * or when it did not, the new owner waits one whole window instead.
   */
  readonly countWindow?: (
    account: string,
    epoch: number,
    fenceEntries: ReadonlyMap<number, number>,
  ) => Promise<boolean>;
  /** An account this replica decided is now someone else's: its sessions are told to retry. */
  readonly onLost?: (account: string, why: LostReason) => void;
  readonly logger: Logger;
  /** Monotonic milliseconds; injected for tests. */
  readonly now?: () => number;
  readonly metrics?: OwnerMetrics;
}

/**
 * This replica's view of the owners bucket and its own account leases (ADR 0003). It follows
 * the whole bucket with a watch (the other replicas' account keys: whom to forward to; their
 * liveness keys: when a silent or stopped one may be taken over), renews its own liveness key
 * by compare-and-set every ttl/4, and runs each owned account through
 * `domain/account-ownership.ts`. Account keys are written only to acquire (create, or CAS from
 * the revision seen) and to release, so staying alive costs one write per interval however
 * many accounts a replica holds (a renewal per account made 13,000 writes a second for 10,000
 * accounts, and a serial pass over 5,000 outlasted the ttl). The lease only decides who works:
 * what keeps the limits exact is the engine's fence, which refuses a stale owner's commands
 * whatever this replica believes.
 */
export class AccountOwners {
  private readonly deps: AccountOwnersDeps;
  private readonly now: () => number;
  /** The account keys of the bucket. */
  private readonly owners = new Map<string, OwnerEntry>();
  /**
   * Every liveness key seen, by key: its revision, and when it last moved on our clock or that
   * it was deleted. A deleted one stays known (one small entry per stopped process) so that its
   * holder's remaining account keys are free at once, not after a ttl.
   */
  private readonly liveness = new Map<string, { readonly revision: number; readonly seen: HolderLiveness }>();
  private readonly states = new Map<string, Ownership>();
  /** The revision of each lease we hold: the epoch at which we acquired it, and the CAS of its release. */
  private readonly revisions = new Map<string, number>();
  private readonly changed = new Map<string, (() => void)[]>();
  private readonly windowTimers = new Set<NodeJS.Timeout>();
  /** The entries holding our fences, per account being taken (for countWindow). */
  private readonly fenceEntries = new Map<string, ReadonlyMap<number, number>>();
  private stopWatch: (() => void) | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** The renewal in flight: one at a time, and a stop waits for it so its delete is a CAS on the last revision. */
  private renewal: Promise<void> | undefined;
  private stopped = false;
  /** What this replica writes as the value of its account keys and of its liveness key. */
  private readonly value: string;
  private readonly ownLivenessKey: string;
  /** Our liveness key's revision; undefined until created, and once someone else took or deleted it. */
  private livenessRevision: number | undefined;

  constructor(deps: AccountOwnersDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => performance.now());
    this.value = JSON.stringify({ holder: deps.holder, address: deps.address } satisfies OwnerValue);
    this.ownLivenessKey = livenessKey(deps.holder);
  }

  /** Creates this replica's liveness key, loads the bucket, keeps following it, and starts renewing. */
  async start(): Promise<void> {
    // Before any account is acquired, so the others never see our account keys without it.
    await this.establishLiveness();
    const watch = await this.deps.kv.watch({ key: ">" });
    this.stopWatch = () => watch.stop();
    let initialDone: () => void = () => undefined;
    const initial = new Promise<void>((r) => (initialDone = r));
    void (async () => {
      for await (const entry of watch) {
        this.seen(entry);
        if (entry.delta === 0) initialDone();
      }
    })();
    if ((await this.deps.kv.status()).values === 0) initialDone();
    await initial;
    const interval = this.deps.renewIntervalMs ?? Math.max(50, Math.floor(this.deps.ttlMs / 4));
    this.renewTimer = setInterval(() => {
      if (this.renewal !== undefined || this.stopped) return;
      this.renewal = this.renewLiveness().finally(() => (this.renewal = undefined));
    }, interval);
  }

  /**
   * Stops renewing and deletes the leases held and the liveness key, so the other replicas
   * take the accounts at once (a deleted liveness key frees any account key whose delete
   * failed, too). Each delete is a CAS on our revision: a key someone else moved stays theirs.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWatch?.();
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    for (const t of this.windowTimers) clearTimeout(t);
    await this.renewal;
    const held: [string, number][] = [...this.revisions];
    this.revisions.clear();
    for (const [account] of held) this.apply(account, { kind: "released" });
    if (this.livenessRevision !== undefined) held.push([this.ownLivenessKey, this.livenessRevision]);
    this.livenessRevision = undefined;
    await Promise.all(
      held.map(([key, revision]) => this.deps.kv.delete(key, { previousSeq: revision }).catch(() => undefined)),
    );
  }

  /** The phase of every account this replica holds or is taking (for the metrics). */
  phases(): Iterable<Ownership> {
    return this.states.values();
  }

  ownershipOf(account: string): Ownership {
    return this.states.get(account) ?? UNOWNED;
  }

  ownerOf(account: string): OwnerEntry | undefined {
    return this.owners.get(account);
  }

  /** The epoch this replica writes the account's commands with, when it decides them. */
  epochOf(account: string): number | undefined {
    const state = this.states.get(account);
    return state?.phase === "ready" ? state.epoch : undefined;
  }

  /**
   * Who decides a request for `account`: acquires a free or expired lease and waits for the
   * fences on the way, so the answer is `decide`, `forward` or `retry`.
   */
  async route(account: string, forwarded: boolean, timeoutMs: number): Promise<Route> {
    // Account names are validated before they get here (and a peer's were by its sender); a
    // liveness key taken for an account would be written over as one.
    if (isLivenessKey(account))
      throw new ValidationError(`not an account name: ${account}`, [
        { path: "account", message: "not an account name" },
      ]);
    const deadline = this.now() + timeoutMs;
    for (;;) {
      if (this.stopped) return { kind: "retry", why: "losing" };
      const owner = this.owners.get(account);
      const route = routeRequest({
        self: this.deps.holder,
        ownership: this.ownershipOf(account),
        owner,
        liveness: owner === undefined ? LIVENESS_UNKNOWN : this.livenessOf(owner.holder),
        forwarded,
        nowMs: this.now(),
        ttlMs: this.deps.ttlMs,
      });
      if (route.kind === "decide" || route.kind === "forward" || route.kind === "retry") return route;
      const left = deadline - this.now();
      if (left <= 0) return { kind: "retry", why: "losing" };
      if (route.kind === "acquire") await this.acquire(account, route.previousRevision);
      else await this.changeOf(account, left);
    }
  }

  /** An AccountFenced event: `epoch` is the partition's fence for the account after it. */
  partitionFenced(account: string, partition: number, epoch: number): void {
    if (!this.states.has(account)) return;
    const before = this.ownershipOf(account);
    this.apply(account, { kind: "partition-fenced", partition, epoch, nowMs: this.now() });
    this.armWindow(account);
    const after = this.ownershipOf(account);
    if (
      before.phase === "fencing" &&
      before.unfenced.size > 0 &&
      after.phase === "fencing" &&
      after.unfenced.size === 0
    )
      void this.countWindow(account, after.epoch);
  }

  /**
   * Reads the previous owner's orders of the last second into the order-rate window, then
   * decides the account at once; the window's timer stays armed in case this fails.
   */
  private async countWindow(account: string, epoch: number): Promise<void> {
    const entries = this.fenceEntries.get(account);
    if (this.deps.countWindow === undefined || entries === undefined) return;
    let counted = false;
    try {
      // Still ours at this epoch and not decided yet: a count for an account lost or already
      // ready (the window elapsed first) must not replace the window in use.
      const still = () => {
        const s = this.ownershipOf(account);
        return s.phase === "fencing" && s.epoch === epoch;
      };
      if (!still()) return;
      // Counted, and the window had not elapsed meanwhile: the count made the account ready.
      counted = (await this.deps.countWindow(account, epoch, entries)) && still();
      if (counted) this.apply(account, { kind: "window-counted" });
    } catch (err) {
      this.deps.logger.warn(
        { account, epoch, err: (err as Error).message },
        "order-rate window not counted: waiting it out",
      );
    }
    this.deps.metrics?.windowCounted(counted);
  }

  /** Ticks the account when its order-rate window ends (again if the timer fired early: libuv's clock is coarser). */
  private armWindow(account: string): void {
    const state = this.ownershipOf(account);
    if (state.phase !== "fencing" || state.windowEndsAtMs === undefined || this.stopped) return;
    const timer = setTimeout(
      () => {
        this.windowTimers.delete(timer);
        this.apply(account, { kind: "tick", nowMs: this.now() });
        this.armWindow(account);
      },
      Math.max(1, Math.ceil(state.windowEndsAtMs - this.now())),
    );
    this.windowTimers.add(timer);
  }

  /** The engine refused one of our commands for the account with REJECT_REASON_FENCED. */
  fencedReject(account: string): void {
    this.apply(account, { kind: "fenced-reject" });
  }

  /** How `holder`'s liveness key looks from here. */
  private livenessOf(holder: string): HolderLiveness {
    return this.liveness.get(livenessKey(holder))?.seen ?? LIVENESS_UNKNOWN;
  }

  private async acquire(account: string, previousRevision: number | undefined): Promise<void> {
    this.apply(account, { kind: "acquire-started" });
    const value = this.value;
    let epoch: number;
    try {
      epoch =
        previousRevision === undefined
          ? await this.deps.kv.create(account, value)
          : await this.deps.kv.update(account, value, previousRevision);
    } catch (err) {
      if (!isWrongRevision(err))
        this.deps.logger.warn({ account, err: (err as Error).message }, "owner lease not taken");
      this.apply(account, { kind: "acquire-failed" });
      // Someone else won: wait for the watch to show who, so the next route forwards to it.
      await this.changeOfOwner(account, previousRevision, this.deps.ttlMs);
      return;
    }
    this.revisions.set(account, epoch);
    this.deps.metrics?.acquired.inc();
    this.owners.set(account, {
      holder: this.deps.holder,
      address: this.deps.address,
      revision: epoch,
      seenAtMs: this.now(),
    });
    this.apply(account, { kind: "acquired", epoch, partitions: this.deps.partitions });
    this.deps.logger.info({ account, epoch }, "account owned: fencing its partitions");
    try {
      const entries = await this.deps.fence(account, epoch);
      if (entries instanceof Map) this.fenceEntries.set(account, entries);
    } catch (err) {
      this.deps.logger.error({ account, epoch, err: (err as Error).message }, "account fence not written");
      this.lose(account, "lease-lost");
    }
  }

  private seen(entry: KvEntry): void {
    if (isLivenessKey(entry.key)) {
      this.seenLiveness(entry);
      return;
    }
    const account = entry.key;
    if (entry.operation !== "PUT") {
      this.owners.delete(account);
      if (this.revisions.has(account)) this.lose(account, "lease-lost");
      this.notify(account);
      return;
    }
    let value: OwnerValue;
    try {
      value = entry.json<OwnerValue>();
    } catch {
      this.deps.logger.error({ account }, "unreadable owners entry ignored");
      return;
    }
    const known = this.owners.get(account);
    if (known === undefined || known.revision !== entry.revision)
      this.owners.set(account, {
        holder: value.holder,
        address: value.address,
        revision: entry.revision,
        seenAtMs: this.now(),
      });
    if (value.holder !== this.deps.holder && this.revisions.has(account)) this.lose(account, "lease-lost");
    this.notify(account);
  }

  /** A replica's liveness key moved (we note when, on our clock) or was deleted. */
  private seenLiveness(entry: KvEntry): void {
    const known = this.liveness.get(entry.key);
    if (known?.revision === entry.revision) return;
    this.liveness.set(entry.key, {
      revision: entry.revision,
      seen: entry.operation === "PUT" ? { kind: "seen", seenAtMs: this.now() } : { kind: "deleted" },
    });
  }

  /**
   * Creates our liveness key, or takes it back by CAS from whatever stands in it (someone
   * else's write, or a delete marker, after we lost it).
   */
  private async establishLiveness(): Promise<void> {
    const entry = await this.deps.kv.get(this.ownLivenessKey);
    this.livenessRevision =
      entry === null || entry.operation !== "PUT"
        ? await this.deps.kv.create(this.ownLivenessKey, this.value)
        : await this.deps.kv.update(this.ownLivenessKey, this.value, entry.revision);
  }

  /** Moves our liveness key on (one CAS, whatever we hold): to the others, we are alive. */
  private async renewLiveness(): Promise<void> {
    try {
      if (this.livenessRevision === undefined) await this.establishLiveness();
      else this.livenessRevision = await this.deps.kv.update(this.ownLivenessKey, this.value, this.livenessRevision);
    } catch (err) {
      if (this.stopped) return;
      if (isWrongRevision(err) && this.livenessRevision !== undefined) {
        // Our own earlier write may have landed with its ack lost (a timeout under load): the
        // key then holds our value, which no other process writes (the holder id carries our
        // nonce), so it is still ours and moved; take its revision and hold on to everything.
        if (await this.ownWriteLanded()) return;
        // Someone else wrote or deleted our liveness key: to the others we may look stopped,
        // or silent since, so any account we hold may be taken at once. Drop them all, then
        // show we are alive again (the accounts we still hold keys of are acquired again, at
        // new epochs, when next asked).
        this.livenessRevision = undefined;
        this.loseAll();
        await this.establishLiveness().catch(() => undefined);
      }
      // NATS unreachable: keep trying; nobody can take an account over while it is down either.
      else this.deps.logger.warn({ err: (err as Error).message }, "liveness key not renewed");
    }
  }

  /** Whether our liveness key's newest entry is a write of ours; if so, its revision is ours now. */
  private async ownWriteLanded(): Promise<boolean> {
    const entry = await this.deps.kv.get(this.ownLivenessKey).catch(() => null);
    if (entry === null || entry.operation !== "PUT" || entry.string() !== this.value) return false;
    this.livenessRevision = entry.revision;
    return true;
  }

  /** Our liveness key was taken or deleted: every account we hold is lost. */
  private loseAll(): void {
    const held = [...this.revisions.keys()];
    this.deps.logger.error(
      { holder: this.deps.holder, accounts: held.length },
      "liveness key taken or deleted by another: every held account dropped",
    );
    for (const account of held) this.lose(account, "lease-lost", false);
  }

  /** `log`: false when the caller logs once for many accounts. */
  private lose(account: string, why: LostReason, log = true): void {
    this.revisions.delete(account);
    const before = this.ownershipOf(account);
    this.apply(account, { kind: why === "fenced-by-engine" ? "fenced-reject" : "lease-lost" });
    if (before.phase === "fencing" || before.phase === "ready") {
      if (log) this.deps.logger.warn({ account, epoch: before.epoch, why }, "account lost to another replica");
      this.deps.metrics?.lostBecause(why);
      this.deps.onLost?.(account, why);
    }
    this.apply(account, { kind: "released" });
  }

  private apply(account: string, input: OwnershipInput): void {
    const before = this.ownershipOf(account);
    const after = nextOwnership(before, input);
    if (after === before) return;
    if (after.phase === "lost" && this.revisions.has(account)) {
      // Lost by the engine's word (a higher fence, a FENCED reject): forget the lease (its
      // key is not ours to release); it is the new owner's to take.
      this.revisions.delete(account);
      this.deps.logger.warn({ account, epoch: after.epoch, why: after.why }, "account lost to another replica");
      this.deps.metrics?.lostBecause(after.why);
      this.deps.onLost?.(account, after.why);
      this.states.delete(account);
    } else if (after.phase === "unowned") this.states.delete(account);
    else this.states.set(account, after);
    this.notify(account);
  }

  private notify(account: string): void {
    const waiting = this.changed.get(account);
    if (waiting === undefined) return;
    this.changed.delete(account);
    for (const w of waiting) w();
  }

  /** Resolves at the account's next change (state or owners entry), or after `ms`. */
  private changeOf(account: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      const list = this.changed.get(account) ?? [];
      list.push(done);
      this.changed.set(account, list);
    });
  }

  private async changeOfOwner(account: string, revision: number | undefined, ms: number): Promise<void> {
    const deadline = this.now() + ms;
    while (this.owners.get(account)?.revision === revision && this.now() < deadline)
      await this.changeOf(account, deadline - this.now());
  }
}

function isWrongRevision(err: unknown): boolean {
  const text = String((err as Error)?.message ?? err);
  return /wrong last sequence|key exists|10071|10164/i.test(text);
}
