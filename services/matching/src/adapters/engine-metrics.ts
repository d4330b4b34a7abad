import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { allowedCpus } from "./cpu-affinity.ts";
import { MICROSECOND_BUCKETS_S, MILLISECOND_BUCKETS_S } from "@tradeplane/platform";

/** The engine service's metrics, registered once on the process registry. */
export interface EngineMetrics {
  readonly commandsApplied: Counter<"outcome">;
  readonly eventsPublished: Counter;
  readonly publishFailures: Counter;
  readonly applySeconds: Histogram;
  readonly publishBacklog: Gauge;
  readonly commandLag: Gauge;
  readonly lastCommandSeq: Gauge;
  readonly role: Gauge;
  readonly snapshotSeconds: Histogram;
  readonly snapshotBytes: Gauge;
  readonly lastSnapshotTime: Gauge;
  readonly lastSnapshotSeq: Gauge;
  readonly snapshotLoadFailures: Counter;
  readonly replayRate: Gauge;
  readonly malformedCommands: Counter;
  readonly cpusAllowed: Gauge;
}

export function createEngineMetrics(registry: Registry): EngineMetrics {
  const registers = [registry];
  return {
    commandsApplied: new Counter({
      name: "tp_engine_commands_applied_total",
      help: "Commands applied from the command log, by outcome (ok or rejected)",
      labelNames: ["outcome"],
      registers,
    }),
    eventsPublished: new Counter({
      name: "tp_engine_events_published_total",
      help: "Event messages acknowledged by JetStream (one per run of a command's events about one instrument)",
      registers,
    }),
    publishFailures: new Counter({
      name: "tp_engine_publish_failures_total",
      help: "Event publishes that failed and were retried",
      registers,
    }),
    applySeconds: new Histogram({
      name: "tp_engine_apply_seconds",
      help: "Time to apply one command to the matching core, seconds",
      buckets: [...MICROSECOND_BUCKETS_S],
      registers,
    }),
    publishBacklog: new Gauge({
      name: "tp_engine_publish_backlog",
      help: "Events awaiting acknowledgement (primary) or retained (standby)",
      registers,
    }),
    commandLag: new Gauge({
      name: "tp_engine_command_lag",
      help: "Command-log entries of this partition not yet applied (each holds 1 to 1,000 commands)",
      registers,
    }),
    lastCommandSeq: new Gauge({
      name: "tp_engine_last_command_seq",
      help: "Sequence of the last applied command",
      registers,
    }),
    role: new Gauge({ name: "tp_engine_role", help: "1 when primary, 0 when standby", registers }),
    snapshotSeconds: new Histogram({
      name: "tp_engine_snapshot_seconds",
      help: "Time to serialise and store a snapshot, seconds",
      buckets: [...MILLISECOND_BUCKETS_S],
      registers,
    }),
    snapshotBytes: new Gauge({ name: "tp_engine_snapshot_bytes", help: "Size of the last snapshot", registers }),
    lastSnapshotTime: new Gauge({
      name: "tp_engine_last_snapshot_timestamp_seconds",
      help: "Unix time the last snapshot was stored or loaded (a stale-snapshot alert compares it with time())",
      registers,
    }),
    lastSnapshotSeq: new Gauge({
      name: "tp_engine_last_snapshot_seq",
      help: "Command sequence the last snapshot stored or loaded holds",
      registers,
    }),
    snapshotLoadFailures: new Counter({
      name: "tp_engine_snapshot_load_failures_total",
      help: "Snapshots found unusable at start-up and skipped",
      registers,
    }),
    replayRate: new Gauge({
      name: "tp_engine_replay_commands_per_second",
      help: "Commands per second applied during the last catch-up",
      registers,
    }),
    cpusAllowed: new Gauge({
      name: "tp_engine_cpus_allowed",
      help: "CPUs the engine process may run on (Cpus_allowed_list); equals the requested whole CPUs when pinned",
      registers,
      collect() {
        const cpus = allowedCpus();
        if (cpus !== undefined) this.set(cpus.length);
      },
    }),
    malformedCommands: new Counter({
      name: "tp_engine_malformed_commands_total",
      help: "Log entries that did not decode as a Command (recorded as rejects and skipped)",
      registers,
    }),
  };
}

/**
 * The partition's published mark as gauges read at scrape time: the mark moves with JetStream's
 * acknowledgements, after the last command is applied, so it is not set from the loop.
 */
export function registerPublishedMark(
  registry: Registry,
  published: () => { readonly cmdSeq: number; readonly index: number },
): void {
  new Gauge({
    name: "tp_engine_published_command_seq",
    help: "Command sequence of the last event the event stream holds with every event before it (this partition)",
    registers: [registry],
    collect() {
      this.set(published().cmdSeq);
    },
  });
  new Gauge({
    name: "tp_engine_published_event_index",
    help: "Index within its command of the last event the event stream holds with every event before it",
    registers: [registry],
    collect() {
      this.set(published().index);
    },
  });
}
