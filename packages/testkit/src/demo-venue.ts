import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./binaries.ts";
import { CLI_BIN, runTradeplane, type CliRun } from "./cli-run.ts";
import { localPortBase, venueCount } from "./local-venue.ts";
import { OrderEntryCalls } from "./order-entry-calls.ts";

const PORT_ATTEMPTS = 5;
/** A command over a venue's logs (a backtest over its command log) reads more than a quick one. */
const CLI_TIMEOUT_MS = 120_000;

/** What `tradeplane up` writes to `<data dir>/local.json` that tests use. */
export interface DemoVenueState {
  readonly endpoints: {
    readonly orderEntry: string;
    readonly marketData: string;
    readonly riskAdmin: string;
    /** The strategy runtimes' ops endpoints (/metrics), by StrategyDeployment name. */
    readonly strategies?: readonly { readonly name: string; readonly ops: string }[];
  };
  readonly accounts: readonly { readonly name: string; readonly token: string }[];
  readonly adminToken: string;
  readonly natsUrl: string;
  readonly natsToken: string;
  readonly natsPid?: number;
}

/**
 * The demo venue of `examples/venue.yaml` run for real by `tradeplane up --headless` in a
 * temp folder (its own nats-server, engine, risk gateway and market-data processes, and the
 * strategies of any StrategyDeployments given), for tests of clients that need the whole
 * order path. The demo venue alone is quiet: nothing trades but what the test sends.
 */
export class DemoVenue {
  readonly dir: string;
  readonly state: DemoVenueState;
  /** The venue's order entry, called as its accounts. */
  readonly orders: OrderEntryCalls;
  private readonly child: ChildProcess;

  private constructor(dir: string, child: ChildProcess, state: DemoVenueState) {
    this.dir = dir;
    this.child = child;
    this.state = state;
    this.orders = ordersOf(state);
  }

  /** `manifests`: files passed as `-f` (default: the demo venue). */
  static async start(...manifests: string[]): Promise<DemoVenue> {
    if (manifests.length === 0) manifests.push(join(REPO_ROOT, "examples", "venue.yaml"));
    // The base is free, the 11 ports after it may not be (other tests bind ports too): `up`
    // says so and exits, and another base is tried.
    for (let attempt = 1; ; attempt++) {
      const dir = mkdtempSync(join(tmpdir(), "tp-demo-venue-"));
      try {
        return await DemoVenue.startIn(dir, manifests);
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        if (attempt >= PORT_ATTEMPTS || !/is in use/.test((err as Error).message)) throw err;
      }
    }
  }

  private static async startIn(dir: string, manifests: readonly string[]): Promise<DemoVenue> {
    // Below the kernel's ephemeral range: a base from freePort() sat among the ports the
    // venue's own processes take for their outgoing connections, and a second venue's engine
    // (at base + 100) once found its port taken by one of them while it started.
    const base = await localPortBase(venueCount(manifests));
    const child = spawn(
      process.execPath,
      [
        CLI_BIN,
        "--data-dir",
        dir,
        "up",
        "--headless",
        ...manifests.flatMap((m) => ["-f", m]),
        "--port-base",
        String(base),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(" is up")) resolve();
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) =>
        reject(new Error(`tradeplane up exited ${code} before the venue was up:\n${output}`)),
      );
    });
    const state = JSON.parse(readFileSync(join(dir, "local.json"), "utf8")) as DemoVenueState;
    return new DemoVenue(dir, child, state);
  }

  tokenOf(account: string): string {
    return tokenIn(this.state, account);
  }

  /** The data folder of another venue `up` runs with the first (several TradingVenues given). */
  dirOf(venue: string): string {
    return join(this.dir, "venues", venue);
  }

  /** The state (endpoints, tokens) of another venue `up` runs with the first. */
  stateOf(venue: string): DemoVenueState {
    return JSON.parse(readFileSync(join(this.dirOf(venue), "local.json"), "utf8")) as DemoVenueState;
  }

  /** The order entry of another venue `up` runs with the first, called as its accounts. */
  ordersOn(venue: string): OrderEntryCalls {
    return ordersOf(this.stateOf(venue));
  }

  /** Runs one CLI command against this venue's data folder. */
  cli(...args: string[]): Promise<CliRun> {
    return runTradeplane(["--data-dir", this.dir, ...args], CLI_TIMEOUT_MS);
  }

  /** Pids of this venue's service processes whose environment mentions `service` ("" = all). */
  servicePids(service = ""): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^[0-9]+$/.test(entry)) continue;
      try {
        const env = readFileSync(`/proc/${entry}/environ`, "utf8");
        if (env.includes(`TP_CONFIG_FILE=${this.dir}/`) && (service === "" || env.includes(service)))
          pids.push(Number(entry));
      } catch {
        // gone, or not ours to read
      }
    }
    return pids;
  }

  /** Stops `up` (SIGINT), then kills anything of the venue left behind and removes its folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGINT");
      await exited;
    }
    let others: string[] = [];
    try {
      others = readdirSync(join(this.dir, "venues")).map((v) => join(this.dirOf(v), "local.json"));
    } catch {
      // one venue
    }
    for (const file of [join(this.dir, "local.json"), ...others])
      try {
        const { natsPid } = JSON.parse(readFileSync(file, "utf8")) as DemoVenueState;
        if (natsPid !== undefined) process.kill(natsPid, "SIGKILL");
      } catch {
        // no state, or already gone
      }
    for (const pid of this.servicePids()) process.kill(pid, "SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function ordersOf(state: DemoVenueState): OrderEntryCalls {
  return new OrderEntryCalls(state.endpoints.orderEntry, (account) => tokenIn(state, account));
}

function tokenIn(state: DemoVenueState, account: string): string {
  const a = state.accounts.find((x) => x.name === account);
  if (a === undefined) throw new Error(`no demo account ${account}`);
  return a.token;
}
