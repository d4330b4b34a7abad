import { hostname } from "node:os";
import { z } from "zod";
import {
  adminTokensSchema,
  env,
  loadConfig,
  natsConfigSchema,
  serviceEndpointsSchema,
  type LoadConfigOptions,
} from "@tradeplane/platform";
import { isInstrumentSymbol, isVenueName } from "@tradeplane/contracts";

export const DEFAULT_GRPC_PORT = 50061;
export const DEFAULT_OPS_PORT = 9465;
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
/** How often the projection is snapshotted (when events arrived since the last snapshot). */
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 60_000;
/** Projection snapshots kept in the venue's snapshots bucket. */
export const DEFAULT_SNAPSHOTS_KEPT = 3;
/** Execution reports kept per account in a snapshot (for clients resuming across a restart). */
export const DEFAULT_SNAPSHOT_REPORTS_KEPT = 1_000;

/**
 * Venue-wide default limits, with the meaning they have on an account (risk_admin.proto's
 * RiskLimits): absent = no limit, 0 blocks every order the limit applies to. The same ranges
 * as the TradingVenue's risk.defaults, so a spec the CRD accepts never stops the gateway.
 */
const limit = (max = Number.MAX_SAFE_INTEGER) => z.number().int().min(0).max(max).optional();
const limitsSchema = z.object({
  maxOrderQty: limit(),
  maxOrderNotional: limit(),
  priceCollarBps: limit(100_000),
  maxPosition: limit(),
  creditLimit: limit(),
  maxOrdersPerSecond: limit(),
  restrictedInstruments: z.array(z.string()).optional(),
});

/** What the gateway needs to know of each instrument (from the venue spec). */
export const gatewayInstrumentSchema = z.object({
  symbol: z.string().refine(isInstrumentSymbol, "must be 1..32 characters of [A-Za-z0-9_-]"),
  partition: z.number().int().min(0).max(1023).default(0),
  referencePrice: z.number().int().min(1),
  /** Minor currency units of one lot at one tick. */
  notionalPerTickLot: z.number().int().min(1).default(1),
});

export const riskGatewayConfigSchema = z.object({
  ...natsConfigSchema,
  venue: z.string().refine(isVenueName, "must be a lowercase DNS label starting with a letter"),
  instanceId: z.string().min(1).default(hostname()),
  instruments: z.array(gatewayInstrumentSchema).min(1),
  /** Venue-wide default limits; accounts override them. */
  defaultLimits: limitsSchema.default({}),
  commandTimeoutMs: env.int(100, 60_000).default(DEFAULT_COMMAND_TIMEOUT_MS),
  /** Projection snapshot period in ms; 0 = only at shutdown. Default DEFAULT_SNAPSHOT_INTERVAL_MS. */
  snapshotIntervalMs: env.int(0, 86_400_000).optional(),
  /** Projection snapshots kept. Default DEFAULT_SNAPSHOTS_KEPT. */
  snapshotsKept: env.int(1, 100).optional(),
  /** Reports kept per account in a snapshot. Default DEFAULT_SNAPSHOT_REPORTS_KEPT. */
  snapshotReportsKept: env.int(0, 1_000_000).optional(),
  /** Admin tokens by role (secrets: variables or files, never this file); none = RiskAdmin refuses every call. */
  adminTokens: adminTokensSchema,
  ...serviceEndpointsSchema({ grpcPort: DEFAULT_GRPC_PORT, opsPort: DEFAULT_OPS_PORT }),
});

export type RiskGatewayConfig = z.infer<typeof riskGatewayConfigSchema>;

export function loadRiskGatewayConfig(options: LoadConfigOptions = {}): Readonly<RiskGatewayConfig> {
  return loadConfig(riskGatewayConfigSchema, { what: "risk gateway configuration", ...options });
}
