import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import {
  accountsBucket,
  eventStreamName,
  OrderEntryService,
  RiskAdminService,
  snapshotsBucket,
} from "@tradeplane/contracts";
import {
  AdminAuthority,
  commandLogWriter,
  connectNats,
  createLogger,
  createMetricsRegistry,
  Health,
  openBlobStore,
  runService,
  initTelemetry,
  tracingSettingsOf,
  watchNatsHealth,
  Shutdown,
  grpcServerSettings,
  startGrpcServer,
  startOpsServer,
  type ServiceContext,
  type StartedService,
  lastStoredSeq,
} from "@tradeplane/platform";
import {
  DEFAULT_SNAPSHOT_INTERVAL_MS,
  DEFAULT_SNAPSHOT_REPORTS_KEPT,
  DEFAULT_SNAPSHOTS_KEPT,
  loadRiskGatewayConfig,
  type RiskGatewayConfig,
} from "./config.ts";
import { OrderProjection } from "@tradeplane/positions/order-projection";
import { AccountRegistry } from "./adapters/accounts.ts";
import { EventFollower } from "./adapters/event-follower.ts";
import { ProjectionSnapshots } from "./adapters/projection-snapshots.ts";
import { orderEntryService, type InstrumentInfo } from "./adapters/order-entry-grpc.ts";
import { riskAdminService } from "./adapters/risk-admin-grpc.ts";
import { registerRiskGauges } from "./adapters/risk-metrics.ts";

/**
 * The risk gateway process. Stages:
 *  1. config      TP_CONFIG_FILE + TP_* variables, validated once
 *  2. telemetry   logger, metrics, tracer, health
 *  3. NATS        connection, accounts KV (watched live)
 *  4. read side   load the newest projection snapshot, follow the event stream from the
 *                 event after it, up to the stream's end before serving anything (no
 *                 answer from a stale projection); snapshot periodically and at shutdown
 *  5. endpoints   OrderEntry and RiskAdmin gRPC (+ health), /metrics /healthz /readyz
 *  6. shutdown    reverse order on SIGTERM/SIGINT
 */
