import { randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import {
  accountsBucket,
  eventStreamName,
  GatewayPeerService,
  OrderEntryService,
  ownersBucket,
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
  DEFAULT_OWNER_LEASE_TTL_MS,
  DEFAULT_PEER_HOST,
  DEFAULT_PEER_PORT,
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
import { AccountOwners } from "./adapters/account-owners.ts";
import { gatewayPeerService, PeerClients, PeerTokens, type ForwardHandler } from "./adapters/gateway-peer.ts";
import { fenceWriter, OwnerRouting } from "./adapters/owner-routing.ts";
import { OwnerMetrics } from "./adapters/owner-metrics.ts";
import { loadPeerTls, type PeerTls } from "./adapters/peer-tls.ts";
import { recentOrderAges } from "./adapters/takeover-rate-window.ts";
import { KillSwitchConvergence } from "./adapters/kill-switch-convergence.ts";
import { killSwitchEverywhere } from "./adapters/cancel-all.ts";
import { orderRateWindowOf, type OrderRateWindow } from "@tradeplane/risk-checks/order-rate-window";

const NS_PER_MS = 1_000_000;

/**
 * The risk gateway process. Stages:
 *  1. config      TP_CONFIG_FILE + TP_* variables, validated once
 *  2. telemetry   logger, metrics, tracer, health
 *  3. NATS        connection, accounts KV (watched live)
 *  4. read side   load the newest projection snapshot, follow the event stream from the
 *                 event after it, up to the stream's end before serving anything (no
 *                 answer from a stale projection); snapshot periodically and at shutdown
 *  5. ownership   with ownership "lease" (several replicas, ADR 0003): the owners bucket,
 *                 this replica's account leases and its clients of the other replicas
 *  6. endpoints   OrderEntry and RiskAdmin gRPC (+ health), GatewayPeer on the peer port
 *                 (lease only), /metrics /healthz /readyz
 *  7. shutdown    reverse order on SIGTERM/SIGINT (account leases are released)
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

  const jsm = await js.jetstreamManager();
  const log = commandLogWriter(nc, config.venue);
  shutdown.add("command-log", () => log.close());

  // 5. ownership
  let routing: OwnerRouting | undefined;
  // The accounts' order-rate windows: the intake's, which a takeover fills from the log.
  const throttles = new Map<string, OrderRateWindow>();
  let peerTls: PeerTls | undefined;
  if (config.ownership === "lease") {
    // A per-process nonce: a restarted replica never adopts its predecessor's leases as its own.
    const holder = `${config.instanceId}-${randomUUID().slice(0, 8)}`;
    const partitions = [...new Set(config.instruments.map((i) => i.partition))].sort((a, b) => a - b);
    let owners: AccountOwners | undefined = undefined;
    const metrics = new OwnerMetrics(registry, () => owners?.phases() ?? []);
    owners = new AccountOwners({
      kv: await new Kvm(nc).open(ownersBucket(config.venue)),
      holder,
      address: config.peerAddress!,
      ttlMs: config.ownerLeaseTtlMs ?? DEFAULT_OWNER_LEASE_TTL_MS,
      partitions,
      fence: fenceWriter(log, partitions, config.instanceId),
      // A new owner starts its order-rate window from the account's orders of the last
      // second in the log, instead of waiting a second for them to leave it.
      countWindow: async (account, epoch, fenceEntries) => {
        const ages = await recentOrderAges({
          js,
          jsm,
          venue: config.venue,
          account,
          epoch,
          fenceEntries,
          timeoutMs: config.commandTimeoutMs,
        });
        if (ages === undefined) return false;
        const nowNs = performance.now() * NS_PER_MS;
        throttles.set(account, orderRateWindowOf(ages.map((age) => nowNs - age)));
        return true;
      },
      logger,
      metrics,
    });
    follower.onAccountFenced = (account, partition, epoch) => owners.partitionFenced(account, partition, epoch);
    await owners.start();
    shutdown.add("owners", () => owners.stop());
    // Read once for both ends: the files are checked before anything serves.
    peerTls = config.peerTls === undefined ? undefined : await loadPeerTls(config.peerTls);
    const peers = new PeerClients(new PeerTokens(config.peerTokens!), config.commandTimeoutMs, peerTls);
    shutdown.add("peer-clients", () => peers.close());
    routing = new OwnerRouting({ owners, peers, holder, timeoutMs: config.commandTimeoutMs, logger, metrics });
    logger.info({ holder, peerAddress: config.peerAddress }, "accounts owned by lease");
  }

  // Kill switches: the engine's blocks follow the accounts bucket, also after a gateway died
  // between the record and the block (ADR 0003). After the projection caught up, so the
  // blocks it shows are the engine's.
  const partitionsOfVenue = [...new Set(config.instruments.map((i) => i.partition))].sort((a, b) => a - b);
  const convergence = new KillSwitchConvergence({
    switches: () =>
      accounts.engagedKillSwitches().flatMap(([key, record]) =>
        key === "venue" || key.startsWith("account.")
          ? [
              {
                account: key === "venue" ? "" : key.slice("account.".length),
                reason: record.reason,
                keepOpenOrders: record.keepOpenOrders === true,
              },
            ]
          : [],
      ),
    blocks: () => projection.controls.entries().blocks,
    partitions: partitionsOfVenue,
    write: async (repair) => {
      await killSwitchEverywhere(log, repair.partitions, {
        // The venue's block names no account; the command still carries a writer.
        account: repair.account === "" ? config.instanceId : repair.account,
        allAccounts: repair.account === "",
        engaged: repair.engaged,
        cancel: repair.cancel,
        reason: repair.reason,
        source: config.instanceId,
      });
    },
    graceMs: config.commandTimeoutMs,
    logger,
    registry,
  });
  accounts.onKillSwitchChange = () => convergence.changed();
  shutdown.add("kill-switch-convergence", () => convergence.stop());
  convergence.changed();

  // 6. endpoints
  let forwardHandler: ForwardHandler | undefined;
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
        implementation: orderEntryService(
          {
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
            throttles,
            ...(routing === undefined ? {} : { routing }),
          },
          (handler) => (forwardHandler = handler),
        ),
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
  let peerPort: number | undefined;
  if (routing !== undefined) {
    // Its own port, so that a NetworkPolicy can open it to the venue's risk pods only.
    const peer = await startGrpcServer({
      host: config.peerHost ?? DEFAULT_PEER_HOST,
      port: config.peerPort ?? DEFAULT_PEER_PORT,
      // Mutual TLS with peerTls (its own certificate and CA, not grpcTls: the peers are not
      // the venue's clients); plaintext without. Either way the peer token authenticates and
      // the NetworkPolicy confines the port to the venue's risk pods.
      ...(peerTls === undefined ? {} : { credentials: peerTls.server }),
      reflection: false,
      health,
      logger,
      services: [
        {
          name: "tradeplane.v1.GatewayPeer",
          definition: GatewayPeerService,
          implementation: gatewayPeerService({
            tokens: new PeerTokens(config.peerTokens!),
            handle: forwardHandler!,
            logger,
          }),
        },
      ],
    });
    shutdown.add("peer-grpc", () => peer.close());
    peerPort = peer.port;
  }
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, health, logger });
  shutdown.add("ops", () => ops.close());
  logger.info({ grpcPort: grpc.port, opsPort: ops.port, peerPort }, "risk gateway started");
  return { shutdown, grpcPort: grpc.port, opsPort: ops.port };
}

// 1. config, then run, when started as a program.
if (import.meta.main) runService("risk", loadRiskGatewayConfig, main);
