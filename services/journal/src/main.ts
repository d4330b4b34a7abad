import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import {
  AdminAuthority,
  connectNats,
  createLogger,
  createMetricsRegistry,
  Health,
  runService,
  Shutdown,
  grpcServerSettings,
  startGrpcServer,
  startOpsServer,
  type StartedService,
} from "@tradeplane/platform";
import { accountsBucket, JournalQueryService } from "@tradeplane/contracts";
import { loadJournalConfig, type JournalConfig } from "./config.ts";
import { EventProjector } from "./adapters/event-projector.ts";
import { recordInstrumentTerms } from "./adapters/instrument-terms-store.ts";
import { migrate, readMigrations } from "./adapters/migrations.ts";
import { openPgStore } from "./adapters/pg-store.ts";
import { openPgliteStore } from "./adapters/pglite-store.ts";
import { projectorMetrics } from "./adapters/projector-metrics.ts";
import { lagSecondsGauge, queryMetrics } from "./adapters/query-metrics.ts";
import { journalQueryService } from "./adapters/journal-query-grpc.ts";
import { tradingTokenAccounts } from "./adapters/trading-tokens.ts";
import type { SqlStore } from "./adapters/sql-store.ts";

export interface StartedJournal extends StartedService {
  readonly store: SqlStore;
  readonly projector: EventProjector;
}

/**
 * The journal process. Stages:
 *  1. config      TP_CONFIG_FILE + TP_* variables (TP_DATABASE_URL[_FILE] a secret), validated once
 *  2. telemetry   logger, metrics, health
 *  3. store       PostgreSQL (databaseUrl) or embedded PGlite (pgliteDir); migrations applied
 *  4. NATS        connection
 *  5. projector   event stream -> tables, from the position stored with the rows
 *  6. endpoints   JournalQuery gRPC (admin tokens read every account, trading tokens their own,
 *                 from the accounts bucket); /metrics /healthz /readyz
 *  7. shutdown    reverse order on SIGTERM/SIGINT: the projector stops between batches
 */
export async function main(config: Readonly<JournalConfig>): Promise<StartedJournal> {
  // 2. telemetry
  const logger = createLogger({
    service: "journal",
    level: config.logLevel,
    base: { venue: config.venue, instance: config.instanceId },
  });
  const registry = createMetricsRegistry("journal", { venue: config.venue });
  const health = new Health();
  for (const part of ["store", "nats", "events"]) health.register(part);
  const shutdown = new Shutdown(logger);

  // 3. store
  const store =
    config.databaseUrl !== undefined
      ? openPgStore(config.databaseUrl, { maxConnections: config.poolSize })
      : await openPgliteStore(config.pgliteDir === "" ? undefined : config.pgliteDir);
  shutdown.add("store", () => store.close());
  const applied = await migrate(store, await readMigrations());
  logger.info({ store: store.kind, applied }, "journal schema migrated");
  // The terms trades are valued with, kept with their validity: a removed or changed instrument
  // still values its past trades as they were.
  const terms = await recordInstrumentTerms(
    store,
    config.instruments.map((i) => ({
      instrument: i.symbol,
      notionalPerTickLot: i.notionalPerTickLot,
      priceUnit: i.priceUnit,
      lotSize: i.lotSize,
    })),
    Date.now() * 1000,
  );
  if (terms.length > 0) logger.info({ terms }, "instrument terms recorded");
  health.set("store", "ok");

  // 4. NATS
  const nc = await connectNats(config, `journal-${config.venue}-${config.instanceId}`, logger);
  shutdown.add("nats", () => nc.drain());
  health.set("nats", "ok");
  const js = jetstream(nc);

  // 5. projector
  const metrics = projectorMetrics(registry);
  const projector = new EventProjector({
    js,
    venue: config.venue,
    store,
    logger,
    name: config.projectorName,
    batchMessages: config.batchMessages,
    onCommit: (writes, count) => metrics.committed(writes, count),
  });
  const jsm = await js.jetstreamManager();
  metrics.follow(projector, jsm, config.venue);
  lagSecondsGauge(registry, () => projector.position, jsm, config.venue);
  await projector.start();
  shutdown.add("projector", () => projector.stop());
  health.set("events", "ok");

  // 6. endpoints
  const queries = queryMetrics(registry);
  // Trading tokens are checked against the venue's accounts bucket; without one, only admin tokens work.
  const accountsKv: KV | undefined = await new Kvm(nc).open(accountsBucket(config.venue)).catch((err: unknown) => {
    logger.warn({ err: (err as Error).message }, "no accounts bucket: JournalQuery takes admin tokens only");
    return undefined;
  });
  const grpc = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    ...grpcServerSettings(config),
    health,
    logger,
    services: [
      {
        name: "tradeplane.v1.JournalQuery",
        definition: JournalQueryService,
        implementation: journalQueryService({
          db: store,
          admin: new AdminAuthority(config.adminTokens),
          ...(accountsKv !== undefined ? { tradingAccounts: tradingTokenAccounts(accountsKv) } : {}),
          calendar: config.calendar,
          currency: config.currency,
          notionalExponent: config.notionalExponent,
          logger,
          onCall: (call) => queries.called(call),
        }),
      },
    ],
  });
  shutdown.add("grpc", () => grpc.close());
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, health, logger });
  shutdown.add("ops", () => ops.close());
  logger.info({ grpcPort: grpc.port, opsPort: ops.port, position: projector.position }, "journal started");
  return { shutdown, grpcPort: grpc.port, opsPort: ops.port, store, projector };
}

// 1. config, then run, when started as a program.
if (import.meta.main) runService("journal", loadJournalConfig, main);
