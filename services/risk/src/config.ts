import { hostname } from "node:os";
import { z } from "zod";
import {
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

const limitsSchema = z.object({
  maxOrderQty: z.number().int().min(1).optional(),
  maxOrderNotional: z.number().int().min(1).optional(),
  priceCollarBps: z.number().int().min(1).max(100_000).optional(),
  maxPosition: z.number().int().min(1).optional(),
  creditLimit: z.number().int().min(1).optional(),
  maxOrdersPerSecond: z.number().int().min(1).optional(),
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
  /** Bearer token of operators for RiskAdmin; unset = RiskAdmin refuses every call. */
  adminToken: z.string().min(16).optional(),
  ...serviceEndpointsSchema({ grpcPort: DEFAULT_GRPC_PORT, opsPort: DEFAULT_OPS_PORT }),
});

export type RiskGatewayConfig = z.infer<typeof riskGatewayConfigSchema>;

export function loadRiskGatewayConfig(options: LoadConfigOptions = {}): Readonly<RiskGatewayConfig> {
  return loadConfig(riskGatewayConfigSchema, { what: "risk gateway configuration", ...options });
}