export async function main(config: Readonly<RiskGatewayConfig>, context?: ServiceContext): Promise<StartedService> {
  // 2. telemetry
  const logger = createLogger({
    service: "risk",
    level: config.logLevel,
    base: { venue: config.venue, instance: config.instanceId },
  });
  const registry = createMetricsRegistry("risk", { venue: config.venue });
  const telemetry = initTelemetry("tradeplane-risk", tracingSettingsOf(config));
  const health = new Health();
  health.register("nats");
  health.register("accounts");
  health.register("events");
  const shutdown = new Shutdown(logger);
  context?.attach(shutdown); // a signal from here on stops what has started
  shutdown.add("telemetry", () => telemetry.shutdown());

  // 3. NATS
  const nc = await connectNats(config, `risk-${config.venue}-${config.instanceId}`, logger);
  shutdown.add("nats", () => nc.drain());
  health.set("nats", "ok");
  const js = jetstream(nc);
  const accountsKv = await new Kvm(nc).open(accountsBucket(config.venue));
  const accounts = new AccountRegistry(accountsKv, logger);
  await accounts.start();
  shutdown.add("accounts", () => accounts.stop());
  health.set("accounts", "ok");

  // 4. read side
  const instruments = new Map<string, InstrumentInfo>(config.instruments.map((i) => [i.symbol, i]));
  const terms = (symbol: string) => instruments.get(symbol);
  const eventStream = await (await js.jetstreamManager()).streams.info(eventStreamName(config.venue));
  const snapshots = new ProjectionSnapshots({
    store: await openBlobStore(nc, snapshotsBucket(config.venue)),
    keep: config.snapshotsKept ?? DEFAULT_SNAPSHOTS_KEPT,
    reportsKept: config.snapshotReportsKept ?? DEFAULT_SNAPSHOT_REPORTS_KEPT,
    logger,
  });
  const loaded = await snapshots.load(terms, {
    created: eventStream.created,
    lastSeq: eventStream.state.last_seq,
  });
  const projection = loaded?.projection ?? new OrderProjection(terms);
  if (loaded !== undefined) {
    logger.info({ snapshot: loaded.name, streamSeq: loaded.streamSeq }, "projection loaded from snapshot");
    if (eventStream.state.first_seq > loaded.streamSeq + 1)
      logger.warn(
        { streamSeq: loaded.streamSeq, firstSeq: eventStream.state.first_seq },
        "events after the snapshot are no longer in the stream: the projection misses them",
      );
  }
  const follower = new EventFollower(js, config.venue, projection, logger, telemetry.tracer);
  // From here an outage makes the gateway NOT_SERVING until NATS and the projection are back.
  watchNatsHealth({ nc, health, logger, followers: [{ check: "events", reachedEnd: () => follower.reachedEnd() }] });
  let saving: Promise<unknown> | undefined;
  const saveSnapshot = (): Promise<unknown> =>
    (saving ??= snapshots
      .save(projection, follower.streamSeq, eventStream.created)
      .catch((err: unknown) => logger.error({ err }, "projection snapshot failed"))
      .finally(() => (saving = undefined)));
  // Registered before the follower's stop, so it runs after it: the last snapshot holds every event applied.
  shutdown.add("snapshot", async () => {
    await saving; // one in flight may hold an earlier sequence
    await saveSnapshot();
  });
  follower.start(loaded?.streamSeq ?? 0, eventStream.state.first_seq);
  shutdown.add("events", () => follower.stop());
  const snapshotIntervalMs = config.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;
  if (snapshotIntervalMs > 0) {
    const timer = setInterval(() => void saveSnapshot(), snapshotIntervalMs);
    shutdown.add("snapshot-timer", () => clearInterval(timer));
  }
  registerRiskGauges({ registry, accounts, projection, follower, listedInstruments: instruments.size });
  const lastStored = await lastStoredSeq(await js.jetstreamManager(), eventStreamName(config.venue));
  if (lastStored > follower.streamSeq)
    logger.info({ from: follower.streamSeq, to: lastStored }, "catching up with the event stream");
  await follower.reached(lastStored);
  health.set("events", "ok");

  // 5. endpoints
  const log = commandLogWriter(nc, config.venue);
  shutdown.add("command-log", () => log.close());
  const grpc = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    ...grpcServerSettings(config),
    health,
    logger,
    services: [
      {
        name: "tradeplane.v1.OrderEntry",
        definition: OrderEntryService,
        implementation: orderEntryService({
          instanceId: config.instanceId,
          instruments,
          defaultLimits: config.defaultLimits,
          accounts,
          projection,
          follower,
          log,
          commandTimeoutMs: config.commandTimeoutMs,
          logger,
          registry,
          tracer: telemetry.tracer,
          startsTraces: telemetry.startsTraces,
        }),
      },
      {
        name: "tradeplane.v1.RiskAdmin",
        definition: RiskAdminService,
        implementation: riskAdminService({
          instanceId: config.instanceId,
          kv: accountsKv,
          accounts,
          projection,
          instruments,
          log,
          eventStreamSeq: () => follower.streamSeq,
          admin: new AdminAuthority(config.adminTokens, logger),
          defaultLimits: config.defaultLimits,
          watchTimeoutMs: config.commandTimeoutMs,
          logger,
        }),
      },
    ],
  });
  shutdown.add("grpc", () => grpc.close());
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, health, logger });
  shutdown.add("ops", () => ops.close());
  logger.info({ grpcPort: grpc.port, opsPort: ops.port }, "risk gateway started");
  return { shutdown, grpcPort: grpc.port, opsPort: ops.port };
}

// 1. config, then run, when started as a program.
if (import.meta.main) runService("risk", loadRiskGatewayConfig, main);
