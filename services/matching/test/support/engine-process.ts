import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = resolve(fileURLToPath(new URL("../../src/main.ts", import.meta.url)));
const READY_TIMEOUT_MS = 60_000;

export interface EngineProcessOptions {
  readonly natsUrl: string | readonly string[];
  readonly venue: string;
  readonly partition?: number;
  readonly instanceId: string;
  readonly instruments: readonly object[];
  readonly env?: Record<string, string>;
}

const live = new Set<EngineProcess>();

/** The engine service as a real child process (so tests can SIGKILL it). */
export class EngineProcess {
  /** Kills every engine process a test started and left running (call from afterAll). */
  static async killAll(): Promise<void> {
    await Promise.all([...live].map((e) => e.signal("SIGKILL")));
  }

  private child: ChildProcess | undefined;
  private output = "";
  grpcPort = 0;
  opsPort = 0;
  private readonly options: EngineProcessOptions;
  private readonly configFile: string;

  constructor(options: EngineProcessOptions) {
    this.options = options;
    const dir = mkdtempSync(join(tmpdir(), "tp-engine-"));
    this.configFile = join(dir, "engine.json");
    writeFileSync(this.configFile, JSON.stringify({ instruments: options.instruments }));
  }

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const o = this.options;
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN], {
      env: {
        ...process.env,
        TP_CONFIG_FILE: this.configFile,
        TP_NATS_URL: typeof o.natsUrl === "string" ? o.natsUrl : o.natsUrl.join(","),
        TP_VENUE: o.venue,
        TP_PARTITION: String(o.partition ?? 0),
        TP_INSTANCE_ID: o.instanceId,
        TP_GRPC_PORT: "0",
        TP_OPS_PORT: "0",
        TP_GRPC_HOST: "127.0.0.1",
        TP_OPS_HOST: "127.0.0.1",
        TP_LOG_LEVEL: "info",
        ...o.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    live.add(this);
    child.once("exit", () => live.delete(this));
    const record = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stderr?.on("data", record);
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`engine not ready in ${READY_TIMEOUT_MS} ms:\n${this.output}`)),
        READY_TIMEOUT_MS,
      );
      child.stdout?.on("data", (chunk: Buffer) => {
        record(chunk);
        for (const line of chunk.toString().split("\n")) {
          if (!line.startsWith('{"ready":true')) continue;
          const ready = JSON.parse(line) as { grpcPort: number; opsPort: number };
          this.grpcPort = ready.grpcPort;
          this.opsPort = ready.opsPort;
          clearTimeout(timer);
          resolveReady();
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`engine exited before ready (code ${code}, signal ${signal}):\n${this.output}`));
      });
    });
  }

  /** GET an ops endpoint as JSON. */
  async ops<T>(path: string): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${this.opsPort}${path}`);
    return (await res.json()) as T;
  }

  async waitForSeq(seq: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`engine exited while waiting for ${seq}:\n${this.output}`);
      let status: { lastCommandSeq: number };
      try {
        status = await this.ops<{ lastCommandSeq: number }>("/status");
      } catch (err) {
        throw new Error(`engine ops endpoint failed (${(err as Error).message}):\n${this.output}`);
      }
      if (status.lastCommandSeq >= seq) return;
      if (Date.now() > deadline)
        throw new Error(
          `engine stuck at ${status.lastCommandSeq}, wanted ${seq}; status ${JSON.stringify(status)}\n${this.output}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return Promise.resolve();
    return new Promise((resolveExit) => {
      child.once("exit", () => resolveExit());
      child.kill(signal);
    });
  }
}
