import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./binaries.ts";

const MAIN = join(REPO_ROOT, "operator/src/main.ts");
const READY_TIMEOUT_MS = 60_000;
const LOG_TAIL_CHARS = 200_000;

/**
 * The operator as a real child process on the pinned Node (`node operator/src/main.ts`),
 * ready when it prints `{"ready":true,"opsPort":N}`; tests stop it with SIGTERM (graceful:
 * it releases its Lease) or SIGKILL (a crash).
 */
export class OperatorProcess {
  private child: ChildProcess | undefined;
  private output = "";
  opsPort = 0;
  private readonly args: readonly string[];

  constructor(args: readonly string[]) {
    this.args = args;
  }

  get log(): string {
    return this.output;
  }

  /** The child's process id (signals such as a heap snapshot's); undefined before start. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    this.output = "";
    const child = spawn(process.execPath, [MAIN, "--ops-port", "0", "--ops-host", "127.0.0.1", ...this.args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString("utf8")).slice(-LOG_TAIL_CHARS);
    };
    child.stderr!.on("data", keep);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`operator not ready in ${READY_TIMEOUT_MS} ms:\n${this.output}`)),
        READY_TIMEOUT_MS,
      );
      child.stdout!.on("data", (chunk: Buffer) => {
        keep(chunk);
        const line = this.output.split("\n").find((l) => l.startsWith('{"ready":true'));
        if (line === undefined) return;
        this.opsPort = (JSON.parse(line) as { opsPort: number }).opsPort;
        clearTimeout(timer);
        resolve();
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`operator exited (${code ?? signal}) before ready:\n${this.output}`));
      });
    });
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** One metric's value from /metrics (summed over the label sets that match `labels`). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.opsPort}/metrics`)).text();
    let sum = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith(name)) continue;
      const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      if (match === null || match[1] !== name) continue;
      const set = match[2] ?? "";
      if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3]);
    }
    return sum;
  }
}
