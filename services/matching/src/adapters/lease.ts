import type { KV } from "@nats-io/kv";
import type { Logger } from "@tradeplane/platform";

/**
 * The primary's lease on a partition, held in a JetStream KV key and renewed by
 * compare-and-set on the key's revision. Expiry is judged by each contender on its own
 * monotonic clock ("no new revision for ttl"), so clock skew between hosts cannot
 * shorten or stretch a lease. Two engines that ever both publish emit identical events
 * with identical message ids, which JetStream deduplicates: the lease decides who does
 * the work, determinism keeps it safe.
 */
export interface LeaseOptions {
  readonly kv: KV;
  readonly key: string;
  /** Who we are: the pod name plus a per-process nonce, so a restarted process never mistakes its predecessor's lease for its own. */
  readonly holder: string;
  readonly ttlMs: number;
  /** How often the holder renews and a contender checks; ttl/4 by default. */
  readonly intervalMs?: number;
  readonly logger: Logger;
  /** Called once when this instance becomes the holder. */
  readonly onAcquired: () => Promise<void> | void;
  /** Called once if a held lease is lost (renewal failed by CAS): stop publishing. */
  readonly onLost: () => void;
  /** Monotonic milliseconds; injected for tests. */
  readonly now?: () => number;
  /** Facts the holder publishes with its lease for the operator (the CPUs it may run on). */
  readonly details?: Readonly<Record<string, string>>;
}

export type LeaseRole = "primary" | "standby";

export class Lease {
  private readonly options: LeaseOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private revision = 0;
  private lastSeenRevision = -1;
  private lastChangeAt = 0;
  private busy = false;
  private stopped = false;
  role: LeaseRole = "standby";

  constructor(options: LeaseOptions) {
    this.options = options;
    this.now = options.now ?? (() => performance.now());
  }

  start(): void {
    this.lastChangeAt = this.now();
    const interval = this.options.intervalMs ?? Math.max(50, Math.floor(this.options.ttlMs / 4));
    this.timer = setInterval(() => void this.tick(), interval);
    void this.tick();
  }

  /** Stops renewing; the holder deletes the key so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.role === "primary") {
      try {
        await this.options.kv.delete(this.options.key, { previousSeq: this.revision });
      } catch {
        // Someone else holds it already, or NATS is gone: nothing to release.
      }
    }
  }

  private value(): string {
    return JSON.stringify({ ...this.options.details, holder: this.options.holder, ttlMs: this.options.ttlMs });
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      if (this.role === "primary") await this.renew();
      else await this.contend();
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message, role: this.role }, "lease check failed");
    } finally {
      this.busy = false;
    }
  }

  private async renew(): Promise<void> {
    try {
      this.revision = await this.options.kv.update(this.options.key, this.value(), this.revision);
      this.lastChangeAt = this.now();
    } catch (err) {
      if (isWrongRevision(err) && (await this.stillOurs())) return;
      if (isWrongRevision(err)) {
        this.role = "standby";
        this.options.logger.error({ key: this.options.key }, "lease lost to another instance");
        this.options.onLost();
        return;
      }
      // NATS unreachable: keep trying; a standby cannot take over while NATS is down either,
      // and once the lease has expired for others our CAS will fail and we step down.
      throw err;
    }
  }

  /**
   * A renewal whose ack was lost (NATS restarting) may still have been stored, leaving us
   * a revision behind our own lease: if the key still names us, adopt its revision.
   */
  private async stillOurs(): Promise<boolean> {
    const entry = await this.options.kv.get(this.options.key);
    if (entry === null || entry.operation !== "PUT") return false;
    try {
      const value = entry.json<{ holder?: string }>();
      if (value.holder !== this.options.holder) return false;
    } catch {
      return false;
    }
    this.revision = entry.revision;
    this.lastChangeAt = this.now();
    return true;
  }

  private async contend(): Promise<void> {
    const { kv, key } = this.options;
    const entry = await kv.get(key);
    const free = entry === null || entry.operation === "DEL" || entry.operation === "PURGE";
    if (!free && entry.revision !== this.lastSeenRevision) {
      this.lastSeenRevision = entry.revision;
      this.lastChangeAt = this.now();
      return;
    }
    if (!free && this.now() - this.lastChangeAt < this.options.ttlMs) return;
    try {
      this.revision =
        free && entry === null
          ? await kv.create(key, this.value())
          : await kv.update(key, this.value(), entry!.revision);
    } catch (err) {
      if (isWrongRevision(err)) return; // another contender won
      throw err;
    }
    this.role = "primary";
    this.lastChangeAt = this.now();
    this.options.logger.info({ key, holder: this.options.holder }, "lease acquired: primary");
    await this.options.onAcquired();
  }
}

function isWrongRevision(err: unknown): boolean {
  const text = String((err as Error)?.message ?? err);
  return /wrong last sequence|key exists|10071|10164/i.test(text);
}
