import type { Logger } from "./logger.ts";

type Step = { readonly name: string; readonly run: () => Promise<void> | void };

const DEFAULT_SHUTDOWN_GRACE_MS = 15_000;

/**
 * Ordered, idempotent shutdown. Steps run in reverse order of registration (last
 * started, first stopped), each awaited; a step that throws is logged and the rest
 * still run. SIGTERM and SIGINT trigger it (see runService); a second signal exits at once.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;
  private readonly logger: Logger;
  private readonly graceMs: number;

  constructor(logger: Logger, graceMs = DEFAULT_SHUTDOWN_GRACE_MS) {
    this.logger = logger;
    this.graceMs = graceMs;
  }

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  /** Whether a shutdown has begun (a signal, or run() called). */
  get started(): boolean {
    return this.running !== undefined;
  }

  /**
   * What a process does on SIGTERM or SIGINT: run the steps, then exit 0; exit 1 if they take
   * longer than the grace period; exit 130 at once on a second signal.
   */
  onSignal(signal: NodeJS.Signals): void {
    if (this.running !== undefined) {
      this.logger.warn({ signal }, "second signal: exiting now");
      process.exit(130);
    }
    this.logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      this.logger.error({ graceMs: this.graceMs }, "shutdown grace period passed: exiting");
      process.exit(1);
    }, this.graceMs);
    timer.unref();
    void this.run().then(() => process.exit(0));
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of [...this.steps].reverse()) {
        try {
          await step.run();
        } catch (err) {
          this.logger.error({ err, step: step.name }, "shutdown step failed");
        }
      }
    })();
    return this.running;
  }
}
