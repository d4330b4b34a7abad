import { randomBytes } from "node:crypto";
import {
  createLogger,
  createMetricsRegistry,
  describeError,
  Health,
  initTelemetry,
  Shutdown,
  startOpsServer,
} from "@tradeplane/platform";
import { parseOperatorArgs, USAGE, type OperatorConfig } from "./config.ts";
import { connectOperatorNats } from "./nats-connection.ts";
import { ControllerManager } from "./controllers/controller-manager.ts";
import { EventRecorder } from "./controllers/event-recorder.ts";
import { createOperatorMetrics } from "./controllers/operator-metrics.ts";
import { TradingVenueController } from "./controllers/trading-venue-controller.ts";
import { JetStreamVenueStreams } from "./controllers/venue-streams.ts";
import { RiskAdminAccounts } from "./controllers/risk-admin-accounts.ts";
import { StrategyDeploymentController } from "./controllers/strategy-deployment-controller.ts";
import { names } from "./desired/venue-model.ts";
import { Applier } from "./kube/apply.ts";
import { KubeClient } from "./kube/kube-client.ts";
import { refOf } from "./kube/kube-object.ts";
import { LeaderElector } from "./kube/leader-election.ts";

/**
 * The operator process. Stages:
 *  1. config       command line, parsed once
 *  2. telemetry    JSON logger, metrics registry, health
 *  3. Kubernetes   the cluster as kubectl finds it; every write counted
 *  4. NATS         where venue streams are provisioned
 *  5. controllers  informers and caches, TradingVenue and StrategyDeployment reconcilers
 *  6. endpoints    /metrics /healthz /readyz
 *  7. leadership   reconcile only while holding the Lease (informers run regardless)
 *  8. shutdown     reverse order on SIGTERM/SIGINT; a leader releases its Lease
 */
const EXIT_CONFIG = 78;
/** Admin tokens: 32 random bytes, URL-safe. */
const ADMIN_TOKEN_BYTES = 32;

export async function startOperator(config: OperatorConfig): Promise<{ shutdown: Shutdown; opsPort: number }> {
  // 2. telemetry
  const logger = createLogger({ service: "operator", level: config.logLevel, base: { identity: config.identity } });
  const registry = createMetricsRegistry("operator");
  const metrics = createOperatorMetrics(registry);
  const health = new Health();
  health.register("kubernetes");
  const shutdown = new Shutdown(logger);
  // Added first, so it runs last: the spans of the last reconciles are flushed.
  const telemetry = initTelemetry("operator", config.tracing);
  shutdown.add("telemetry", () => telemetry.shutdown());

  // 3. Kubernetes
  const client = await KubeClient.fromDefault(
    { onWrite: (verb, kind) => metrics.apiWrites.inc({ verb, kind }) },
    config.kubeconfig,
  );
  shutdown.add("kubernetes client", () => client.close());

  // 4. NATS
  const nc = await connectOperatorNats(config, logger);
  shutdown.add("nats", () => nc.drain());

  // 5. controllers
  const applier = new Applier(client);
  const manager = new ControllerManager({
    client,
    namespaces: config.namespaces,
    logger,
    metrics,
    workers: config.workers,
    resyncMs: config.resyncSeconds * 1000,
    tracer: telemetry.tracer,
    onDeleted: (object) => applier.forget(refOf(object)),
  });
  const events = new EventRecorder(client, logger);
  // Each venue's RiskAdmin API, with the admin tokens the venue controller generated:
  // strategies' accounts and tokens, and the FIX gateway's session tokens.
  const accounts = new RiskAdminAccounts({
    adminToken: (at, role) => {
      const secret = manager.cache.get("Secret", at.namespace, names.adminToken(at.venue));
      const token = (secret?.data as Record<string, string> | undefined)?.[role];
      return token === undefined ? undefined : Buffer.from(token, "base64").toString("utf8");
    },
    addressOf: (at) => config.riskAddresses[at.venue] ?? `${names.risk(at.venue)}.${at.namespace}.svc:50061`,
    onChannels: (open) => metrics.riskAdminChannels.set(open),
  });
  shutdown.add("risk admin clients", () => accounts.close());
  manager.register(
    new TradingVenueController({
      client,
      applier,
      cache: manager.cache,
      streams: new JetStreamVenueStreams(nc),
      events,
      defaults: { images: config.images, pullSecrets: config.pullSecrets, natsUrl: config.natsUrl },
      clock: () => new Date(),
      newToken: () => randomBytes(ADMIN_TOKEN_BYTES).toString("base64url"),
      sessionTokens: accounts,
      sequenceStatusIntervalMs: config.sequenceStatusSeconds * 1000,
    }),
  );
  manager.register(
    new StrategyDeploymentController({
      client,
      applier,
      cache: manager.cache,
      accounts,
      events,
      runtimeImage: config.strategyRuntimeImage,
      pullSecrets: config.pullSecrets,
      clock: () => new Date(),
    }),
  );
  manager.startInformers();
  shutdown.add("controllers", () => manager.stop());
  const synced = setInterval(() => {
    if (!manager.synced) return;
    health.set("kubernetes", "ok");
    clearInterval(synced);
  }, 100);
  shutdown.add("sync check", () => clearInterval(synced));

  // 6. endpoints
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, health, logger });
  shutdown.add("ops endpoint", () => ops.close());

  // 7. leadership
  const lead = () => {
    metrics.leader.set(1);
    void manager.startControllers();
  };
  if (config.leaderElection) {
    const elector = new LeaderElector({
      client,
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity: config.identity,
      logger,
      onStartedLeading: lead,
      onStoppedLeading: () => {
        // Two writers are worse than a restart: exit, and campaign again from a clean start.
        metrics.leader.set(0);
        process.exit(1);
      },
    });
    elector.start();
    shutdown.add("leader election", () => elector.stop());
  } else lead();
  // Runs first at shutdown: no reconcile is in flight when the Lease is released.
  shutdown.add("reconciles in flight", () => manager.stopControllers());

  return { shutdown, opsPort: ops.port };
}

if (import.meta.main) {
  let config: OperatorConfig;
  try {
    if (process.argv.includes("--help")) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    config = parseOperatorArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`operator: ${describeError(err)}\n`);
    process.exit(EXIT_CONFIG);
  }
  startOperator(config).then(
    ({ shutdown, opsPort }) => {
      for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, (s) => shutdown.onSignal(s));
      process.stdout.write(JSON.stringify({ ready: true, opsPort }) + "\n");
    },
    (err: unknown) => {
      process.stderr.write(`operator: failed to start: ${describeError(err)}\n`);
      process.exit(1);
    },
  );
}
