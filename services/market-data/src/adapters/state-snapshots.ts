import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { MILLISECOND_BUCKETS_S, runInSteps, StreamSnapshots, type BlobStore, type Logger } from "@tradeplane/platform";
import type { UpdateHistory } from "../domain/history.ts";
import type { MarketState } from "../domain/market-state.ts";
import {
  decodeStateSnapshot,
  encodeStateSnapshotSteps,
  type DecodedStateSnapshot,
  type RestoreSettings,
} from "../domain/state-snapshot.ts";

/** Names of market-data snapshots in the venue's snapshots bucket: `md-<event stream sequence, 16 digits>`. */
export const SNAPSHOT_PREFIX = "md-";

export interface StateSnapshotsDeps {
  readonly store: BlobStore;
  /** Snapshots kept (newest first, of every replica together); older ones are deleted after each write. */
  readonly keep: number;
  readonly logger: Logger;
  readonly registry: Registry;
}

/** The event stream as it is at start: its creation time (ISO) tells a re-created stream apart. */
export interface StreamAtStart {
  readonly created: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
}

export interface LoadedState extends DecodedStateSnapshot {
  readonly name: string;
}

/** What is snapshotted, and when. */
export interface SnapshotSchedule {
  readonly state: MarketState;
  readonly history: UpdateHistory;
  readonly streamCreated: string;
  /**
   * The stream sequence a snapshot taken now holds everything up to (the follower's
   * safePosition: before any message still waiting for its predecessor); the state's position if absent.
   */
  readonly position?: () => number;
  /** A snapshot after this many events since the last one (0 = not by count). */
  readonly everyEvents: number;
  /** A snapshot when this many ms passed and events arrived since the last one (0 = not by time). */
  readonly intervalMs: number;
}

/**
 * Snapshots of the market-data state (domain/state-snapshot.ts) in the venue's snapshots
 * object store. At start: the newest one that loads and fits the event stream as it is
 * (not past its end, taken of this stream, not corrupt), else an older one, else none
 * (replay from the stream's start); each one passed over is logged and counted. While
 * running: one every `everyEvents` events, one every `intervalMs` if events arrived, one
 * at shutdown. The state is deterministic, so any replica may load any other's.
 *
 * A snapshot is encoded at once when taken (synchronously, between two events, so it is
 * consistent; a command may be half applied, the snapshot holds that too), then written
 * while events go on being applied.
 */
export class StateSnapshots {
  private readonly deps: StateSnapshotsDeps;
  private readonly snapshots: StreamSnapshots;
  private schedule: SnapshotSchedule | undefined;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<boolean> | undefined;
  private readonly metrics;

  constructor(deps: StateSnapshotsDeps) {
    this.deps = deps;
    this.snapshots = new StreamSnapshots({
      store: deps.store,
      prefix: SNAPSHOT_PREFIX,
      keep: deps.keep,
      logger: deps.logger,
      what: "market-data state",
    });
    const registers = [deps.registry];
    const snapshots = this.snapshots;
    this.metrics = {
      loadedSeq: new Gauge({
        name: "tp_md_snapshot_loaded_seq",
        help: "Event-stream sequence of the snapshot the state was loaded from at start (0 = replayed from the stream's start)",
        registers,
      }),
      loadFailures: new Counter({
        name: "tp_md_snapshot_load_failures_total",
        help: "Snapshots passed over at start: corrupt, of another version or stream, or past the stream's end",
        registers,
      }),
      seq: new Gauge({
        name: "tp_md_snapshot_seq",
        help: "Event-stream sequence of the newest snapshot this process wrote or loaded",
        registers,
        collect() {
          this.set(snapshots.lastSeq);
        },
      }),
      written: new Counter({ name: "tp_md_snapshots_written_total", help: "Snapshots written", registers }),
      writeFailures: new Counter({
        name: "tp_md_snapshot_write_failures_total",
        help: "Snapshots that could not be taken or written",
        registers,
      }),
      bytes: new Gauge({
        name: "tp_md_snapshot_bytes",
        help: "Size of the newest snapshot written or loaded, bytes",
        registers,
      }),
      duration: new Histogram({
        name: "tp_md_snapshot_duration_seconds",
        help: "State snapshot work, seconds: encode (from copying the state to its bytes, encoded in steps between which events are still applied), write (to the object store), load (finding, reading and decoding at start)",
        labelNames: ["op"],
        buckets: [...MILLISECOND_BUCKETS_S],
        registers,
      }),
    };
  }

