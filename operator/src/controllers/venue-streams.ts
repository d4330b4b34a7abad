import { jetstreamManager, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { entrySeqOf, eventStreamName, eventSubjects, leasesBucket } from "@tradeplane/contracts";
import {
  eventMarkOf,
  provision,
  type Logger,
  type ProvisioningPlan,
  type ProvisionOutcome,
} from "@tradeplane/platform";
import type { ExistingStream } from "../policies/stream-changes.ts";

/**
 * The venue's JetStream side, as the TradingVenue controller sees it: what exists, making
 * it match a plan (platform's `provision`, shared with local mode), removing it when a
 * venue with deletionPolicy Delete goes, and which engine pod holds each partition's
 * primary lease. A port, so that the controller's decisions do not depend on NATS.
 */
export interface VenueStreams {
  inspect(plan: ProvisioningPlan): Promise<ExistingStream[]>;
  provision(plan: ProvisioningPlan, logger: Logger): Promise<ProvisionOutcome[]>;
  remove(plan: ProvisioningPlan): Promise<string[]>;
  /** partition -> the primary's pod and the CPUs it reported, for partitions whose lease is held. */
  primaries(venue: string): Promise<Map<number, PartitionPrimary>>;
  /**
   * partition -> the command log sequence of the last entry its primary applied, read from
   * the id of the partition's last event message; partitions with no event yet are absent.
   */
  appliedSequences(venue: string, partitions: readonly number[]): Promise<Map<number, number>>;
}

export interface PartitionPrimary {
  readonly pod: string;
  /** `Cpus_allowed_list` of the primary's /proc/self/status, e.g. "4-5". */
  readonly cpusAllowed: string | undefined;
}

const NS_PER_S = 1_000_000_000;

/** Every JetStream stream behind a plan: its streams, `KV_<bucket>` and `OBJ_<bucket>`. */
export function streamNamesOf(plan: ProvisioningPlan): string[] {
  return [
    ...plan.streams.map((s) => s.name),
    ...plan.kv.map((k) => `KV_${k.bucket}`),
    ...plan.objectStores.map((o) => `OBJ_${o.bucket}`),
  ];
}

export class JetStreamVenueStreams implements VenueStreams {
  private readonly nc: NatsConnection;
  private jsm: JetStreamManager | undefined;

  constructor(nc: NatsConnection) {
    this.nc = nc;
  }

  private async manager(): Promise<JetStreamManager> {
    this.jsm ??= await jetstreamManager(this.nc);
    return this.jsm;
  }

  async inspect(plan: ProvisioningPlan): Promise<ExistingStream[]> {
    const jsm = await this.manager();
    const out: ExistingStream[] = [];
    for (const spec of plan.streams) {
      const info = await jsm.streams.info(spec.name).catch((err: Error) => {
        if (/stream not found/i.test(err.message)) return undefined;
        throw err;
      });
      if (info === undefined) continue;
      out.push({
        name: spec.name,
        storage: info.config.storage === StorageType.Memory ? "memory" : "file",
        maxAgeSeconds: Math.round(info.config.max_age / NS_PER_S),
        maxBytes: info.config.max_bytes < 0 ? 0 : info.config.max_bytes,
        lastSequence: info.state.last_seq,
      });
    }
    return out;
  }

  provision(plan: ProvisioningPlan, logger: Logger): Promise<ProvisionOutcome[]> {
    return provision(this.nc, plan, logger);
  }

  async remove(plan: ProvisioningPlan): Promise<string[]> {
    const jsm = await this.manager();
    const removed: string[] = [];
    for (const name of streamNamesOf(plan)) {
      const gone = await jsm.streams.delete(name).catch((err: Error) => {
        if (/stream not found/i.test(err.message)) return false;
        throw err;
      });
      if (gone) removed.push(name);
    }
    return removed;
  }

  async primaries(venue: string): Promise<Map<number, PartitionPrimary>> {
    const out = new Map<number, PartitionPrimary>();
    const jsm = await this.manager();
    const exists = await jsm.streams.info(`KV_${leasesBucket(venue)}`).then(
      () => true,
      () => false,
    );
    if (!exists) return out;
    const kv = await new Kvm(this.nc).open(leasesBucket(venue));
    for await (const key of await kv.keys("engine.*")) {
      const entry = await kv.get(key);
      if (entry === null || entry.operation !== "PUT") continue;
      const { holder, cpusAllowed } = entry.json<{ holder?: string; cpusAllowed?: string }>();
      // The engine's holder id is "<pod name>/<random>" (TP_INSTANCE_ID is the pod name).
      if (holder !== undefined)
        out.set(Number(key.slice("engine.".length)), {
          pod: holder.split("/")[0]!,
          cpusAllowed: typeof cpusAllowed === "string" ? cpusAllowed.slice(0, 1024) : undefined,
        });
    }
    return out;
  }

  async appliedSequences(venue: string, partitions: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    const jsm = await this.manager();
    for (const partition of partitions) {
      // One direct read per partition: the stream's last message on the partition's subjects.
      const last = await jsm.streams
        .getMessage(eventStreamName(venue), { last_by_subj: eventSubjects(venue, { partition }) })
        .catch((err: Error) => {
          if (/no message found|message not found|stream not found/i.test(err.message)) return null;
          throw err;
        });
      // The message id is "<command sequence>-<event index>" of its last event.
      const mark = eventMarkOf(last?.header?.get("Nats-Msg-Id"));
      if (mark !== undefined && mark.cmdSeq > 0) out.set(partition, entrySeqOf(mark.cmdSeq));
    }
    return out;
  }
}
