import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync } from "node:fs";
import { LogTail } from "./log-tail.ts";
import { DEFAULT_BACKOFF, nextRestart, type BackoffPolicy } from "./backoff.ts";
import { formatLogLine } from "./log-lines.ts";

export interface ProcessSpec {
  /** Short name shown as the log prefix, e.g. "engine-0". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Every line the process writes goes here, as written. */
  readonly logFile: string;
}

export interface SupervisorEvents {
  /** A line a child wrote, formatted for a terminal; called only when echoing is on. */
  readonly onLine?: (name: string, line: string) => void;
  /** A child exited while it should be running, and will start again after delayMs. */
  readonly onCrash?: (name: string, code: number | null, signal: string | null, delayMs: number) => void;
}

interface Supervised {
  readonly spec: ProcessSpec;
  readonly tail: LogTail | undefined;
  child: ChildProcess | undefined;
  startedAt: number;
  quickCrashes: number;
  restarts: number;
  restartTimer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

/**
 * Runs child processes and keeps them running: a child that exits while not asked to is
 * started again after a growing delay. Each child's output goes to its log file and,
 * formatted, to onLine. stop() ends them in the reverse order of start.
 */
export class Supervisor {
  private readonly children: Supervised[] = [];
  private stopping = false;
  private readonly policy: BackoffPolicy;
  private readonly events: SupervisorEvents;

  constructor(events: SupervisorEvents = {}, policy: BackoffPolicy = DEFAULT_BACKOFF) {
    this.events = events;
    this.policy = policy;
  }

  start(spec: ProcessSpec): void {
    const onLine = this.events.onLine;
    const entry: Supervised = {
      spec,
      tail:
        onLine === undefined ? undefined : new LogTail(spec.logFile, (line) => onLine(spec.name, formatLogLine(line))),
      child: undefined,
      startedAt: 0,
      quickCrashes: 0,
      restarts: 0,
      restartTimer: undefined,
      exited: Promise.resolve(),
    };
    this.children.push(entry);
    this.launch(entry);
  }

  /** Name, pid and restart count of every child. */
  status(): { name: string; pid: number | undefined; restarts: number; running: boolean }[] {
    return this.children.map((c) => ({
      name: c.spec.name,
      pid: c.child?.pid,
      restarts: c.restarts,
      running: c.child !== undefined && c.child.exitCode === null && c.child.signalCode === null,
    }));
  }

  private launch(entry: Supervised): void {
    const { spec } = entry;
    // The child writes its output straight to its log file, never through us: a child whose
    // parent died must still be able to log its way through a clean shutdown.
    const out = openSync(spec.logFile, "a");
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env, TP_PARENT_LIFELINE: "stdin" },
      // Our end of its stdin closes when we die, however we die: the child then stops itself.
      stdio: ["pipe", out, out],
      // Its own process group: a Ctrl-C in the terminal reaches only us, and we stop the
      // children in order.
      detached: true,
    });
    closeSync(out);
    entry.child = child;
    entry.startedAt = Date.now();
    entry.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        resolve();
        if (this.stopping) return;
        const { delayMs, quickCrashes } = nextRestart(this.policy, entry.quickCrashes, Date.now() - entry.startedAt);
        entry.quickCrashes = quickCrashes;
        appendFileSync(
          spec.logFile,
          `--- supervisor: exited (code ${code}, signal ${signal}); restarting in ${delayMs} ms\n`,
        );
        this.events.onCrash?.(spec.name, code, signal, delayMs);
        entry.restartTimer = setTimeout(() => {
          entry.restarts++;
          if (!this.stopping) this.launch(entry);
        }, delayMs);
      });
    });
    child.once("error", (err) =>
      appendFileSync(spec.logFile, `--- supervisor: cannot start ${spec.command}: ${err.message}\n`),
    );
  }

  /** Stops every child, newest first: SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const entry of [...this.children].reverse()) {
      clearTimeout(entry.restartTimer);
      const child = entry.child;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await entry.exited;
        clearTimeout(killer);
      }
      entry.tail?.stop();
    }
  }
}
