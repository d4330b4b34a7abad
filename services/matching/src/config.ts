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

/** Defaults, with units in their names. */
export const DEFAULT_SNAPSHOT_EVERY_COMMANDS = 100_000;
export const DEFAULT_SNAPSHOT_EVERY_SECONDS = 60;
export const DEFAULT_SNAPSHOTS_KEPT = 3;
export const DEFAULT_LEASE_TTL_MS = 1_500;
export const DEFAULT_PUBLISH_WINDOW = 4_096;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_RETAINED_EVENTS = 2_000_000;
export const DEFAULT_GRPC_PORT = 50051;
export const DEFAULT_OPS_PORT = 9464;

const tickSlab = z.object({
  fromPrice: z.number().int().min(0).describe("Lowest price of the slab, in ticks"),
  tickSize: z.number().int().min(1).describe("Valid prices in the slab are multiples of this, in ticks"),
});

/** One instrument of the partition, as the engine takes it (prices in ticks, quantities in lots). */
export const instrumentConfigSchema = z
  .object({
    symbol: z.string().refine(isInstrumentSymbol, "must be 1..32 characters of [A-Za-z0-9_-]"),
    tickSize: z.number().int().min(1).optional(),
    /** "NSE" for the NSE equity slabs of April 2025, or explicit slabs. */
    tickSlabs: z.union([z.literal("NSE"), z.array(tickSlab).min(1)]).optional(),
    lotSize: z.number().int().min(1).default(1),
    minQty: z.number().int().min(1).default(1),
    maxQty: z.number().int().min(1).default(1_000_000_000),
    maxOrderValue: z.number().int().min(0).default(0),
    referencePrice: z.number().int().min(1),
    bandPercent: z.number().int().min(0).max(100).default(0),
    initialState: z.enum(["PRE_OPEN", "CONTINUOUS", "HALTED", "CLOSED"]).default("CONTINUOUS"),
    cancelOnHalt: z.boolean().default(false),
  })
  .refine((i) => i.tickSize === undefined || i.tickSlabs === undefined, "give tickSize or tickSlabs, not both");

export type InstrumentSettings = z.infer<typeof instrumentConfigSchema>;

export const engineServiceConfigSchema = z.object({
  ...natsConfigSchema,
  venue: z.string().refine(isVenueName, "must be a lowercase DNS label starting with a letter"),
  partition: env.int(0, 1023).default(0),
  /** This instance's name in the lease and logs (the pod name in Kubernetes). */
  instanceId: z.string().min(1).default(hostname()),
  instruments: z.array(instrumentConfigSchema).min(1),
  maxOrders: env.int(1_024, 1 << 26).optional(),
  snapshotEveryCommands: env.int(0, 1e9).default(DEFAULT_SNAPSHOT_EVERY_COMMANDS),
  snapshotEverySeconds: env.int(0, 86_400).default(DEFAULT_SNAPSHOT_EVERY_SECONDS),
  snapshotsKept: env.int(1, 100).default(DEFAULT_SNAPSHOTS_KEPT),
  leaseTtlMs: env.int(200, 60_000).default(DEFAULT_LEASE_TTL_MS),
  publishWindow: env.int(1, 1 << 20).default(DEFAULT_PUBLISH_WINDOW),
  publishTimeoutMs: env.int(100, 120_000).default(DEFAULT_PUBLISH_TIMEOUT_MS),
  maxRetainedEvents: env.int(1_000, 1 << 26).default(DEFAULT_MAX_RETAINED_EVENTS),
  ...serviceEndpointsSchema({ grpcPort: DEFAULT_GRPC_PORT, opsPort: DEFAULT_OPS_PORT }),
  /** Admin tokens by role (secrets: variables or files, never this file); none = VenueAdmin refuses every call. */
  adminTokens: adminTokensSchema,
});

export type EngineServiceConfig = z.infer<typeof engineServiceConfigSchema>;

/** Reads the engine service's config (TP_CONFIG_FILE + TP_* variables), validated and frozen. */
export function loadEngineServiceConfig(options: LoadConfigOptions = {}): Readonly<EngineServiceConfig> {
  return loadConfig(engineServiceConfigSchema, { what: "matching engine configuration", ...options });
}
