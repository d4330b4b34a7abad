import { hostname } from "node:os";
import { z } from "zod";
import {
  adminTokensSchema,
  env,
  loadConfig,
  natsConfigSchema,
  secret,
  serviceEndpointsSchema,
  type LoadConfigOptions,
} from "@tradeplane/platform";
import { isInstrumentSymbol, isVenueName } from "@tradeplane/contracts";
import { isTimeZone, WEEKDAYS } from "./domain/trading-calendar.ts";

export const DEFAULT_OPS_PORT = 9468;
/** JournalQuery gRPC. */
export const DEFAULT_GRPC_PORT = 50081;
/** Most PostgreSQL connections of the pool (projector and queries). */
export const DEFAULT_POOL_SIZE = 4;
/** Most event-stream messages written in one transaction (each holds one run of events). */
export const DEFAULT_BATCH_MESSAGES = 2_048;
/** Name of the projector's resume position in projector_position. */
export const DEFAULT_PROJECTOR_NAME = "journal";

export const journalConfigSchema = z
  .object({
    ...natsConfigSchema,
    venue: z.string().refine(isVenueName, "must be a lowercase DNS label starting with a letter"),
    instanceId: z.string().min(1).default(hostname()),
    /**
     * PostgreSQL URL (postgres://user:password@host:port/db), a secret: from TP_DATABASE_URL
     * or the file TP_DATABASE_URL_FILE names (a Kubernetes Secret volume), never a ConfigMap.
     */
    databaseUrl: secret(12).optional(),
    /** Folder of an embedded PGlite database (local mode) when there is no databaseUrl; "" = in memory. */
    pgliteDir: z.string().max(4096).optional(),
    batchMessages: env.int(1, 65_536).default(DEFAULT_BATCH_MESSAGES),
    projectorName: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/)
      .default(DEFAULT_PROJECTOR_NAME),
    poolSize: env.int(1, 64).default(DEFAULT_POOL_SIZE),
    /**
     * The instruments' money units, for the values of the register and clearing obligations:
     * notional units (10^notionalExponent of currency) of one lot at one tick.
     */
    instruments: z
      .array(
        z.object({
          symbol: z.string().refine(isInstrumentSymbol, "must be 1..32 characters of [A-Za-z0-9_-]"),
          notionalPerTickLot: z.number().int().min(1),
        }),
      )
      .max(10_000)
      .default([]),
    currency: z.string().max(10).default("INR"),
    notionalExponent: z.number().int().min(-18).max(0).default(-2),
    /** The venue calendar (TradingVenue spec.calendar): what a trading day is, when it settles. */
    calendar: z
      .object({
        timeZone: z
          .string()
          .max(64)
          .refine(isTimeZone, "must be an IANA time zone, e.g. Asia/Kolkata")
          .default("Asia/Kolkata"),
        tradingDayEnd: z
          .string()
          .regex(/^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/)
          .default("24:00"),
        weekendDays: z.array(z.enum(WEEKDAYS)).max(6).default(["Sat", "Sun"]),
        holidays: z
          .array(z.string().regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/))
          .max(1_000)
          .default([]),
        settlementDays: z.number().int().min(0).max(10).default(1),
      })
      .prefault({}),
    /** Admin tokens by role (secrets: variables or files); none = JournalQuery refuses every call. */
    adminTokens: adminTokensSchema,
    /** gRPC (JournalQuery) and /metrics /healthz /readyz; 0 picks a free port. */
    ...serviceEndpointsSchema({ grpcPort: DEFAULT_GRPC_PORT, opsPort: DEFAULT_OPS_PORT }),
  })
  .refine((c) => (c.databaseUrl === undefined) !== (c.pgliteDir === undefined), {
    message: "set exactly one of databaseUrl (PostgreSQL) and pgliteDir (embedded PGlite)",
  });

export type JournalConfig = z.infer<typeof journalConfigSchema>;

/** Reads the journal's config (TP_CONFIG_FILE + TP_* variables), validated and frozen. */
export function loadJournalConfig(options: LoadConfigOptions = {}): Readonly<JournalConfig> {
  return loadConfig(journalConfigSchema, { what: "journal configuration", ...options });
}
