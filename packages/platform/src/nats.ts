import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { env, nestedEnvName } from "./config.ts";
import { ConfigError, UnavailableError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { secret } from "./secrets.ts";

/**
 * TLS to NATS, from PEM files (mounted from Secrets in Kubernetes): `caFile` is the CA the
 * server's certificate must chain to; `certFile` and `keyFile` a client certificate for
 * servers that verify clients (`verify: true` in nats-server's tls block).
 */
export const natsTlsSchema = z
  .strictObject({
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
  })
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
    message: "certFile and keyFile go together (a client certificate and its key)",
    path: ["keyFile"],
  });

export type NatsTlsSettings = z.infer<typeof natsTlsSchema>;

/** Connection settings every service shares; part of each service's config schema. */
export const natsConfigSchema = {
  /** NATS URLs, comma-separated in the environment (TP_NATS_URL). */
  natsUrl: env.list().default(["nats://127.0.0.1:4222"]),
  /** Path to a NATS .creds file (JWT + nkey seed), mounted from a Secret in Kubernetes. */
  natsCredsFile: z.string().optional(),
  /** Token auth (a secret: TP_NATS_TOKEN or a file, never the config file); never logged. */
  natsToken: secret().optional(),
  natsUser: z.string().optional(),
  /** A secret, like natsToken. */
  natsPassword: secret().optional(),
  /** TLS to NATS (a server that requires TLS gets it anyway, verified against the system CAs). */
  natsTls: natsTlsSchema.optional(),
};

export interface NatsSettings {
  readonly natsUrl: readonly string[];
  readonly natsCredsFile?: string | undefined;
  readonly natsToken?: string | undefined;
  readonly natsUser?: string | undefined;
  readonly natsPassword?: string | undefined;
  readonly natsTls?: NatsTlsSettings | undefined;
}

/** Reads a file a NATS setting names, or a ConfigError naming the setting (exit 78 at start). */
function readSettingFile(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${setting}: cannot read ${path}: ${code ?? (err as Error).message}`);
  }
}

/**
 * The authentication and TLS options of a NATS connection from the settings. Files are read
 * here, before connecting, so a wrong path stops the service with the setting's name rather
 * than as a connection that keeps failing.
 */
export function natsConnectionOptions(settings: Omit<NatsSettings, "natsUrl">): Partial<ConnectionOptions> {
  const tls = settings.natsTls;
  for (const member of ["caFile", "certFile", "keyFile"] as const) {
    const path = tls?.[member];
    if (path !== undefined) readSettingFile(`${nestedEnvName("natsTls", member)} (natsTls.${member})`, path);
  }
  return {
    ...(settings.natsCredsFile !== undefined
      ? {
          authenticator: credsAuthenticator(
            readSettingFile("TP_NATS_CREDS_FILE (natsCredsFile)", settings.natsCredsFile),
          ),
        }
      : {}),
    ...(settings.natsToken !== undefined ? { token: settings.natsToken } : {}),
    ...(settings.natsUser !== undefined ? { user: settings.natsUser, pass: settings.natsPassword ?? "" } : {}),
    // Paths, not contents: the client reads them again on every reconnect, so certificates
    // that cert-manager renews in the mounted Secret are picked up without a restart.
    ...(tls !== undefined ? { tls: { ...tls } } : {}),
  };
}

const DEFAULT_RECONNECT_WAIT_MS = 250;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to NATS with endless reconnects (a trading service outlives NATS restarts) and
 * logs connection state changes. Fails with UnavailableError when the first connect fails.
 */
export async function connectNats(settings: NatsSettings, name: string, logger: Logger): Promise<NatsConnection> {
  const auth = natsConnectionOptions(settings);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...settings.natsUrl],
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: DEFAULT_RECONNECT_WAIT_MS,
      timeout: DEFAULT_CONNECT_TIMEOUT_MS,
      // Every request (each JetStream publish) would otherwise build two Error objects with
      // stack traces up front: measured as 40% of CPU on the publish path (docs/performance.md).
      noAsyncTraces: true,
      ...auth,
    });
  } catch (err) {
    throw new UnavailableError(`cannot connect to NATS at ${settings.natsUrl.join(",")}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  logger.info({ server: nc.getServer() }, "connected to NATS");
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "ping" || status.type === "update") continue;
      const level = status.type === "reconnect" ? "info" : "warn";
      logger[level]({ nats: status.type, server: "server" in status ? status.server : undefined }, "NATS status");
    }
  })();
  return nc;
}
