import { spawnSync } from "node:child_process";
import { accessSync, chmodSync, constants, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { UnavailableError } from "@tradeplane/platform";
import { PROJECT_ROOT } from "./paths.ts";

/**
 * The nats-server binary: tools/bin, PATH, /usr/sbin, /usr/bin. When it is nowhere, the
 * project's own setup script installs Debian's package (once) and we look again.
 */
export function findNatsServer(log: (line: string) => void): string {
  const found = locate();
  if (found !== undefined) return found;
  log("nats-server is not installed; running scripts/setup to install Debian's package");
  const setup = spawnSync("bash", [join(PROJECT_ROOT, "scripts", "setup")], { stdio: "inherit" });
  const again = locate();
  if (again !== undefined) return again;
  throw new UnavailableError(
    `nats-server is not installed and scripts/setup could not install it (exit ${setup.status}); ` +
      "install it with `sudo apt-get install nats-server` and run again",
  );
}

function locate(): string | undefined {
  const dirs = [
    join(PROJECT_ROOT, "tools", "bin"),
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean),
    "/usr/sbin",
    "/usr/bin",
  ];
  for (const dir of dirs) {
    const candidate = join(dir, "nats-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Command line of a local JetStream server that only this machine can reach. The token is
 * not on it (every user can read a command line in `ps`): it is in `configFile`, which
 * writeNatsServerConfig wrote with mode 0600.
 */
export function natsServerArgs(options: {
  port: number;
  storeDir: string;
  configFile: string;
  name: string;
}): string[] {
  return [
    "--config",
    options.configFile,
    "--addr",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--jetstream",
    "--store_dir",
    options.storeDir,
    "--server_name",
    options.name,
  ];
}

/** Writes the server's token authorization into a config file only its owner can read. */
export function writeNatsServerConfig(file: string, token: string): void {
  writeFileSync(file, `authorization {\n  token: ${JSON.stringify(token)}\n}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Waits until the server takes connections (with the token), up to timeoutMs. */
export async function waitForNats(url: string, token: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const nc = await connect({ servers: url, token, timeout: 1_000 });
      await nc.close();
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new UnavailableError(`nats-server at ${url} did not start: ${(last as Error)?.message ?? "no answer"}`);
}
