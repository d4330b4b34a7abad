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

/** What a service's composition root gets from the runner. */
export interface ServiceContext {
  /**
   * Hands over the process's Shutdown as soon as it exists: a SIGTERM or SIGINT during
   * start-up (connecting, loading a snapshot, replaying a log) then runs the steps
   * registered so far, instead of killing the process or waiting for start-up to end.
   */
  attach(shutdown: Shutdown): void;
}

/**
 * Runs a service's composition root as a program: load config (exit 78 with a one-line
 * reason if invalid, also when a setting turns out bad while starting), install the
 * SIGTERM/SIGINT handlers, start, and print one JSON line
 * `{"ready":true,"grpcPort":..,"opsPort":..}` for supervisors and tests that bind port 0.
 *
 * Exit codes: 0 stopped by a signal, cleanly; 1 failed to start, or the shutdown outlasted
 * its grace period; 75 the engine lost its lease (restart it); 78 a configuration error;
 * 130 a second signal during shutdown.
 */
export function runService<C>(
  name: string,
  loadConfig: () => C,
  main: (config: C, context: ServiceContext) => Promise<StartedService>,
): void {
  let config: C;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${name}: ${describeError(err)}\n`);
    process.exit(EXIT_CONFIG);
  }
  // Installed before anything starts: a signal while starting stops what has started so far
  // (nothing yet: exit at once), and a start-up that fails because of that stop is no failure.
  let attached: Shutdown | undefined;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (attached !== undefined) {
      signalled = true;
      attached.onSignal(signal);
      return;
    }
    process.stderr.write(`${name}: ${signal} before start-up began: exiting\n`);
    process.exit(0);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // A child of a supervisor (local mode) is given a stdin pipe that closes when the parent
  // dies, however it dies: then stop as on SIGTERM (or at once while still starting)
  // rather than live on as an orphan holding ports and the engine lease.
  let started = false;
  if (process.env.TP_PARENT_LIFELINE === "stdin") {
    let gone = false;
    const parentGone = (): void => {
      if (gone) return;
      gone = true;
      if (started || attached !== undefined) process.kill(process.pid, "SIGTERM");
      else process.exit(1);
    };
    process.stdin.once("end", parentGone);
    process.stdin.once("close", parentGone);
    process.stdin.resume();
  }
  const profiling = startAllocationProfile(name);
  const context: ServiceContext = { attach: (shutdown) => (attached = shutdown) };
  profiling
    .then(() => main(config, context))
    .then(
      async ({ shutdown, grpcPort, opsPort }) => {
        attached = shutdown;
        if (signalled || shutdown.started) return; // stopping already: never say ready
        const stopProfile = await profiling;
        // Added last, so it runs first at shutdown, while the process is still whole.
        if (stopProfile !== undefined) shutdown.add("allocation profile", stopProfile);
        started = true;
        process.stdout.write(JSON.stringify({ ready: true, grpcPort, opsPort }) + "\n");
      },
      (err: unknown) => {
        // Start-up cut short by a signal's shutdown (connections drained under it): the
        // shutdown exits when its steps are done.
        if (signalled) return;
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
