import { readFileSync } from "node:fs";
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
import { LiveHost } from "@tradeplane/sdk";
import { loadStrategyRuntimeConfig, type StrategyRuntimeConfig } from "./config.ts";
import { clientOrderIdPrefix, planDeployment } from "./deployment.ts";
import { registerStrategyMetrics } from "./adapters/strategy-metrics.ts";

export interface StartedStrategy extends StartedService {
  readonly host: LiveHost;
}

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
  const plan = planDeployment(readSecret(config.specFile, "the StrategyDeployment spec"), config.instanceId);
  if (!plan.ok)
    throw new ConfigError(
      `StrategyDeployment refused: ${plan.problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`,
    );
  const token = readSecret(config.tokenFile, "the token file");
  const registry = createMetricsRegistry("strategy-runtime", { deployment: plan.name, account: plan.spec.account });

  // 4. strategy
  const host = await LiveHost.start({
    orderEntry: config.orderEntry,
    marketData: config.marketData,
    token,
    account: plan.spec.account,
    instruments: plan.spec.instruments,
    strategy: plan.strategy,
    clientOrderIdPrefix: clientOrderIdPrefix(plan.name, Date.now()),
    log: (message, fields) => logger.info({ ...fields }, message),
  });
  registerStrategyMetrics(registry, () => host, plan.spec.instruments);
  const started = host;
  shutdown.add("strategy", async () => {
    await started.stop(config.stopTimeoutMs);
    logger.info({ counters: started.counters }, "strategy stopped; open orders cancelled");
  });
  health.set("strategy", "ok");
  logger.info(
    { deployment: plan.name, account: plan.spec.account, instruments: plan.spec.instruments },
    "strategy started",
  );

  // 5. endpoints
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, health, logger });
  shutdown.add("ops", () => ops.close());
  return { shutdown, grpcPort: 0, opsPort: ops.port, host: started };
}

// 1. config, then run, when started as a program.
if (import.meta.main) runService("strategy-runtime", loadStrategyRuntimeConfig, main);
