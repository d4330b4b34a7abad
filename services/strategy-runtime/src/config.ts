import { hostname } from "node:os";
import { z } from "zod";
import { env, loadConfig, type LoadConfigOptions } from "@tradeplane/platform";

export const DEFAULT_OPS_PORT = 9468;
/** How long a graceful stop waits for the gateway to acknowledge the cancels, ms. */
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;

export const strategyRuntimeConfigSchema = z.object({
  /** The StrategyDeployment manifest (or its spec alone): the mounted ConfigMap's file. */
  specFile: z.string().min(1),
  /** The account's bearer token: the mounted Secret's file (never in the config itself). */
  tokenFile: z.string().min(1),
  /** host:port of the venue's OrderEntry (risk gateway). */
  orderEntry: z.string().min(1),
  /** host:port of a market-data replica. */
  marketData: z.string().min(1),
  /**
   * The further venues of a deployment with spec.venues (a smart order router), each by its
   * name with its services and the file of the account's token there.
   */
  venues: z
    .array(
      z
        .object({
          venue: z.string().min(1),
          orderEntry: z.string().min(1),
          marketData: z.string().min(1),
          tokenFile: z.string().min(1),
        })
        .strict(),
    )
    .default([]),
  /** Where a strategy across venues writes its best-execution report (JSON), if anywhere. */
  reportFile: z.string().min(1).optional(),
  /**
   * The user's strategy module a custom image runs (`spec.strategy.image`): a file exporting
   * `strategy(params, instruments)` or a Strategy as default. The image's Dockerfile sets it
   * (TP_STRATEGY_MODULE); built-in strategies need none.
   */
  strategyModule: z.string().min(1).max(4096).optional(),
  /** This instance's name in logs and client order ids (the pod name in Kubernetes). */
  instanceId: z.string().min(1).default(hostname()),
  stopTimeoutMs: env.int(100, 120_000).default(DEFAULT_STOP_TIMEOUT_MS),
  opsHost: z.string().default("0.0.0.0"),
  opsPort: env.int(0, 65_535).default(DEFAULT_OPS_PORT),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type StrategyRuntimeConfig = z.infer<typeof strategyRuntimeConfigSchema>;

/** Reads the runtime's config (TP_CONFIG_FILE + TP_* variables), validated and frozen. */
export function loadStrategyRuntimeConfig(options: LoadConfigOptions = {}): Readonly<StrategyRuntimeConfig> {
  return loadConfig(strategyRuntimeConfigSchema, { what: "strategy runtime configuration", ...options });
}
