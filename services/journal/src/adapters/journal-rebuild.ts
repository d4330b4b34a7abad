import { jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  commandSeqOf,
  commandStreamName,
  EngineEventBatch,
  eventMsgId,
  eventStreamName,
  eventSubject,
  eventSubjectPartition,
  snapshotsBucket,
  type EngineEvent,
} from "@tradeplane/contracts";
import {
  decodeEventMessage,
  ensureLogFormat,
  lastStoredIn,
  lastStoredSeq,
  StreamFollower,
  type Logger,
} from "@tradeplane/platform";
import type { EngineConfig } from "@tradeplane/matching-core/config";
import { eventRuns } from "@tradeplane/matching-core/event-runs";
import { decodeEntry } from "@tradeplane/matching-core/log-entry";
import { Partition, restorePartition } from "@tradeplane/matching-core/partition";
import { projectBatch, type StreamMessage } from "../domain/projection.ts";
import { PublishedIndex, RebuildRefusedError } from "../domain/published-index.ts";
import { DEFAULT_BATCH_MESSAGES } from "../config.ts";
import { createStaging, dropStaging, inStaging, swapStaging } from "./journal-staging.ts";
import { writeBatch } from "./journal-writer.ts";
import { readMigrations } from "./migrations.ts";
import type { SqlStore } from "./sql-store.ts";

export interface RebuildDeps {
  readonly nc: NatsConnection;
  readonly venue: string;
  /**
   * Each partition's engine config, made from the venue file by the code the engine service
   * starts from on a cold start (operator's engineServiceConfig, matching-core's engineConfigOf).
   */
  readonly partitions: ReadonlyMap<number, EngineConfig>;
  /** A migrated journal database; its live tables are replaced at the end. */
  readonly store: SqlStore;
  /** The projector whose resume position moves with the swap. */
  readonly projector: string;
  readonly logger: Logger;
  /** Event messages written per transaction into the staging tables. */
  readonly batchMessages?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Called after the staging tables are complete and checked, before the swap (tests fail here). */
  readonly beforeSwap?: () => Promise<void>;
}

export interface RebuildProgress {
  readonly phase: "index" | "replay" | "swap" | "done";
  /** Command-log entries read (replay) or event messages indexed (index), of `total`. */
  readonly done: number;
  readonly total: number;
  readonly events: number;
}

export interface RebuildResult {
  readonly entries: number;
  readonly commands: number;
  readonly events: number;
  readonly messages: number;
  /** Rebuilt messages found in the event stream (ids checked one for one). */
  readonly messagesMatched: number;
  /** Engine snapshots whose state the rebuild reproduced at their command. */
  readonly snapshotsChecked: number;
  /** The projector's resume position after the swap. */
  readonly resumeAfter: number;
}

/** Longest stretch of replay before the loop lets I/O (the previous batch's statements) through. */
const MAX_BUSY_MS = 5;
/** Entries between progress reports. */
const PROGRESS_EVERY = 256;

interface SnapshotCheck {
  readonly lastSeq: number;
  readonly digest: string;
}

/**
 * Rebuilds the journal from the venue's command log, which is kept for ever while the event
 * stream keeps 7 days: every partition's entries from the first, applied to a partition made
 * from the venue file exactly as a cold-started engine makes it, cut into the messages the
 * engine publishes (eventRuns, EngineEventBatch bytes, decoded as the projector decodes them)
 * and projected by the projector's own code into staging tables, which replace the live ones
 * in one transaction at the end. Queries read the live tables throughout; a failure or a
 * refusal leaves them as they were.
 *
 * The live engine's output is a function of the log only if the venue file gives the engine
 * it started from: the rebuild proves it where it can and refuses otherwise. Every message the
 * event stream still holds must be cut by the rebuild too (same id, same partition) and vice
 * versa, and at each engine snapshot's command the rebuilt partition must have the snapshot's
 * digest (state and config). Rows take the stream sequence of their message from the stream.
 */