  /** Stream sequence of the newest snapshot written or loaded (0 = none). */
  get lastSeq(): number {
    return this.snapshots.lastSeq;
  }

  /**
   * The state and history of the newest snapshot that loads into `settings` and fits
   * `stream`, or undefined: replay the stream from its start.
   */
  async load(stream: StreamAtStart, settings: RestoreSettings): Promise<LoadedState | undefined> {
    const { logger } = this.deps;
    const started = performance.now();
    const { loaded, skipped } = await this.snapshots.load(stream.lastSeq, (bytes, entry) => {
      const decoded = decodeStateSnapshot(bytes, settings);
      if (decoded.streamSeq !== entry.streamSeq) throw new Error(`it holds sequence ${decoded.streamSeq}`);
      if (decoded.streamCreated !== stream.created)
        throw new Error(`it was taken of an event stream created ${decoded.streamCreated}, not ${stream.created}`);
      return decoded;
    });
    this.metrics.loadFailures.inc(skipped.length);
    if (loaded === undefined) {
      if (skipped.length > 0)
        logger.warn({ skipped: skipped.length }, "no state snapshot loads: replaying the event stream from its start");
      return undefined;
    }
    this.metrics.duration.observe({ op: "load" }, (performance.now() - started) / 1000);
    this.metrics.bytes.set(loaded.bytes);
    this.metrics.loadedSeq.set(loaded.streamSeq);
    const { added, dropped, changed } = loaded.value;
    logger.info(
      { snapshot: loaded.name, streamSeq: loaded.streamSeq, bytes: loaded.bytes, skipped: skipped.length },
      "state loaded from snapshot",
    );
    if (added.length + dropped.length + changed.length > 0)
      logger.warn(
        { added, dropped, changed },
        "the snapshot was taken with other instruments: added ones start empty, dropped ones are gone",
      );
    if (stream.firstSeq > loaded.streamSeq + 1)
      logger.warn(
        { streamSeq: loaded.streamSeq, firstSeq: stream.firstSeq },
        "events after the snapshot are no longer in the stream: the state misses them",
      );
    return { ...loaded.value, name: loaded.name };
  }

  /** Starts snapshotting by time; call `eventApplied` after each message handed over, for the count. */
  start(schedule: SnapshotSchedule): void {
    this.schedule = schedule;
    if (schedule.intervalMs > 0) {
      this.timer = setInterval(() => void this.save(), schedule.intervalMs);
      this.timer.unref();
    }
  }

  /**
   * After each message handed over (never in the middle of a hand-over): a snapshot once
   * `everyEvents` were applied since the last one.
   */
  eventApplied(): void {
    const s = this.schedule;
    if (s === undefined || s.everyEvents === 0 || this.saving !== undefined) return;
    if (s.state.position - this.snapshots.lastSeq >= s.everyEvents) void this.save();
  }

  /**
   * Takes a snapshot of the state as it is now and writes it, unless one at this position
   * exists or one is being written. Never throws: failures are logged and counted.
   */
  save(): Promise<boolean> {
    const s = this.schedule;
    if (s === undefined) return Promise.resolve(false);
    if (this.saving !== undefined) return this.saving;
    const position = s.position?.() ?? s.state.position;
    if (position <= this.snapshots.lastSeq) return Promise.resolve(false);
    let encoded = 0;
    const started = performance.now();
    // The state is exported now (the bytes are of this moment, `position`) and written in
    // steps between which the service goes on applying events and serving subscribers.
    const steps = encodeStateSnapshotSteps(s.state, s.history, s.streamCreated, undefined, position);
    const saving = runInSteps(steps)
      .then((bytes) => {
        encoded = performance.now();
        this.metrics.duration.observe({ op: "encode" }, (encoded - started) / 1000);
        return this.snapshots.save(position, () => bytes);
      })
      .then((saved) => {
        if (saved === undefined) return false;
        this.metrics.duration.observe({ op: "write" }, (performance.now() - encoded) / 1000);
        this.metrics.bytes.set(saved.bytes);
        this.metrics.written.inc();
        return true;
      })
      .catch((err: unknown) => {
        this.metrics.writeFailures.inc();
        this.deps.logger.error({ err, streamSeq: position }, "state snapshot failed");
        return false;
      })
      .finally(() => {
        this.saving = undefined;
        // Events applied while this one was written may already call for the next.
        this.eventApplied();
      });
    this.saving = saving;
    return saving;
  }

  /** Stops the timer and writes a last snapshot (after one in flight, which may hold an earlier position). */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.saving;
    await this.save();
  }
}
