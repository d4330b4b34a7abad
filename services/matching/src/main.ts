import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { leasesBucket, snapshotsBucket, VenueAdminService } from "@tradeplane/contracts";
import {
  AdminAuthority,
  commandLogWriter,
  connectNats,
  createLogger,
  ensureLogFormat,
  createMetricsRegistry,
  Health,
  runService,
  initTelemetry,
  tracingSettingsOf,
  Shutdown,
  grpcServerSettings,
  startGrpcServer,
  startOpsServer,
  watchNatsHealth,
  type ServiceContext,
  type StartedService,
} from "@tradeplane/platform";
import { loadEngineServiceConfig, type EngineServiceConfig } from "./config.ts";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { createEngineMetrics, registerPublishedMark } from "./adapters/engine-metrics.ts";
import { EngineRunner } from "./adapters/engine-runner.ts";
import { SnapshotStore } from "./adapters/snapshot-store.ts";
import { venueAdminService } from "./adapters/venue-admin-grpc.ts";

/**
 * The matching engine process of one partition. Stages:
 *  1. config      TP_CONFIG_FILE + TP_* variables, validated once
 *  2. telemetry   logger, metrics registry, tracer, health
 *  3. NATS        connection, JetStream, lease KV, snapshot object store
 *  4. engine      restore from snapshot, replay, follow the log, contend for the lease
 *  5. endpoints   VenueAdmin gRPC (+ health), /metrics /healthz /readyz
 *  6. shutdown    reverse order on SIGTERM/SIGINT
 */
export async function main(config: Readonly<EngineServiceConfig>, context?: ServiceContext): Promise<StartedService> {
  // 2. telemetry
  const base = { venue: config.venue, partition: config.partition, instance: config.instanceId };
  const logger = createLogger({ service: "matching", level: config.logLevel, base });
  const registry = createMetricsRegistry("matching", { venue: config.venue, partition: String(config.partition) });
  const telemetry = initTelemetry("tradeplane-matching", tracingSettingsOf(config));
  const health = new Health();
  health.register("nats");
  health.register("engine");
  const shutdown = new Shutdown(logger);
  context?.attach(shutdown); // a signal from here on stops what has started
  shutdown.add("telemetry", () => telemetry.shutdown());

  // 3. NATS
  const nc = await connectNats(config, `matching-${config.venue}-${config.partition}-${config.instanceId}`, logger);
  shutdown.add("nats", () => nc.drain());
  watchNatsHealth({ nc, health, logger });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const leases = await new Kvm(nc).open(leasesBucket(config.venue));
  const objects = await new Objm(nc).open(snapshotsBucket(config.venue));
  const snapshots = new SnapshotStore(objects, config.partition, config.snapshotsKept);

  // 4. engine, on a log of the format this build reads
  await ensureLogFormat(nc, config.venue);
  const runner = new EngineRunner({
    nc,
    js,
    jsm,
    leases,
    snapshots,
    engine: engineConfigOf(config),
    settings: config,
    logger,
    metrics: createEngineMetrics(registry),
    tracer: telemetry.tracer,
    health,
    onFatal: (reason) => {
      logger.fatal({ reason }, "engine must restart");
      void shutdown.run().then(() => process.exit(75));
    },
  });
  await runner.start();
  shutdown.add("engine", () => runner.stop());
  registerPublishedMark(registry, () => runner.status.published);

  // 5. endpoints (VenueAdmin writes halts and session changes into the log, so they replay)
  const adminLog = commandLogWriter(nc, config.venue);
  shutdown.add("command-log", () => adminLog.close());
  const grpc = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    ...grpcServerSettings(config),
    health,
    logger,
    services: [
      {
        name: "tradeplane.v1.VenueAdmin",
        definition: VenueAdminService,
        implementation: venueAdminService({
          venue: config.venue,
          partition: config.partition,
          instanceId: config.instanceId,
          runner,
          log: adminLog,
          logger,
          admin: new AdminAuthority(config.adminTokens, logger),
          lastSnapshotSeq: () => runner.lastSnapshotSeq,
        }),
      },
    ],
  });
  shutdown.add("grpc", () => grpc.close());
  const ops = await startOpsServer({
    host: config.opsHost,
    port: config.opsPort,
    registry,
    health,
    logger,
    extra: {
      "/status": () => runner.status,
      "/digest": () => ({ lastSeq: runner.partition.lastSeq, digest: runner.partition.digest() }),
    },
  });
  shutdown.add("ops", () => ops.close());
  logger.info({ grpcPort: grpc.port, opsPort: ops.port }, "matching engine started");
  return { shutdown, grpcPort: grpc.port, opsPort: ops.port };
}

// 1. config, then run, when started as a program.
if (import.meta.main) runService("matching", loadEngineServiceConfig, main);