export async function rebuildJournal(deps: RebuildDeps): Promise<RebuildResult> {
  const { nc, venue, store, logger } = deps;
  await ensureLogFormat(nc, venue);
  const jsm = await jetstreamManager(nc);
  const log = (await jsm.streams.info(commandStreamName(venue))).state;
  if (log.last_seq > 0 && (log.messages === 0 || log.first_seq > 1))
    throw new RebuildRefusedError(
      "LOG_INCOMPLETE",
      `the command log of ${venue} starts at entry ${log.first_seq}: entries before it were removed ` +
        "(a retention limit on the command stream?), so the journal cannot be rebuilt from it",
    );
  const index = await indexEventStream(deps, jsm);
  const snapshots = await snapshotChecks(deps, jsm);
  await createStaging(store, await readMigrations());
  try {
    // The last entry stored: a deleted last entry keeps last_seq, and the replay would wait for it.
    const end = await lastStoredSeq(jsm, commandStreamName(venue));
    const result = await replay(deps, end, index, snapshots);
    await deps.beforeSwap?.();
    deps.onProgress?.({ phase: "swap", done: end, total: end, events: result.events });
    await swapStaging(store, deps.projector, result.resumeAfter);
    deps.onProgress?.({ phase: "done", done: end, total: end, events: result.events });
    logger.info(result, "journal rebuilt from the command log");
    return result;
  } catch (err) {
    await dropStaging(store).catch(() => undefined);
    throw err;
  }
}

/** Reads a stream from the start to the message at `end` through platform's StreamFollower. */
async function readTo(
  deps: RebuildDeps,
  stream: string,
  end: number,
  onMessage: (m: JsMsg) => Promise<void> | void,
  headersOnly = false,
): Promise<void> {
  if (end === 0) return;
  let fail: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  let failure: unknown;
  const follower = new StreamFollower({
    js: jetstream(deps.nc),
    stream,
    logger: deps.logger,
    what: stream,
    headersOnly,
    lastSeq: () => Promise.resolve(end),
    // A refusal must end the read, not make the follower resubscribe and deliver it again.
    onMessage: async (m) => {
      if (failure !== undefined || m.seq > end) return;
      try {
        await onMessage(m);
      } catch (err) {
        failure = err;
        fail(err);
      }
    },
  });
  follower.start(0);
  try {
    await Promise.race([follower.reached(end), failed]);
  } finally {
    await follower.stop();
  }
}

/** The event stream's messages by id, headers only (the bodies are what the rebuild makes). */
async function indexEventStream(deps: RebuildDeps, jsm: JetStreamManager): Promise<PublishedIndex> {
  const index = new PublishedIndex();
  const stream = eventStreamName(deps.venue);
  const state = (await jsm.streams.info(stream, { deleted_details: true })).state;
  // A stream whose messages all aged out, or whose last one was deleted, still has its last
  // sequence, and nothing to deliver there.
  const end = lastStoredIn(state);
  await readTo(
    deps,
    stream,
    end,
    (m) => {
      index.add(m.seq, eventSubjectPartition(m.subject), m.headers?.get("Nats-Msg-Id"));
      if (m.seq % 4_096 === 0) deps.onProgress?.({ phase: "index", done: m.seq, total: end, events: 0 });
    },
    true,
  );
  index.end = Math.max(index.end, state.last_seq);
  deps.onProgress?.({ phase: "index", done: end, total: end, events: 0 });
  return index;
}

/** Per partition, the stored engine snapshots' commands and digests, oldest first. */
async function snapshotChecks(deps: RebuildDeps, jsm: JetStreamManager): Promise<Map<number, SnapshotCheck[]>> {
  const checks = new Map<number, SnapshotCheck[]>();
  const bucket = snapshotsBucket(deps.venue);
  // Reading must not create the bucket: a venue without snapshots has none to check.
  if (!(await jsm.streams.names().next()).includes(`OBJ_${bucket}`)) return checks;
  const store = await new Objm(deps.nc).open(bucket);
  for (const info of await store.list()) {
    const m = /^p(\d+)-(\d+)$/.exec(info.name);
    if (info.deleted || m === null || !deps.partitions.has(Number(m[1]))) continue;
    const bytes = await store.getBlob(info.name);
    if (bytes === null) continue;
    let digest: string;
    try {
      digest = restorePartition(bytes).digest();
    } catch (err) {
      deps.logger.warn({ snapshot: info.name, err: (err as Error).message }, "snapshot unreadable; not checked");
      continue;
    }
    const list = checks.get(Number(m[1])) ?? [];
    list.push({ lastSeq: Number(m[2]), digest });
    checks.set(Number(m[1]), list);
  }
  for (const list of checks.values()) list.sort((a, b) => a.lastSeq - b.lastSeq);
  return checks;
}

