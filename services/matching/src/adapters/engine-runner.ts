import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { context, trace, type Span, type Tracer } from "@opentelemetry/api";
import {
  commandSeqOf,
  commandStreamName,
  commandSubject,
  EngineEventBatch,
  entrySeqOf,
  eventStreamName,
  eventSubject,
  eventSubjects,
  type EngineEvent,
} from "@tradeplane/contracts";
import {
  contextOfTraceparent,
  injectTraceHeaders,
  JetStreamAsyncPublisher,
  runInSteps,
  StreamFollower,
  type Health,
  type Logger,
} from "@tradeplane/platform";
import type { EngineConfig } from "@tradeplane/matching-core/config";
import { eventRuns } from "@tradeplane/matching-core/event-runs";
import { decodeEntry } from "@tradeplane/matching-core/log-entry";
import { Partition, restorePartition } from "@tradeplane/matching-core/partition";
import { EventPublisher, NOTHING_PUBLISHED, restartMarkOf, type PublishedMark } from "./event-publisher.ts";
import type { EngineMetrics } from "./engine-metrics.ts";
import { Lease, type LeaseRole } from "./lease.ts";
import type { SnapshotStore } from "./snapshot-store.ts";

export interface EngineRunnerSettings {
  readonly venue: string;
  readonly partition: number;
  readonly instanceId: string;
  readonly snapshotEveryCommands: number;
  readonly snapshotEverySeconds: number;
  readonly leaseTtlMs: number;
  readonly publishWindow: number;
  readonly publishTimeoutMs: number;
  readonly maxRetainedEvents: number;
}

export interface EngineRunnerDeps {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly leases: KV;
  readonly snapshots: SnapshotStore;
  readonly engine: EngineConfig;
  readonly settings: EngineRunnerSettings;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  readonly tracer: Tracer;
  readonly health: Health;
  /** Called when the lease is lost: the process should exit and restart as a standby. */
  readonly onFatal: (reason: string) => void;
}

export interface EngineStatus {
  readonly partition: number;
  readonly role: LeaseRole;
  readonly lastCommandSeq: number;
  readonly lag: number;
  readonly publishBacklog: number;
  /**
   * The last event of this partition the event stream holds with every one before it
   * (cmdSeq 0: none): what a reader of the stream waits for, since applied is not yet stored.
   */
  readonly published: PublishedMark;
  readonly caughtUp: boolean;
  readonly publisher: EventPublisher["state"] | undefined;
  /** Wall-clock time (ISO) the last command arrived from the log. */
  readonly lastCommandAt: string | undefined;
}

/** Apply latency is sampled on one command in this many (a histogram observation costs more than a command). */
const LATENCY_SAMPLE_EVERY = 16;
/** Counters are flushed to prom-client in batches of this many commands. */
const METRICS_FLUSH_EVERY = 1_024;
/**
 * Longest stretch of back-to-back commands before the loop yields to timers and I/O. The
 * message iterator resolves through microtasks, which can starve timers for as long as
 * a backlog lasts; the lease renewal, gRPC and /metrics must still run.
 */
const MAX_BUSY_MS = 5;
/** How often a standby reads the primary's progress in the event stream. */
const OBSERVE_INTERVAL_MS = 250;

/**
 * The engine loop of one partition: restore from the newest usable snapshot, replay and
 * then follow the partition's command subject strictly in log order, apply each command
 * to the pure partition, and hand its events to the publisher (publishing as primary,
 * retaining as standby). Writes snapshots as primary.
 */
export class EngineRunner {
  private readonly deps: EngineRunnerDeps;
  partition: Partition;
  private publisher!: EventPublisher;
  private lease!: Lease;
  /** The partition's command subject, followed in log order (platform's StreamFollower: resubscribe, watchdog). */
  private readonly log: StreamFollower;
  private stopping = false;
  /** Since the last metrics flush, and since the loop last yielded. */
  private applied = 0;
  private rejected = 0;
  private busySince = performance.now();
  private lag = 0;
  private caughtUp = false;
  private commandsSinceSnapshot = 0;
  private lastSnapshotAt = performance.now();
  private snapshotInFlight: Promise<void> | undefined;
  private startedAt = 0;
  private readonly sink: JetStreamAsyncPublisher;
  private observeTimer: NodeJS.Timeout | undefined;
  private appliedSinceStart = 0;
  private lastCommandAt: string | undefined;
  /** Command sequence of the newest snapshot loaded or stored. */
  lastSnapshotSeq = 0;

