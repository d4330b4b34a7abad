import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Lowest port handed out: above the well-known and registered services a test machine runs. */
const LOWEST_PORT = 10_000;
/** Where the kernel's ephemeral range starts when /proc does not say (Linux's default). */
const DEFAULT_EPHEMERAL_START = 32_768;
const ATTEMPTS = 64;

/**
 * The first port of the kernel's ephemeral range: every outgoing connection takes its local
 * port from that range, so a port chosen there and bound only later (by a container, a
 * child process) can be taken by any connection in between.
 */
function ephemeralStart(): number {
  try {
    const start = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isSafeInteger(start) && start > LOWEST_PORT + 1_000 ? start : DEFAULT_EPHEMERAL_START;
  } catch {
    return DEFAULT_EPHEMERAL_START;
  }
}

/** Binds a loopback listener on `port` (0: the kernel chooses) and resolves with the port once released. */
function probe(port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", (err: NodeJS.ErrnoException) =>
      err.code === "EADDRINUSE" || err.code === "EACCES" ? resolve(null) : reject(err),
    );
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the port of a loopback listener"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * An unused loopback port, released before use, so a caller should bind it promptly. It is
 * chosen at random below the kernel's ephemeral range: the outgoing connections a test makes
 * meanwhile (hundreds, in a test of a venue of containers) never take it, which a port from
 * `listen(0)` does not promise. Falls back to the kernel's choice when nothing below is free.
 */
export async function freePort(): Promise<number> {
  const span = ephemeralStart() - LOWEST_PORT;
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = await probe(LOWEST_PORT + Math.floor(Math.random() * span));
    if (port !== null) return port;
  }
  const port = await probe(0);
  if (port === null) throw new Error("no free loopback port");
  return port;
}
