import { readFileSync } from "node:fs";
import { credentials, Metadata } from "@grpc/grpc-js";
import { Kvm } from "@nats-io/kv";
import {
  fixSessionsBucket,
  MarketDataClient,
  OrderEntryClient,
  type ListInstrumentsResponse,
  RECONNECT_CHANNEL_OPTIONS,
} from "@tradeplane/contracts";
import {
  connectNats,
  createLogger,
  createMetricsRegistry,
  Health,
  initTelemetry,
  JetStreamAsyncPublisher,
  tracingSettingsOf,
  runService,
  Shutdown,
  startOpsServer,
  type StartedService,
  type Telemetry,
} from "@tradeplane/platform";
import { loadFixGatewayConfig, readSessionSecrets, type FixGatewayConfig } from "./config.ts";
import { DEFAULT_SESSION_SETTINGS } from "./domain/session.ts";
import { InstrumentTable } from "./domain/instruments.ts";
import { FixAcceptor, type AcceptorSession } from "./adapters/fix-acceptor.ts";
import { FixMetrics } from "./adapters/fix-metrics.ts";
import { OrderRouter, type RoutedSession } from "./adapters/order-router.ts";
import { FlowControl } from "./domain/flow-control.ts";
import { SessionStore } from "./adapters/session-store.ts";

/** How long to wait at start for market data to answer ListInstruments. */
const INSTRUMENTS_WAIT_MS = 60_000;
/** A session store write not acknowledged by then fails its turn (nats.js's own default for a JetStream publish). */
const STORE_ACK_TIMEOUT_MS = 5_000;

/** A started FIX gateway; `grpcPort` is 0 (it serves FIX, not gRPC). */
export interface StartedFixGateway extends StartedService {
  readonly fixPort: number;
  readonly acceptor: FixAcceptor;
  readonly metrics: FixMetrics;
  /** OrderEntry requests in flight and paused sessions. */
  readonly flow: FlowControl;
  readonly telemetry: Telemetry;
}

/**
 * The FIX gateway process. Stages:
 *  1. config      TP_CONFIG_FILE + TP_* variables, validated once; session secrets from files or env
 *  2. telemetry   logger, metrics, tracer, health
 *  3. NATS        connection and the venue's FIX sessions bucket (sequence numbers, sent messages)
 *  4. upstream    OrderEntry and MarketData clients; the instruments' tick and lot sizes
 *  5. endpoints   the FIX acceptor (TCP or TLS), /metrics /healthz /readyz
 *  6. shutdown    Logout every session, then the rest in reverse order on SIGTERM/SIGINT
 */
