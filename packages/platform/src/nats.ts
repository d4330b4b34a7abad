import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { env } from "./config.ts";
import { UnavailableError } from "./errors.ts";
import type { Logger } from "./logger.ts";

/** Connection settings every service shares; part of each service's config schema. */
export const natsConfigSchema = {
  /** NATS URLs, comma-separated in the environment (TP_NATS_URL). */
  natsUrl: env.list().default(["nats://127.0.0.1:4222"]),
  /** Path to a NATS .creds file (JWT + nkey seed), mounted from a Secret in Kubernetes. */
  natsCredsFile: z.string().optional(),
  /** Plain token auth, for local mode; never logged. */
  natsToken: z.string().optional(),
  natsUser: z.string().optional(),
  natsPassword: z.string().optional(),
};

export interface NatsSettings {
  readonly natsUrl: readonly string[];
  readonly natsCredsFile?: string | undefined;
  readonly natsToken?: string | undefined;
  readonly natsUser?: string | undefined;
  readonly natsPassword?: string | undefined;
}

const DEFAULT_RECONNECT_WAIT_MS = 250;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to NATS with endless reconnects (a trading service outlives NATS restarts) and
 * logs connection state changes. Fails with UnavailableError when the first connect fails.
 */
export async function connectNats(settings: NatsSettings, name: string, logger: Logger): Promise<NatsConnection> {
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
      ...(settings.natsCredsFile !== undefined
        ? { authenticator: credsAuthenticator(readFileSync(settings.natsCredsFile)) }
        : {}),
      ...(settings.natsToken !== undefined ? { token: settings.natsToken } : {}),
      ...(settings.natsUser !== undefined ? { user: settings.natsUser, pass: settings.natsPassword ?? "" } : {}),
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
