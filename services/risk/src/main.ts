import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { accountsBucket, OrderEntryService, RiskAdminService } from "@tradeplane/contracts";
import {
  commandLogWriter,
  connectNats,
  createLogger,
  createMetricsRegistry,
  Health,
  runService,
  initTelemetry,
  Shutdown,
  startGrpcServer,
  startOpsServer,
  type StartedService,
} from "@tradeplane/platform";
import { loadRiskGatewayConfig, type RiskGatewayConfig } from "./config.ts";
import { OrderProjection } from "./domain/order-projection.ts";
import { AccountRegistry } from "./adapters/accounts.ts";
import { EventFollower } from "./adapters/event-follower.ts";
import { orderEntryService, type InstrumentInfo } from "./adapters/order-entry-grpc.ts";
import { riskAdminService } from "./adapters/risk-admin-grpc.ts";
import { registerRiskGauges } from "./adapters/risk-metrics.ts";

/**
 * The risk gateway process. Stages:
 *  1. config      TP_CONFIG_FILE + TP_* variables, validated once
 *  2. telemetry   logger, metrics, tracer, health
 *  3. NATS        connection, accounts KV (watched live)
 *  4. read side   follow the event stream into the order projection
 *  5. endpoints   OrderEntry and RiskAdmin gRPC (+ health), /metrics /healthz /readyz
 *  6. shutdown    reverse order on SIGTERM/SIGINT
 */
export async function main(config: Readonly<RiskGatewayConfig>): Promise<StartedService> {
  // 2. telemetry
  const logger = createLogger({
    service: "risk",
    level: config.logLevel,
    base: { venue: config.venue, instance: config.instanceId },
  });
  const registry = createMetricsRegistry("risk", { venue: config.venue });
  const telemetry = initTelemetry("tradeplane-risk", config.tracing);
  const health = new Health();
  health.register("nats");
  health.register("accounts");
  const shutdown = new Shutdown(logger);
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
  const projection = new OrderProjection((symbol) => instruments.get(symbol));
  const follower = new EventFollower(js, config.venue, projection, logger);
  follower.start();
  shutdown.add("events", () => follower.stop());
  registerRiskGauges({ registry, accounts, projection, listedInstruments: instruments.size });

  // 5. endpoints
  const log = commandLogWriter(js, config.venue);
  const grpc = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
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
          adminToken: config.adminToken,
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