  constructor(deps: EngineRunnerDeps) {
    this.deps = deps;
    this.partition = Partition.create({ engine: deps.engine });
    this.sink = new JetStreamAsyncPublisher(deps.nc, deps.settings.publishTimeoutMs);
    this.log = new StreamFollower({
      js: deps.js,
      stream: commandStreamName(deps.settings.venue),
      filterSubject: commandSubject(deps.settings.venue, deps.settings.partition),
      logger: deps.logger,
      what: "command",
      onMessage: (m) => this.onEntry(m),
      lastSeq: () => this.lastEntrySeq(),
    });
  }

  get status(): EngineStatus {
    return {
      partition: this.deps.settings.partition,
      role: this.lease?.role ?? "standby",
      lastCommandSeq: this.partition.lastSeq,
      lag: this.lag,
      publishBacklog: this.publisher?.backlog ?? 0,
      published: this.publisher?.published ?? NOTHING_PUBLISHED,
      caughtUp: this.caughtUp,
      publisher: this.publisher?.state,
      lastCommandAt: this.lastCommandAt,
    };
  }

  /** Restores state, starts contending for the lease and starts the loop. */
  async start(): Promise<void> {
    const { settings, logger, metrics } = this.deps;
    await this.restore();
    const mark = await this.publishedMark();
    logger.info({ lastSeq: this.partition.lastSeq, mark }, "engine restored; event stream mark read");
    this.publisher = new EventPublisher(
      {
        sink: this.sink,
        window: settings.publishWindow,
        maxRetained: settings.maxRetainedEvents,
        hooks: {
          onAck: () => metrics.eventsPublished.inc(),
          onFailure: (err, firstOfEpisode) => {
            metrics.publishFailures.inc();
            if (firstOfEpisode)
              logger.warn({ err: (err as Error).message }, "event publish failed; resending in order");
          },
        },
      },
      "retain",
      mark,
    );
    metrics.role.set(0);
    const cpus = cpusAllowed();
    this.lease = new Lease({
      kv: this.deps.leases,
      key: `engine.${settings.partition}`,
      holder: `${settings.instanceId}/${randomUUID().slice(0, 8)}`,
      ttlMs: settings.leaseTtlMs,
      logger,
      ...(cpus !== undefined ? { details: { cpusAllowed: cpus } } : {}),
      onAcquired: async () => {
        const current = await this.publishedMark();
        this.publisher.promote(current);
        metrics.role.set(1);
        logger.info({ mark: current, lastSeq: this.partition.lastSeq }, "promoted to primary");
      },
      onLost: () => {
        metrics.role.set(0);
        this.deps.onFatal("lease lost to another instance");
      },
    });
    this.lease.start();
    // A standby trims what it retains as it sees the primary's events land.
    this.observeTimer = setInterval(() => {
      if (this.lease.role !== "standby") return;
      this.publishedMark().then(
        (m) => this.publisher.observe(m),
        () => undefined,
      );
    }, OBSERVE_INTERVAL_MS);
    this.startedAt = performance.now();
    this.deps.health.set("engine", "starting", "replaying the command log");
    if ((await this.lastEntrySeq()) <= entrySeqOf(this.partition.lastSeq)) this.markCaughtUp();
    this.log.start(entrySeqOf(this.partition.lastSeq));
  }

