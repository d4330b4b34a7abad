import { describeError } from "./errors.ts";
import type { Shutdown } from "./shutdown.ts";

/** A started service process: how to stop it and where it listens. */
export interface StartedService {
  readonly shutdown: Shutdown;
  readonly grpcPort: number;
  readonly opsPort: number;
}

/** sysexits: configuration error. */
const EXIT_CONFIG = 78;

/**
 * Runs a service's composition root as a program: load config (exit 78 with a one-line
 * reason if invalid), start, install SIGTERM/SIGINT handlers, and print one JSON line
 * `{"ready":true,"grpcPort":..,"opsPort":..}` for supervisors and tests that bind port 0.
 */
export function runService<C>(name: string, loadConfig: () => C, main: (config: C) => Promise<StartedService>): void {
  let config: C;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${name}: ${describeError(err)}\n`);
    process.exit(EXIT_CONFIG);
  }
  main(config).then(
    ({ shutdown, grpcPort, opsPort }) => {
      shutdown.installSignalHandlers();
      if (process.env.TP_PARENT_LIFELINE === "stdin") shutdown.exitWithParent();
      process.stdout.write(JSON.stringify({ ready: true, grpcPort, opsPort }) + "\n");
    },
    (err: unknown) => {
      process.stderr.write(`${name}: failed to start: ${describeError(err)}\n`);
      process.exit(1);
    },
  );
}
