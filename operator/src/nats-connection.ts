import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { connectNats, UnavailableError, type Logger } from "@tradeplane/platform";
import type { OperatorConfig } from "./config.ts";

const CONNECT_TIMEOUT_MS = 5_000;
const RECONNECT_WAIT_MS = 250;

/**
 * The operator's NATS connection: platform's `connectNats` for plain and credentials
 * connections, and the same settings plus required TLS (the CA, else the system's; a client
 * certificate) when the flags ask for it, with endless reconnects either way. With `tls` set,
 * nats.js refuses a server that does not offer TLS instead of talking plaintext to it.
 */
export async function connectOperatorNats(config: OperatorConfig, logger: Logger): Promise<NatsConnection> {
  if (config.natsTls === undefined)
    return connectNats({ natsUrl: config.natsUrl, natsCredsFile: config.natsCredsFile }, "tradeplane-operator", logger);
  try {
    const nc = await connect({
      servers: [...config.natsUrl],
      name: "tradeplane-operator",
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      timeout: CONNECT_TIMEOUT_MS,
      tls: { ...config.natsTls },
      ...(config.natsCredsFile !== undefined
        ? { authenticator: credsAuthenticator(readFileSync(config.natsCredsFile)) }
        : {}),
    });
    logger.info({ server: nc.getServer(), tls: true }, "connected to NATS");
    return nc;
  } catch (err) {
    throw new UnavailableError(
      `cannot connect to NATS at ${config.natsUrl.join(",")} over TLS: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
