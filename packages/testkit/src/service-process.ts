import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { reapOnExit } from "./child-reaper.ts";

const READY_TIMEOUT_MS = 60_000;
const OUTPUT_TAIL_CHARS = 20_000;

export interface ServiceProcessOptions {
  /** The service's `src/main.ts`. */
  readonly main: string;
  /** Written to a JSON file passed as TP_CONFIG_FILE. */
  readonly config: object;
  /** TP_* variables (ports default to 0 on loopback). */
  readonly env?: Record<string, string>;
}

const live = new Set<ServiceProcess>();

/**
 * A Tradeplane service as a real child process on the pinned Node: started with its config
 * file and TP_* variables, ready when it prints its `{"ready":true,...}` line, stoppable by
 * any signal (tests SIGKILL it).
 */
export class ServiceProcess {
  /** Kills every service process a test started and left running (call from afterAll). */
  static async killAll(): Promise<void> {
    await Promise.all([...live].map((p) => p.signal("SIGKILL")));
  }

  private child: ChildProcess | undefined;
  private output = "";
  grpcPort = 0;
  opsPort = 0;
  private readonly options: ServiceProcessOptions;
  private readonly configFile: string;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  constructor(options: ServiceProcessOptions) {
    this.options = options;
    this.configFile = join(mkdtempSync(join(tmpdir(), "tp-service-")), "config.json");
    writeFileSync(this.configFile, JSON.stringify(options.config));
  }

  /** The process's recent stdout and stderr (its JSON log lines). */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts the process and resolves once it is ready, or, with `until`, once its output
   * matches `until` (a test that signals it while it starts).
   */
  async start(options: { until?: RegExp } = {}): Promise<void> {
    // A diagnostic: TP_SERVICE_NODE_ARGS adds node and V8 flags that NODE_OPTIONS refuses
    // (such as --trace-pretenuring-statistics) to every service's command line.
    const nodeArgs = (process.env.TP_SERVICE_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", ...nodeArgs, this.options.main], {
      env: {
        ...process.env,
        TP_CONFIG_FILE: this.configFile,
        TP_GRPC_PORT: "0",
        TP_OPS_PORT: "0",
        TP_GRPC_HOST: "127.0.0.1",
        TP_OPS_HOST: "127.0.0.1",
        ...this.options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    reapOnExit(child);
    live.add(this);
    child.once("exit", () => live.delete(this));
    // A diagnostic: with TP_SERVICE_OUTPUT_DIR set, everything the process writes (V8 traces
    // such as --trace-gc-nvp included) is also kept whole in <dir>/<service>-<pid>.log.
    const outputDir = process.env.TP_SERVICE_OUTPUT_DIR;
    const whole =
      outputDir === undefined || outputDir === ""
        ? undefined
        : createWriteStream(join(outputDir, `${basename(dirname(dirname(this.options.main)))}-${child.pid}.log`));
    child.once("exit", () => whole?.end());
    const record = (chunk: Buffer): void => {
      whole?.write(chunk);
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stderr?.on("data", record);
    this.exit = new Promise((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));
    await new Promise<void>((resolveReady, reject) => {
      const until = options.until;
      if (until !== undefined)
        child.stderr?.on("data", () => {
          if (until.test(this.output)) {
            clearTimeout(timer);
            resolveReady();
          }
        });
      const timer = setTimeout(
        () => reject(new Error(`service not ready in ${READY_TIMEOUT_MS} ms:\n${this.output}`)),
        READY_TIMEOUT_MS,
      );
      child.stdout?.on("data", (chunk: Buffer) => {
        record(chunk);
        if (until?.test(this.output) === true) {
          clearTimeout(timer);
          resolveReady();
        }
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
        reject(new Error(`service exited before ready (code ${code}, signal ${signal}):\n${this.output}`));
      });
    });
  }

  /** How the process ended, once it has (its exit code, or the signal that killed it). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exit ?? Promise.reject(new Error("not started"));
  }

  /** The process id while it runs (benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** GET an ops endpoint as JSON. */
  async ops<T>(path: string): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${this.opsPort}${path}`);
    return (await res.json()) as T;
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
