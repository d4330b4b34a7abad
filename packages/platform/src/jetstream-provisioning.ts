import {
  DiscardPolicy,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { TradeplaneError } from "./errors.ts";
import type { Logger } from "./logger.ts";

/**
 * JetStream resources as desired state, and the idempotent code that makes a server
 * match it. The operator and local mode both call `provision`; the plan is built by a
 * pure function (`venue-streams.ts`) from the venue's spec.
 */
export type Storage = "file" | "memory";

export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly storage: Storage;
  readonly replicas: number;
  /** 0 = no limit. */
  readonly maxAgeSeconds: number;
  /** 0 = no limit (-1 on the wire). */
  readonly maxBytes: number;
  readonly maxMessages: number;
  /** "new" refuses writes at the limit (the command log never drops its truth); "old" ages out. */
  readonly discard: "old" | "new";
  readonly duplicateWindowSeconds: number;
}

export interface KvSpec {
  readonly bucket: string;
  readonly storage: Storage;
  readonly replicas: number;
  readonly history: number;
}

export interface ObjectStoreSpec {
  readonly bucket: string;
  readonly storage: Storage;
  readonly replicas: number;
}

export interface ProvisioningPlan {
  readonly streams: readonly StreamSpec[];
  readonly kv: readonly KvSpec[];
  readonly objectStores: readonly ObjectStoreSpec[];
}

export type ProvisionAction = "created" | "updated" | "unchanged";

export interface ProvisionOutcome {
  readonly kind: "stream" | "kv" | "object-store";
  readonly name: string;
  readonly action: ProvisionAction;
  readonly changes?: readonly string[];
}

/** A desired change JetStream cannot make in place (e.g. storage type). */
export class ProvisioningConflictError extends TradeplaneError {
  override readonly name = "ProvisioningConflictError";
  constructor(message: string) {
    super("FAILED_PRECONDITION", message);
  }
}

const NS_PER_S = 1_000_000_000;

/** The JetStream config for a spec. */
export function streamConfigOf(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: RetentionPolicy.Limits,
    storage: spec.storage === "memory" ? StorageType.Memory : StorageType.File,
    num_replicas: spec.replicas,
    max_age: spec.maxAgeSeconds * NS_PER_S,
    max_bytes: spec.maxBytes === 0 ? -1 : spec.maxBytes,
    max_msgs: spec.maxMessages === 0 ? -1 : spec.maxMessages,
    discard: spec.discard === "new" ? DiscardPolicy.New : DiscardPolicy.Old,
    duplicate_window: spec.duplicateWindowSeconds * NS_PER_S,
    allow_direct: true,
  };
}

/**
 * What must change for an existing stream to match a spec: field descriptions for an
 * update, or a conflict for changes JetStream refuses. Pure.
 */
export function streamChanges(existing: StreamConfig, spec: StreamSpec): { update: string[]; conflicts: string[] } {
  const desired = streamConfigOf(spec);
  const update: string[] = [];
  const conflicts: string[] = [];
  if (existing.storage !== desired.storage) conflicts.push(`storage ${existing.storage} -> ${desired.storage}`);
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const fields = [
    "subjects",
    "num_replicas",
    "max_age",
    "max_bytes",
    "max_msgs",
    "discard",
    "duplicate_window",
  ] as const;
  for (const field of fields) {
    const want = desired[field];
    const have = existing[field];
    const normalised = field === "subjects" ? [...((have as string[]) ?? [])].sort() : have;
    const wanted = field === "subjects" ? [...(want as string[])].sort() : want;
    if (!same(normalised, wanted)) update.push(`${field} ${JSON.stringify(have)} -> ${JSON.stringify(want)}`);
  }
  return { update, conflicts };
}

