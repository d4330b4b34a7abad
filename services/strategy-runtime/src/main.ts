import { readFileSync, writeFileSync } from "node:fs";
import {
  ConfigError,
  createLogger,
  createMetricsRegistry,
  Health,
  runService,
  Shutdown,
  startOpsServer,
  type StartedService,
} from "@tradeplane/platform";
import {
  LiveHost,
  loadStrategyModule,
  StrategyModuleError,
  type Strategy,
  type StrategyFactory,
} from "@tradeplane/sdk";
import { venuesOf } from "@tradeplane/strategy-api";
import { loadStrategyRuntimeConfig, type StrategyRuntimeConfig } from "./config.ts";
import { clientOrderIdPrefix, planDeployment } from "./deployment.ts";
import { registerStrategyMetrics } from "./adapters/strategy-metrics.ts";

export interface StartedStrategy extends StartedService {
  /** The host of the deployment's venue (venueRef). */
  readonly host: LiveHost;
  /** Every venue's host, by venue name (one for a strategy on one venue). */
  readonly hosts: ReadonlyMap<string, LiveHost>;
}

/** How often a router's best-execution report file is brought up to date, ms. */
const REPORT_EVERY_MS = 500;

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/**
 * The strategy runtime: one StrategyDeployment's built-in strategy against its venue.
 * Stages:
 *  1. config      TP_CONFIG_FILE + TP_* variables, validated once
 *  2. telemetry   logger, metrics, health
 *  3. deployment  the mounted spec (refused with the field named) and the token file
 *  4. strategy    limits, positions and open orders from the gateway; market data; Session
 *                 (a strategy across venues: one host per venue, each with its account)
 *  5. endpoints   /metrics /healthz /readyz
 *  6. shutdown    on SIGTERM/SIGINT: the strategy stops, its open orders are cancelled
 */
export async function main(config: Readonly<StrategyRuntimeConfig>): Promise<StartedStrategy> {
  // 2. telemetry
  const logger = createLogger({
    service: "strategy-runtime",
    level: config.logLevel,
    base: { instance: config.instanceId },
  });
  const health = new Health();
  health.register("strategy");
  const shutdown = new Shutdown(logger);

  // 3. deployment
  const userStrategy = config.strategyModule === undefined ? undefined : await loadUserStrategy(config.strategyModule);
  const plan = planDeployment(
    readSecret(config.specFile, "the StrategyDeployment spec"),
    config.instanceId,
    userStrategy,
  );
  if (!plan.ok)
    throw new ConfigError(
      `StrategyDeployment refused: ${plan.problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`,
    );
  // The account is a label of each venue's series (one per venue), not of the process.
  const registry = createMetricsRegistry("strategy-runtime", { deployment: plan.name });

  // 4. strategy: the deployment's venue first, then each further venue with its account there
  const venues = venuesOf(plan.spec).map((v, n) => {
    if (n === 0)
      return { ...v, orderEntry: config.orderEntry, marketData: config.marketData, tokenFile: config.tokenFile };
    const at = config.venues.find((c) => c.venue === v.venue);
    if (at === undefined)
      throw new ConfigError(`spec.venues names ${v.venue}: the runtime's config has no services for it (venues[])`);
    return { ...v, ...at };
  });
  const run = plan.run;
  const hosts = new Map<string, LiveHost>();
  const prefix = clientOrderIdPrefix(plan.name, Date.now());
  shutdown.add("strategy", async () => {
    for (const [venue, h] of hosts) {
      await h.stop(config.stopTimeoutMs);
      logger.info({ venue, counters: h.counters }, "strategy stopped; open orders cancelled");
    }
  });
  // Every venue's leg first (a strategy across venues knows its venues by them), then the hosts.
  const reachable = (venue: string) => () => hosts.get(venue)?.reachable ?? true;
  const strategies = new Map<string, Strategy>(
    venues.map((v) => [v.venue, run.venues === "one" ? run.strategy : run.strategy.leg(v.venue, reachable(v.venue))]),
  );
  for (const v of venues) {
    const host = await LiveHost.start({
      orderEntry: v.orderEntry,
      marketData: v.marketData,
      token: readSecret(v.tokenFile, "the token file"),
      account: v.account,
      instruments: plan.spec.instruments,
      strategy: strategies.get(v.venue)!,
      clientOrderIdPrefix: prefix,
      log: (message, fields) => logger.info({ venue: v.venue, ...fields }, message),
    });
    hosts.set(v.venue, host);
  }
  const started = hosts.get(venues[0]!.venue)!;
  registerStrategyMetrics(
    registry,
    venues.map((v) => ({ venue: v.venue, account: v.account, host: hosts.get(v.venue)! })),
    plan.spec.instruments,
  );
  if (run.venues === "several" && config.reportFile !== undefined) {
    // The best-execution report, rewritten when it changes and once more at the end.
    const file = config.reportFile;
    let last = "";
    const write = (): void => {
      const text = JSON.stringify(run.strategy.report(), null, 2) + "\n";
      if (text === last) return;
      writeFileSync(file, text);
      last = text;
    };
    const timer = setInterval(write, REPORT_EVERY_MS);
    shutdown.add("report", () => {
      clearInterval(timer);
      write();
    });
  }
  health.set("strategy", "ok");
  logger.info(
    { deployment: plan.name, venues: venues.map((v) => `${v.account}@${v.venue}`), instruments: plan.spec.instruments },
    "strategy started",
  );

  // 5. endpoints
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, health, logger });
  shutdown.add("ops", () => ops.close());
  return { shutdown, grpcPort: 0, opsPort: ops.port, host: started, hosts };
}

// 1. config, then run, when started as a program.
if (import.meta.main) runService("strategy-runtime", loadStrategyRuntimeConfig, main);

/** The image's strategy module, or a ConfigError saying why it cannot be run (exit 78). */
async function loadUserStrategy(file: string): Promise<StrategyFactory> {
  try {
    return await loadStrategyModule(file);
  } catch (err) {
    if (err instanceof StrategyModuleError) throw new ConfigError(`strategyModule ${err.message}`);
    throw err;
  }
}
