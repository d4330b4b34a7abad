import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { reapOnExit } from "./child-reaper.ts";

const OUTPUT_TAIL_CHARS = 6_000;
const STOP_TIMEOUT_MS = 15_000;
const POLL_MS = 250;

/**
 * One process of a test control plane (etcd, kube-apiserver, kube-controller-manager): its
 * whole output kept in a log file for after-the-fact reading, the tail in memory for
 * failure messages, and a readiness probe polled until it answers or the process dies.
 */
export class ControlPlaneProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private tail = "";
  readonly name: string;
  private readonly binary: string;
  private readonly args: readonly string[];
  private readonly logFile: string;

  constructor(name: string, binary: string, args: readonly string[], logFile: string) {
    this.name = name;
    this.binary = binary;
    this.args = args;
    this.logFile = logFile;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last few thousand characters the process wrote. */
  get recentOutput(): string {
    return this.tail;
  }

  /** Starts the process and polls `ready` until it resolves true. */
  async start(ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const child = spawn(this.binary, this.args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    reapOnExit(child);
    const log = createWriteStream(this.logFile, { flags: "a" });
    this.log = log;
    const record = (chunk: Buffer): void => {
      log.write(chunk);
      this.tail = (this.tail + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on("data", record);
    child.stderr?.on("data", record);
    child.once("exit", () => log.end());
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running)
        throw new Error(
          `${this.name} exited during start (code ${child.exitCode}, signal ${child.signalCode}); ` +
            `its log is ${this.logFile}:\n${this.tail}`,
        );
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`${this.name} was not ready in ${timeoutMs} ms; its log is ${this.logFile}:\n${this.tail}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves when the process has exited. */
  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }
}
