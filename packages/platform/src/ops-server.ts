import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Health } from "./health.ts";
import type { Logger } from "./logger.ts";

export interface OpsServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests); read the bound port from the result. */
  readonly port: number;
  readonly registry: Registry;
  readonly health: Health;
  readonly logger: Logger;
  /** Extra JSON endpoints, e.g. `/status`. */
  readonly extra?: Readonly<Record<string, () => unknown>>;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The operations HTTP endpoint of a service: `/metrics` (Prometheus), `/healthz`
 * (liveness: the loop answers), `/readyz` (readiness: every health check is ok).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { registry, health, logger } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        (err: unknown) => {
          logger.error({ err }, "metrics collection failed");
          send(500, "text/plain", "metrics collection failed\n");
        },
      );
      return;
    }
    if (path === "/healthz") return send(200, "application/json", JSON.stringify({ alive: true }) + "\n");
    if (path === "/readyz") {
      const report = health.report();
      return send(report.ready ? 200 : 503, "application/json", JSON.stringify(report) + "\n");
    }
    const extra = path === undefined ? undefined : options.extra?.[path];
    if (extra !== undefined) return send(200, "application/json", JSON.stringify(extra()) + "\n");
    send(404, "text/plain", "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: options.host, port }, "ops endpoint listening (/metrics, /healthz, /readyz)");
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
