/**
 * Process health as a set of named checks. Liveness is "the event loop answers";
 * readiness is "every check is ok". The same state drives /readyz and gRPC health.
 */
export type CheckState = "ok" | "starting" | "degraded" | "down";

export interface CheckStatus {
  readonly state: CheckState;
  readonly detail?: string | undefined;
}

export interface HealthReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, CheckStatus>>;
}

type Listener = (ready: boolean) => void;

export class Health {
  private readonly checks = new Map<string, CheckStatus>();
  private readonly listeners: Listener[] = [];
  private lastReady = false;

  /** Declares a check in state "starting"; the process is not ready until it is ok. */
  register(name: string): void {
    if (!this.checks.has(name)) this.set(name, "starting");
  }

  set(name: string, state: CheckState, detail?: string): void {
    this.checks.set(name, { state, detail });
    const ready = this.report().ready;
    if (ready !== this.lastReady) {
      this.lastReady = ready;
      for (const listener of this.listeners) listener(ready);
    }
  }

  /** Called with the new readiness whenever it flips. */
  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  report(): HealthReport {
    const checks: Record<string, CheckStatus> = {};
    let ready = this.checks.size > 0;
    for (const [name, status] of this.checks) {
      checks[name] = status;
      if (status.state !== "ok") ready = false;
    }
    return { ready, checks };
  }
}