async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<ProvisionOutcome> {
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(spec.name);
  } catch (err) {
    if (!/stream not found/i.test(String((err as Error).message))) throw err;
  }
  if (info === undefined) {
    await jsm.streams.add(streamConfigOf(spec));
    return { kind: "stream", name: spec.name, action: "created" };
  }
  const { update, conflicts } = streamChanges(info.config, spec);
  if (conflicts.length > 0) {
    throw new ProvisioningConflictError(`stream ${spec.name} cannot change in place: ${conflicts.join(", ")}`);
  }
  if (update.length === 0) return { kind: "stream", name: spec.name, action: "unchanged" };
  await jsm.streams.update(spec.name, { ...info.config, ...streamConfigOf(spec) });
  return { kind: "stream", name: spec.name, action: "updated", changes: update };
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (/stream not found/i.test(String((err as Error).message))) return undefined;
    throw err;
  }
}

/**
 * What must change for a KV bucket's or object store's stream to match its spec: its
 * replicas and (KV) history can change in place; its storage cannot. Pure.
 */
export function bucketChanges(
  existing: StreamConfig,
  spec: { readonly storage: Storage; readonly replicas: number; readonly history?: number },
): { update: Partial<StreamConfig>; changes: string[]; conflicts: string[] } {
  const storage = spec.storage === "memory" ? StorageType.Memory : StorageType.File;
  const conflicts = existing.storage !== storage ? [`storage ${existing.storage} -> ${storage}`] : [];
  const update: Partial<StreamConfig> = {};
  const changes: string[] = [];
  if (existing.num_replicas !== spec.replicas) {
    update.num_replicas = spec.replicas;
    changes.push(`num_replicas ${existing.num_replicas} -> ${spec.replicas}`);
  }
  if (spec.history !== undefined && existing.max_msgs_per_subject !== spec.history) {
    update.max_msgs_per_subject = spec.history;
    changes.push(`history ${existing.max_msgs_per_subject} -> ${spec.history}`);
  }
  return { update, changes, conflicts };
}

async function alignBucket(
  jsm: JetStreamManager,
  kind: "kv" | "object-store",
  bucket: string,
  info: StreamInfo,
  spec: { readonly storage: Storage; readonly replicas: number; readonly history?: number },
): Promise<ProvisionOutcome> {
  const { update, changes, conflicts } = bucketChanges(info.config, spec);
  if (conflicts.length > 0)
    throw new ProvisioningConflictError(`${kind} ${bucket} cannot change in place: ${conflicts.join(", ")}`);
  if (changes.length === 0) return { kind, name: bucket, action: "unchanged" };
  await jsm.streams.update(info.config.name, { ...info.config, ...update });
  return { kind, name: bucket, action: "updated", changes };
}

/** Creates or updates every resource of a plan. Safe to run any number of times. */
export async function provision(
  nc: NatsConnection,
  plan: ProvisioningPlan,
  logger?: Logger,
): Promise<ProvisionOutcome[]> {
  const jsm = await jetstreamManager(nc);
  const outcomes: ProvisionOutcome[] = [];
  for (const spec of plan.streams) outcomes.push(await ensureStream(jsm, spec));
  const kvm = new Kvm(nc);
  for (const spec of plan.kv) {
    const name = `KV_${spec.bucket}`;
    const existing = await streamInfo(jsm, name);
    if (existing === undefined) {
      await kvm.create(spec.bucket, {
        history: spec.history,
        replicas: spec.replicas,
        storage: spec.storage === "memory" ? StorageType.Memory : StorageType.File,
      });
      outcomes.push({ kind: "kv", name: spec.bucket, action: "created" });
    } else outcomes.push(await alignBucket(jsm, "kv", spec.bucket, existing, spec));
  }
  const objm = new Objm(nc);
  for (const spec of plan.objectStores) {
    const existing = await streamInfo(jsm, `OBJ_${spec.bucket}`);
    if (existing === undefined) {
      await objm.create(spec.bucket, {
        replicas: spec.replicas,
        storage: spec.storage === "memory" ? StorageType.Memory : StorageType.File,
      });
      outcomes.push({ kind: "object-store", name: spec.bucket, action: "created" });
    } else outcomes.push(await alignBucket(jsm, "object-store", spec.bucket, existing, spec));
  }
  for (const o of outcomes) if (o.action !== "unchanged") logger?.info({ ...o }, `JetStream ${o.kind} ${o.action}`);
  return outcomes;
}
