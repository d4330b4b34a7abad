import { ConfigError, describeError } from "./errors.ts";
import type { Shutdown } from "./shutdown.ts";
import { startAllocationProfile } from "./allocation-profile.ts";

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
 * reason if invalid, also when a setting turns out bad while starting), start, install SIGTERM/SIGINT handlers, and print one JSON line
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
  // A child of a supervisor (local mode) is given a stdin pipe that closes when the parent
  // dies, however it dies: then stop as on SIGTERM (or at once while still starting)
  // rather than live on as an orphan holding ports and the engine lease.
  let started = false;
  if (process.env.TP_PARENT_LIFELINE === "stdin") {
    let gone = false;
    const parentGone = (): void => {
      if (gone) return;
      gone = true;
      if (started) process.kill(process.pid, "SIGTERM");
      else process.exit(1);
    };
    process.stdin.once("end", parentGone);
    process.stdin.once("close", parentGone);
    process.stdin.resume();
  }
  const profiling = startAllocationProfile(name);
  profiling
    .then(() => main(config))
    .then(
      async ({ shutdown, grpcPort, opsPort }) => {
        const stopProfile = await profiling;
        // Added last, so it runs first at shutdown, while the process is still whole.
        if (stopProfile !== undefined) shutdown.add("allocation profile", stopProfile);
        shutdown.installSignalHandlers();
        started = true;
        process.stdout.write(JSON.stringify({ ready: true, grpcPort, opsPort }) + "\n");
      },
      (err: unknown) => {
        // Settings checked only when used (TLS files) are still configuration errors.
        if (err instanceof ConfigError) {
          process.stderr.write(`${name}: ${describeError(err)}\n`);
          process.exit(EXIT_CONFIG);
        }
        process.stderr.write(`${name}: failed to start: ${describeError(err)}\n`);
        process.exit(1);
      },
    );
}