  /** Stops consuming, waits for publishes and releases the lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.observeTimer !== undefined) clearInterval(this.observeTimer);
    await this.log.stop();
    await this.snapshotInFlight?.catch(() => undefined);
    if (this.publisher?.mode === "publish") await this.publisher.idle();
    await this.lease?.stop();
    this.sink.close();
  }

  /** Resolves once the loop has applied every command up to `seq`. */
  async waitForSeq(seq: number, timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.partition.lastSeq < seq) {
      if (performance.now() > deadline) throw new Error(`engine did not reach command ${seq} in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async restore(): Promise<void> {
    const { snapshots, logger, metrics } = this.deps;
    let list: Awaited<ReturnType<SnapshotStore["list"]>> = [];
    try {
      list = await snapshots.list();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "cannot list snapshots; replaying the whole log");
    }
    // Until a snapshot is loaded or stored, staleness counts from the start.
    metrics.lastSnapshotTime.setToCurrentTime();
    for (const snap of list) {
      try {
        const bytes = await snapshots.read(snap.name);
        if (bytes === null) throw new Error("snapshot object has no data");
        const partition = restorePartition(bytes);
        if (partition.lastSeq !== snap.lastSeq)
          throw new Error(`holds seq ${partition.lastSeq}, named ${snap.lastSeq}`);
        this.partition = partition;
        this.lastSnapshotSeq = snap.lastSeq;
        metrics.lastSnapshotTime.setToCurrentTime();
        metrics.lastSnapshotSeq.set(snap.lastSeq);
        logger.info({ snapshot: snap.name, lastSeq: snap.lastSeq, bytes: snap.size }, "snapshot loaded");
        return;
      } catch (err) {
        metrics.snapshotLoadFailures.inc();
        logger.error({ snapshot: snap.name, err: (err as Error).message }, "snapshot unusable; trying an older one");
      }
    }
    logger.info("no usable snapshot; replaying the command log from the start");
  }

  /**
   * Where this partition's events are known complete in the event stream: the prefix its last
   * stored message names (restartMarkOf), not that message itself, which may have been
   * stored before a lost one of its window was resent.
   */
  private async publishedMark(): Promise<PublishedMark> {
    const { venue, partition } = this.deps.settings;
    try {
      const last = await this.deps.jsm.streams.getMessage(eventStreamName(venue), {
        last_by_subj: eventSubjects(venue, { partition }),
      });
      return restartMarkOf(last?.header) ?? NOTHING_PUBLISHED;
    } catch (err) {
      if (/no message found|message not found/i.test((err as Error).message)) return NOTHING_PUBLISHED;
      throw err;
    }
  }

  /** One log entry from the follower; the loop waits for the returned promise. */
  private onEntry(m: JsMsg): Promise<void> | undefined {
    if (this.stopping) return undefined;
    // Checked every entry: an entry holds up to 1,000 commands, so 64 of them (the check's
    // old stride, from one command per message) could hold the loop for most of a second.
    if (performance.now() - this.busySince > MAX_BUSY_MS)
      return new Promise<void>((r) => setImmediate(r)).then(() => {
        this.busySince = performance.now();
        return this.applyEntry(m);
      });
    return this.applyEntry(m);
  }

  /** Applies an entry's commands whole (no await between them), then offers its events. */
  private async applyEntry(m: JsMsg): Promise<void> {
    const { metrics } = this.deps;
    // The ordered consumer has parsed (and cached) the ack subject already: info is free here.
    const info = m.info;
    const entrySeq = info.streamSequence;
    if (entrySeq <= entrySeqOf(this.partition.lastSeq)) return; // re-delivery after a consumer reset
    if ((entrySeq & 255) === 0) this.lastCommandAt = new Date().toISOString();
    const entry = decodeEntry(m.data);
    if (entry.error !== undefined) metrics.malformedCommands.inc();
    const count = entry.commands.length;
    // Entries whose events are already published are replayed without spans or wire events.
    const wanted = this.publisher.wants(commandSeqOf(entrySeq, count - 1));
    let events: EngineEvent[] | undefined;
    let spans: { seq: number; span: Span }[] | undefined;
    for (let i = 0; i < count; i++) {
      const command = entry.commands[i];
      const seq = commandSeqOf(entrySeq, i);
      const traceparent = command?.traceparent ?? "";
      const span = wanted && traceparent !== "" ? this.startSpan(seq, traceparent) : undefined;
      const sampled = seq % LATENCY_SAMPLE_EVERY === 0;
      const t0 = sampled ? performance.now() : 0;
      const result = this.partition.apply(seq, command, entry.error, wanted);
      if (sampled) metrics.applySeconds.observe((performance.now() - t0) / 1000);
      if (result.rejected) this.rejected++;
      if (span !== undefined) {
        span.setAttribute("tp.events", result.coreEvents);
        (spans ??= []).push({ seq, span });
      }
      // The entry's own list: the partition's wire events are rebuilt by its next apply.
      if (wanted) for (const e of this.partition.wireEvents()) (events ??= []).push(e);
    }
    this.appliedSinceStart += count;
    this.applied += count;
    if (events !== undefined) await this.publishEntry(events, spans);
    if (spans !== undefined) for (const s of spans) s.span.end();
    this.lag = info.pending;
    if (this.lag === 0 && !this.caughtUp) this.markCaughtUp();
    this.maybeSnapshot(count);
    if (this.applied >= METRICS_FLUSH_EVERY || this.lag === 0) {
      metrics.commandsApplied.inc({ outcome: "ok" }, this.applied - this.rejected);
      if (this.rejected > 0) metrics.commandsApplied.inc({ outcome: "rejected" }, this.rejected);
      this.applied = 0;
      this.rejected = 0;
      metrics.lastCommandSeq.set(this.partition.lastSeq);
      metrics.commandLag.set(this.lag);
      metrics.publishBacklog.set(this.publisher.backlog);
    }
  }

  private startSpan(seq: number, traceparent: string): Span {
    const { venue, partition } = this.deps.settings;
    return this.deps.tracer.startSpan(
      "engine.apply",
      { attributes: { "tp.venue": venue, "tp.partition": partition, "tp.command_seq": seq } },
      contextOfTraceparent(traceparent),
    );
  }

  /**
   * Publishes an entry's events: one message per run of events about one instrument
   * (usually one per entry). A message carries the trace context of the first traced
   * command it holds events of.
   */
  private async publishEntry(events: EngineEvent[], spans: { seq: number; span: Span }[] | undefined): Promise<void> {
    const { venue, partition } = this.deps.settings;
    for (const run of eventRuns(events)) {
      let headers: MsgHdrs | undefined;
      if (spans !== undefined) {
        const first = run.events[0]!.commandSeq;
        const traced = spans.find((s) => s.seq >= first && s.seq <= run.lastCommandSeq);
        if (traced !== undefined) {
          headers = natsHeaders();
          injectTraceHeaders(headers, trace.setSpan(context.active(), traced.span));
        }
      }
      const wait = this.publisher.offer({
        cmdSeq: run.lastCommandSeq,
        index: run.lastIndex,
        subject: eventSubject(venue, partition, run.instrument),
        data: EngineEventBatch.encode({ events: run.events }).finish(),
        headers,
      });
      if (wait !== undefined) await wait;
    }
  }

  /** Stream sequence of the partition's last log entry (0: none). */
  private async lastEntrySeq(): Promise<number> {
    const { venue, partition } = this.deps.settings;
    try {
      const last = await this.deps.jsm.streams.getMessage(commandStreamName(venue), {
        last_by_subj: commandSubject(venue, partition),
      });
      return last?.seq ?? 0;
    } catch (err) {
      if (/no message found|message not found/i.test((err as Error).message)) return 0;
      throw err;
    }
  }

  private markCaughtUp(): void {
    this.caughtUp = true;
    const seconds = (performance.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? this.appliedSinceStart / seconds : 0;
    this.deps.metrics.replayRate.set(rate);
    this.deps.metrics.lastCommandSeq.set(this.partition.lastSeq);
    this.deps.metrics.commandLag.set(0);
    this.deps.health.set("engine", "ok");
    this.deps.logger.info(
      { lastSeq: this.partition.lastSeq, replayed: this.appliedSinceStart, commandsPerSecond: Math.round(rate) },
      "caught up with the command log",
    );
  }

  private maybeSnapshot(commands: number): void {
    const { snapshotEveryCommands, snapshotEverySeconds } = this.deps.settings;
    this.commandsSinceSnapshot += commands;
    if (this.lease.role !== "primary" || this.snapshotInFlight !== undefined) return;
    const byCount = snapshotEveryCommands > 0 && this.commandsSinceSnapshot >= snapshotEveryCommands;
    const byTime =
      snapshotEverySeconds > 0 &&
      this.commandsSinceSnapshot > 0 &&
      performance.now() - this.lastSnapshotAt >= snapshotEverySeconds * 1000;
    if (!byCount && !byTime) return;
    this.snapshotNow();
  }

  /**
   * Snapshots the partition as it is now and stores it in the background. The state is copied
   * now; it is serialised in steps between which the loop goes on (a snapshot of a large book
   * took the loop a third of a second in one piece).
   */
  snapshotNow(): Promise<void> {
    const { metrics, logger, snapshots } = this.deps;
    const t0 = performance.now();
    const lastSeq = this.partition.lastSeq;
    const steps = this.partition.snapshotSteps();
    const copyMs = performance.now() - t0;
    this.commandsSinceSnapshot = 0;
    this.lastSnapshotAt = performance.now();
    const write = (async () => {
      const bytes = await runInSteps(steps);
      await snapshots.write(lastSeq, bytes);
      metrics.snapshotSeconds.observe((performance.now() - t0) / 1000);
      metrics.snapshotBytes.set(bytes.length);
      metrics.lastSnapshotTime.setToCurrentTime();
      metrics.lastSnapshotSeq.set(lastSeq);
      this.lastSnapshotSeq = Math.max(this.lastSnapshotSeq, lastSeq);
      logger.info(
        { lastSeq, bytes: bytes.length, ms: Math.round(performance.now() - t0), copyMs: Math.round(copyMs * 10) / 10 },
        "snapshot stored",
      );
    })()
      .catch((err: unknown) => logger.error({ err: (err as Error).message, lastSeq }, "snapshot write failed"))
      .finally(() => {
        this.snapshotInFlight = undefined;
      });
    this.snapshotInFlight = write;
    return write;
  }
}

/**
 * The CPUs this process may run on, as Linux reports them (`Cpus_allowed_list` of
 * /proc/self/status, e.g. "4-5"); undefined elsewhere. Published with the lease so that
 * the operator can tell whether the kubelet's CPU manager pinned the engine.
 */
function cpusAllowed(): string | undefined {
  try {
    return /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  } catch {
    return undefined;
  }
}