async function replay(
  deps: RebuildDeps,
  end: number,
  index: PublishedIndex,
  snapshots: Map<number, SnapshotCheck[]>,
): Promise<RebuildResult> {
  const { venue, store } = deps;
  const batchMessages = deps.batchMessages ?? DEFAULT_BATCH_MESSAGES;
  const partitions = new Map([...deps.partitions].map(([p, engine]) => [p, Partition.create({ engine })] as const));
  let entries = 0;
  let commands = 0;
  let events = 0;
  let messages = 0;
  let matched = 0;
  let snapshotsChecked = 0;
  let batch: StreamMessage[] = [];
  // One batch is written while the next is replayed: the matching core and PostgreSQL work
  // at once. The loop yields every few milliseconds so the write's statements go out.
  let writing: Promise<void> = Promise.resolve();
  let yieldedAt = performance.now();
  const flush = async (): Promise<void> => {
    await writing;
    if (batch.length === 0) return;
    const writes = projectBatch(batch);
    batch = [];
    writing = inStaging(store, (tx) => writeBatch(tx, writes, "rebuild"));
    // Its failure is awaited at the next flush; until then it must not count as unhandled.
    writing.catch(() => undefined);
  };

  const replayed = readTo(deps, commandStreamName(venue), end, async (m) => {
    const p = Number(m.subject.slice(m.subject.lastIndexOf(".") + 1));
    const partition = partitions.get(p);
    if (partition === undefined)
      throw new RebuildRefusedError(
        "UNKNOWN_PARTITION",
        `command log entry ${m.seq} is on ${m.subject}, a partition the venue file does not have ` +
          `(it has ${[...partitions.keys()].join(", ")}): give the venue file the log was written with`,
      );
    const entry = decodeEntry(m.data);
    const produced: EngineEvent[] = [];
    for (let i = 0; i < entry.commands.length; i++) {
      partition.apply(commandSeqOf(m.seq, i), entry.commands[i], entry.error);
      for (const e of partition.wireEvents()) produced.push(e);
    }
    entries++;
    commands += entry.commands.length;
    events += produced.length;
    // The engine's publisher path: one EngineEventBatch per run, decoded as the projector decodes it.
    for (const run of eventRuns(produced)) {
      const id = eventMsgId(run.lastCommandSeq, run.lastIndex);
      const seq = index.matchRebuilt(p, id, run.lastCommandSeq);
      if (seq > 0) matched++;
      messages++;
      const data = EngineEventBatch.encode({ events: run.events }).finish();
      batch.push({ seq, subject: eventSubject(venue, p, run.instrument), events: decodeEventMessage(data) });
    }
    snapshotsChecked += checkSnapshots(snapshots, p, partition);
    if (batch.length >= batchMessages) await flush();
    if (performance.now() - yieldedAt > MAX_BUSY_MS) {
      await new Promise((r) => setImmediate(r));
      yieldedAt = performance.now();
    }
    if (entries % PROGRESS_EVERY === 0) deps.onProgress?.({ phase: "replay", done: m.seq, total: end, events });
  });
  try {
    await replayed;
    await flush();
    await writing;
  } catch (err) {
    // A refusal while a batch is being written: let it end before the staging schema is dropped.
    await writing.catch(() => undefined);
    throw err;
  }
  deps.onProgress?.({ phase: "replay", done: end, total: end, events });
  const lastSeq = new Map([...partitions].map(([p, partition]) => [p, partition.lastSeq] as const));
  index.checkAllMatched(lastSeq);
  for (const [p, left] of snapshots)
    if (left.length > 0 && left[0]!.lastSeq <= (lastSeq.get(p) ?? 0))
      throw new RebuildRefusedError(
        "STATE_DIVERGED",
        `partition ${p}'s engine snapshot at command ${left[0]!.lastSeq} is at no command the rebuild ended an entry on`,
      );
  return {
    entries,
    commands,
    events,
    messages,
    messagesMatched: matched,
    snapshotsChecked,
    resumeAfter: index.coveredUpTo(lastSeq),
  };
}

/**
 * Compares the rebuilt partition with the engine's snapshots taken at its current command
 * (an engine snapshots between entries); returns how many matched.
 */
function checkSnapshots(snapshots: Map<number, SnapshotCheck[]>, p: number, partition: Partition): number {
  const list = snapshots.get(p);
  let matched = 0;
  while (list !== undefined && list.length > 0 && list[0]!.lastSeq <= partition.lastSeq) {
    const snap = list.shift()!;
    if (snap.lastSeq === partition.lastSeq && snap.digest === partition.digest()) {
      matched++;
      continue;
    }
    throw new RebuildRefusedError(
      "STATE_DIVERGED",
      snap.lastSeq === partition.lastSeq
        ? `partition ${p}'s engine snapshot at command ${snap.lastSeq} holds another state than the rebuild ` +
            "there: the live engine did not start from this venue file (were its instruments changed since the log began?)"
        : `partition ${p}'s engine snapshot at command ${snap.lastSeq} is at no command the rebuild ended an entry on`,
    );
  }
  return matched;
}
