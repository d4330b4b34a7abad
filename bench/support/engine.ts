import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { trace } from "@opentelemetry/api";
import { leasesBucket, snapshotsBucket } from "@tradeplane/contracts";
import { createMetricsRegistry, Health } from "@tradeplane/platform";
import { testInstrumentSettings } from "@tradeplane/testkit";
import { EngineRunner } from "@tradeplane/matching/adapters/engine-runner";
import { createEngineMetrics } from "@tradeplane/matching/adapters/engine-metrics";
import { SnapshotStore } from "@tradeplane/matching/adapters/snapshot-store";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { quietLogger, type BenchVenue } from "./venue.ts";

/** The real engine runner of partition 0, in process, with the service's default settings. */
export async function benchRunner(
  v: BenchVenue,
  overrides: { snapshotEveryCommands?: number; ignoreSnapshots?: boolean } = {},
) {
  const jsm = await jetstreamManager(v.nc);
  const leases = await new Kvm(v.nc).open(leasesBucket(v.venue));
  // Snapshots are kept per partition; looking under an unused partition number finds none.
  const snapshotPartition = overrides.ignoreSnapshots === true ? 1023 : 0;
  const snapshots = new SnapshotStore(await new Objm(v.nc).open(snapshotsBucket(v.venue)), snapshotPartition, 3);
  const health = new Health();
  const runner = new EngineRunner({
    nc: v.nc,
    js: v.js,
    jsm,
    leases,
    snapshots,
    engine: engineConfigOf({ instruments: testInstrumentSettings, maxOrders: 1 << 22 }),
    settings: {
      venue: v.venue,
      partition: 0,
      instanceId: "bench",
      snapshotEveryCommands: overrides.snapshotEveryCommands ?? 0,
      snapshotEverySeconds: 0,
      leaseTtlMs: 1_500,
      publishWindow: 4_096,
      publishTimeoutMs: 10_000,
      maxRetainedEvents: 1 << 24,
    },
    logger: quietLogger,
    metrics: createEngineMetrics(createMetricsRegistry("bench")),
    tracer: trace.getTracer("bench"),
    health,
    onFatal: (reason) => {
      throw new Error(reason);
    },
  });
  return { runner, snapshots, health };
}

/** Resolves when the runner reports it has caught up with the log. */
export async function caughtUp(runner: EngineRunner): Promise<void> {
  while (!runner.status.caughtUp) await new Promise((r) => setTimeout(r, 2));
}