export async function main(config: Readonly<FixGatewayConfig>): Promise<StartedFixGateway> {
  const secrets = new Map(config.sessions.map((s) => [s.id, readSessionSecrets(s)]));

  // 2. telemetry
  const logger = createLogger({
    service: "fix-gateway",
    level: config.logLevel,
    base: { venue: config.venue, instance: config.instanceId },
  });
  const registry = createMetricsRegistry("fix-gateway", { venue: config.venue });
  const telemetry = initTelemetry("tradeplane-fix-gateway", tracingSettingsOf(config));
  const health = new Health();
  health.register("nats");
  health.register("instruments");
  const shutdown = new Shutdown(logger);
  shutdown.add("telemetry", () => telemetry.shutdown());
  const metrics = new FixMetrics(registry);

  // 3. NATS
  const nc = await connectNats(config, `fix-gateway-${config.venue}-${config.instanceId}`, logger);
  shutdown.add("nats", () => nc.drain());
  health.set("nats", "ok");
  const kv = await new Kvm(nc).open(fixSessionsBucket(config.venue));

  // 4. upstream
  const orderEntry = new OrderEntryClient(
    config.orderEntryAddress,
    credentials.createInsecure(),
    RECONNECT_CHANNEL_OPTIONS,
  );
  const marketData = new MarketDataClient(
    config.marketDataAddress,
    credentials.createInsecure(),
    RECONNECT_CHANNEL_OPTIONS,
  );
  shutdown.add("grpc clients", () => {
    orderEntry.close();
    marketData.close();
  });
  // Market data may still be starting (local mode starts every service at once): wait for it.
  await new Promise<void>((resolve, reject) =>
    marketData.waitForReady(Date.now() + INSTRUMENTS_WAIT_MS, (err) => (err ? reject(err) : resolve())),
  );
  const listed = await new Promise<ListInstrumentsResponse>((resolve, reject) =>
    marketData.listInstruments(
      {},
      new Metadata(),
      { deadline: new Date(Date.now() + config.orderEntryDeadlineMs) },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
  const instruments = new InstrumentTable(listed.instruments);
  health.set("instruments", "ok");

  // 5. endpoints
  const routed: RoutedSession[] = config.sessions.map((s) => ({
    id: s.id,
    account: s.account,
    token: secrets.get(s.id)!.token,
    cancelOnDisconnect: s.cancelOnDisconnect,
  }));
  const flow = new FlowControl({
    sessionMaxInFlight: config.sessionMaxInFlight,
    sessionResumeInFlight: config.sessionResumeInFlight,
    gatewayMaxInFlight: config.gatewayMaxInFlight,
    gatewayResumeInFlight: config.gatewayResumeInFlight,
  });
  const router = new OrderRouter({
    sessions: routed,
    orderEntry,
    instruments,
    logger,
    tracer: telemetry.tracer,
    deadlineMs: config.orderEntryDeadlineMs,
    onAcknowledged: (session, ms) => metrics.acknowledged(session, ms),
    onBusinessReject: (session, reason) => metrics.businessRejected(session, reason),
    flow,
  });
  metrics.watchFlow(flow);
  const sessions: AcceptorSession[] = config.sessions.map((s) => {
    const password = secrets.get(s.id)!.password;
    return {
      id: s.id,
      ...(s.clientCertSubject === undefined ? {} : { clientCertSubject: s.clientCertSubject }),
      settings: {
        ...DEFAULT_SESSION_SETTINGS,
        senderCompId: config.senderCompId,
        targetCompId: s.targetCompId,
        maxSendingTimeSkewMs: config.maxSendingTimeSkewMs,
        maxMessagesPerSecond: s.maxMessagesPerSecond,
        ...(password === undefined ? {} : { password }),
      },
    };
  });
  // One acknowledged publisher for every session's state puts (one reply subscription).
  const storeAcks = new JetStreamAsyncPublisher(nc, STORE_ACK_TIMEOUT_MS);
  const storePublisher = { nc, bucket: fixSessionsBucket(config.venue), acks: storeAcks };
  const acceptor = new FixAcceptor({
    sessions,
    openStore: (id) => new SessionStore(kv, id, storePublisher),
    application: router,
    logger,
    metrics,
    ...(config.fixTls === undefined
      ? {}
      : {
          tls: {
            cert: readFileSync(config.fixTls.certFile),
            key: readFileSync(config.fixTls.keyFile),
            ...(config.fixTls.caFile === undefined ? {} : { ca: readFileSync(config.fixTls.caFile) }),
          },
        }),
  });
  const fixPort = await acceptor.listen(config.fixHost, config.fixPort);
  // Registered last, so it runs first: sessions log out while NATS and OrderEntry are still there.
  shutdown.add("fix", async () => {
    await acceptor.close();
    router.close();
    storeAcks.close();
  });
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, health, logger });
  shutdown.add("ops", () => ops.close());
  logger.info({ fixPort, opsPort: ops.port, sessions: config.sessions.length }, "FIX gateway started");
  return { shutdown, grpcPort: 0, opsPort: ops.port, fixPort, acceptor, metrics, flow, telemetry };
}

// 1. config, then run, when started as a program.
if (import.meta.main) runService("fix-gateway", loadFixGatewayConfig, main);
