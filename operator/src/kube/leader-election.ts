import type { Logger } from "@tradeplane/platform";
import type { KubeClient } from "./kube-client.ts";
import { isConflict } from "./kube-errors.ts";
import type { KubeObject } from "./kube-object.ts";

/**
 * Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection
 * does it: the holder renews the lease every retry period; another candidate takes it
 * over only when it has not been renewed for a whole lease duration, and every write
 * carries the resourceVersion it read, so two candidates cannot both win. A leader that
 * cannot renew within the renew deadline steps down (the process exits and restarts
 * clean rather than risk two writers); a leader that stops releases the lease so that
 * the next one takes over at once.
 */
export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly logger: Logger;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, "000Z");

export class LeaderElector {
  private readonly options: LeaderElectionOptions;
  private leading = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lease: Lease | undefined;
  /** When we last saw the holder's record change: the clock is ours, not the holder's. */
  private observed: { record: string; at: number } | undefined;

  constructor(options: LeaderElectionOptions) {
    this.options = options;
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading || this.lease === undefined) return;
    this.leading = false;
    try {
      await this.options.client.replace({
        ...this.lease,
        spec: { ...this.lease.spec, holderIdentity: null, renewTime: null, acquireTime: null, leaseDurationSeconds: 1 },
      });
      this.options.logger.info({ lease: this.options.name }, "leader lease released");
    } catch (err) {
      this.options.logger.warn({ err }, "leader lease not released; the next leader waits for it to expire");
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS);
  }

  private async tick(): Promise<void> {
    try {
      if (await this.tryAcquireOrRenew()) {
        this.lastRenew = Date.now();
        if (!this.leading && !this.stopped) {
          this.leading = true;
          this.options.logger.info({ identity: this.options.identity, lease: this.options.name }, "became leader");
          this.options.onStartedLeading();
        }
      }
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, "leader lease request failed");
    }
    if (this.leading && Date.now() - this.lastRenew > (this.options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS)) {
      this.leading = false;
      this.options.logger.error({ identity: this.options.identity }, "leader lease lost");
      this.options.onStoppedLeading();
      return;
    }
    this.schedule();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.options;
    const durationMs = this.options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    const now = Date.now();
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(durationMs / 1000),
      renewTime: microTime(now),
    };
    const current = await client.get<Lease>({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace, name });
    if (current === undefined) {
      try {
        this.lease = await client.create<Lease>({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }
    const held = current.spec ?? {};
    const record = `${held.holderIdentity ?? ""}|${held.renewTime ?? ""}`;
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const holder = held.holderIdentity ?? "";
    const expired = holder === "" || now - this.observed.at > (held.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== identity && !expired) return false;
    const next: LeaseSpec =
      holder === identity
        ? { ...held, ...spec }
        : { ...spec, acquireTime: microTime(now), leaseTransitions: (held.leaseTransitions ?? 0) + 1 };
    try {
      this.lease = await client.replace<Lease>({ ...current, spec: next });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }
}
