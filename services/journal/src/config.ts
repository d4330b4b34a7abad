import { hostname } from "node:os";
import { z } from "zod";
import { env, loadConfig, natsConfigSchema, secret, type LoadConfigOptions } from "@tradeplane/platform";
import { isVenueName } from "@tradeplane/contracts";

export const DEFAULT_OPS_PORT = 9468;
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
    opsHost: z.string().default("0.0.0.0"),
    /** /metrics /healthz /readyz; 0 picks a free port. */
    opsPort: env.int(0, 65_535).default(DEFAULT_OPS_PORT),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .refine((c) => (c.databaseUrl === undefined) !== (c.pgliteDir === undefined), {
    message: "set exactly one of databaseUrl (PostgreSQL) and pgliteDir (embedded PGlite)",
  });

export type JournalConfig = z.infer<typeof journalConfigSchema>;

/** Reads the journal's config (TP_CONFIG_FILE + TP_* variables), validated and frozen. */
export function loadJournalConfig(options: LoadConfigOptions = {}): Readonly<JournalConfig> {
  return loadConfig(journalConfigSchema, { what: "journal configuration", ...options });
}
