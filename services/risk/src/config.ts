import { hostname } from "node:os";
import { z } from "zod";
import {
  adminTokensSchema,
  ConfigError,
  env,
  loadConfig,
  natsConfigSchema,
  secretList,
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

/** Port of the internal GatewayPeer service (replica to replica, ADR 0003). */
export const DEFAULT_PEER_PORT = 50062;
export const DEFAULT_PEER_HOST = "0.0.0.0";
/**
 * How long an account's owner may go without moving its liveness key (one per replica,
 * renewed every ttl/4) before another replica takes its accounts over (judged on the taker's
 * monotonic clock). A takeover then waits for the fences and reads the account's orders of
 * the last second from the command log.
 */
export const DEFAULT_OWNER_LEASE_TTL_MS = 3_000;
/** Shortest peer token accepted: a shared secret between replicas, not a password. */
export const MIN_PEER_TOKEN_LENGTH = 32;

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

/** GatewayPeer's mutual TLS: one certificate for both ends, the venue's peer CA. */
export const peerTlsSchema = z.strictObject({
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
  caFile: z.string().min(1),
  serverName: z.string().min(1).optional(),
});
export type PeerTlsSettings = z.infer<typeof peerTlsSchema>;

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
  /**
   * "single" (the default): this replica decides every account (one replica, local mode). "lease": several
   * replicas share the venue, each account owned by one of them through the owners bucket
   * (ADR 0003); needs peerAddress and peerTokens.
   */
  ownership: z.enum(["single", "lease"]).optional(),
  /** Where the other replicas reach this one's GatewayPeer service (host:port, e.g. the pod IP). */
  peerAddress: z.string().min(3).optional(),
  /** Interface of the GatewayPeer service; default DEFAULT_PEER_HOST. */
  peerHost: z.string().optional(),
  /** Port of the GatewayPeer service; default DEFAULT_PEER_PORT (0 picks a free one). */
  peerPort: env.int(0, 65_535).optional(),
  /** The venue's shared peer tokens (secret: TP_PEER_TOKENS_FILE); the first is sent, any is accepted. */
  peerTokens: secretList(MIN_PEER_TOKEN_LENGTH).optional(),
  /**
   * Mutual TLS on GatewayPeer (files of a Secret): each replica presents `certFile` (server and
   * client use) and verifies the other's against `caFile`; unset = plaintext (the peer token
   * still authenticates). `serverName`: the DNS name every replica's certificate carries,
   * checked in place of the pod address a replica dials.
   */
  peerTls: peerTlsSchema.optional(),
  /** Default DEFAULT_OWNER_LEASE_TTL_MS. */
  ownerLeaseTtlMs: env.int(300, 60_000).optional(),
  ...serviceEndpointsSchema({ grpcPort: DEFAULT_GRPC_PORT, opsPort: DEFAULT_OPS_PORT }),
});

export type RiskGatewayConfig = z.infer<typeof riskGatewayConfigSchema>;

/** Settings that only make sense together, checked after parsing. */
function checked(config: RiskGatewayConfig): RiskGatewayConfig {
  if (config.ownership === "lease") {
    const missing = [
      ...(config.peerAddress === undefined ? ["peerAddress (TP_PEER_ADDRESS)"] : []),
      ...(config.peerTokens === undefined ? ["peerTokens (TP_PEER_TOKENS_FILE)"] : []),
    ];
    if (missing.length > 0)
      throw new ConfigError(`ownership "lease" needs ${missing.join(" and ")}`, [
        ...missing.map((m) => ({ path: m.split(" ")[0]!, message: "required with ownership lease" })),
      ]);
  }
  return config;
}

export function loadRiskGatewayConfig(options: LoadConfigOptions = {}): Readonly<RiskGatewayConfig> {
  return Object.freeze(
    checked(loadConfig(riskGatewayConfigSchema, { what: "risk gateway configuration", ...options })),
  );
}
