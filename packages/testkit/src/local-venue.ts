import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { REPO_ROOT } from "./binaries.ts";
import { CLI_BIN, runTradeplane, type CliRun } from "./cli-run.ts";

/** The venue `npm start` runs. */
export const EXAMPLE_VENUE = join(REPO_ROOT, "examples", "venue.yaml");
/** The strategies `npm start` runs against it: a market maker, noise and momentum takers. */
export const EXAMPLE_STRATEGIES = join(REPO_ROOT, "examples", "demo-strategies.yaml");

export interface UpOptions {
  /** Files given as `-f` (default: the demo venue alone, no strategies: a quiet market). */
  readonly manifests?: readonly string[];
  /** First of the ports local mode uses; a free range when omitted. */
  readonly portBase?: number;
}

/** Ports local mode takes from its base (nats-server, services, engines of a few partitions). */
const LOCAL_PORT_SPAN = 40;
/** Bases are drawn below Linux's ephemeral range (32768-60999), where the kernel never hands
 * out ports for other tests' outgoing connections while a venue starts. */
const BASE_RANGE = [20_000, 32_000] as const;

/** Ports between two venues' bases when local mode runs several (the second at base + 100). */
export const VENUE_PORT_STRIDE = 100;

/**
 * A base whose ports are all free now (each checked by binding it): LOCAL_PORT_SPAN of them
 * for one venue, and a stride more for each further venue.
 */
export async function localPortBase(venues = 1): Promise<number> {
  const span = LOCAL_PORT_SPAN + VENUE_PORT_STRIDE * (venues - 1);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = BASE_RANGE[0] + Math.floor(Math.random() * (BASE_RANGE[1] - BASE_RANGE[0] - span));
    let free = true;
    for (let port = base; port < base + span && free; port++) free = await canBind(port);
    if (free) return base;
  }
  throw new Error(`no ${span} free ports in a row between ${BASE_RANGE[0]} and ${BASE_RANGE[1]}`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * `tradeplane up --headless` in a temp data folder, driven as a user drives it: the real CLI
 * in child processes, its own nats-server and service processes. `cleanup()` kills whatever a
 * failed test left running (the `up` process, its nats-server, its services) and removes the
 * folder.
 */
export class LocalVenueRun {
  readonly dir = mkdtempSync(join(tmpdir(), "tp-local-"));
  private readonly ups: ChildProcess[] = [];

  /** Runs one CLI command against this venue's data folder. */
  cli(...args: string[]): Promise<CliRun> {
    return runTradeplane(["--data-dir", this.dir, ...args]);
  }

  /** Runs a CLI command with --json and parses its output; a non-zero exit throws with the output. */
  async json<T>(...args: string[]): Promise<T> {
    const run = await this.cli("--json", ...args);
    if (run.code !== 0) throw new Error(`tradeplane ${args.join(" ")} exited ${run.code}: ${run.stderr}${run.stdout}`);
    return JSON.parse(run.stdout) as T;
  }

  /** Starts `up` and resolves once it says the venue is up; its output is kept for failures. */
  async up(options: UpOptions = {}): Promise<{ child: ChildProcess; output: () => string }> {
    const manifests = options.manifests ?? [EXAMPLE_VENUE];
    const portBase = options.portBase ?? (await localPortBase(venueCount(manifests)));
    const child = spawn(
      process.execPath,
      [
        CLI_BIN,
        "--data-dir",
        this.dir,
        "up",
        "--headless",
        ...manifests.flatMap((m) => ["-f", m]),
        "--port-base",
        String(portBase),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.ups.push(child);
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/venue "[^"]+" is up/.test(output)) resolve();
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => reject(new Error(`up exited ${code} before the venue was up:\n${output}`)));
    });
    return { child, output: () => output };
  }

  /** Stops an `up` as Ctrl-C does and resolves with its exit code. */
  static stop(child: ChildProcess): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    return exited;
  }

  /** The local state file `up` writes (endpoints and tokens). */
  state<T = Record<string, unknown>>(): T {
    return JSON.parse(readFileSync(join(this.dir, "local.json"), "utf8")) as T;
  }

  /** Pids of the service processes configured from this data folder (Linux /proc). */
  servicePids(): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^[0-9]+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/environ`, "utf8").includes(`TP_CONFIG_FILE=${this.dir}/`))
          pids.push(Number(entry));
      } catch {
        // gone, or not ours to read
      }
    }
    return pids;
  }

  /** Kills what is left (after a failure too) and removes the data folder. */
  cleanup(): void {
    for (const child of this.ups) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    try {
      const { natsPid } = this.state<{ natsPid?: number }>();
      if (natsPid !== undefined) process.kill(natsPid, "SIGKILL");
    } catch {
      // no state, or already gone
    }
    for (const pid of this.servicePids()) process.kill(pid, "SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** How many TradingVenues the manifests hold (local mode runs each on its own block of ports). */
export function venueCount(manifests: readonly string[]): number {
  let venues = 0;
  for (const file of manifests)
    venues += (readFileSync(file, "utf8").match(/^kind:\s*TradingVenue\s*$/gm) ?? []).length;
  return Math.max(1, venues);
}
