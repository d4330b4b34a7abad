import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { findBinary } from "./binaries.ts";
import { freePort } from "./free-port.ts";
import { reapOnExit } from "./child-reaper.ts";

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;

export interface NatsServerOptions {
  /** Store directory for JetStream; a fresh temp directory when omitted. */
  readonly storeDir?: string;
  /** Client port; a free one when omitted. */
  readonly port?: number;
  /** Server name; required to be unique inside a cluster. */
  readonly name?: string;
  /** Cluster settings for a clustered server. */
  readonly cluster?: { readonly name: string; readonly port: number; readonly routes: readonly number[] };
  /**
   * Clients must present this token. The server reads it from a config file that only this
   * user may read (0600), never from its command line, which every user sees in `ps`.
   */
  readonly token?: string;
  /**
   * TLS for clients (PEM files, e.g. from ThrowawayPki): the server's certificate and key;
   * with `caFile` and `verify`, clients must present a certificate that CA signed.
   */
  readonly tls?: {
    readonly certFile: string;
    readonly keyFile: string;
    readonly caFile?: string;
    readonly verify?: boolean;
  };
  /** Decentralised JWT authentication: clients need `.creds` files of this operator's users. */
  readonly trust?: { serverConfig(): string };
}

/** A real `nats-server -js` child process on loopback. */
export class NatsServer {
  private child: ChildProcess | undefined;
  private output = "";
  private ownsStoreDir: boolean;
  readonly port: number;
  readonly storeDir: string;
  private readonly options: NatsServerOptions;
  /** The 0600 config file holding the token, when there is one. */
  private configFile: string | undefined;

  private constructor(port: number, storeDir: string, options: NatsServerOptions, ownsStoreDir: boolean) {
    this.port = port;
    this.storeDir = storeDir;
    this.options = options;
    this.ownsStoreDir = ownsStoreDir;
  }

  /** Starts a server and waits until it accepts clients. */
  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const port = options.port ?? (await freePort());
    const ownsStoreDir = options.storeDir === undefined;
    const storeDir = options.storeDir ?? (await mkdtemp(join(tmpdir(), "tradeplane-nats-")));
    const server = new NatsServer(port, storeDir, options, ownsStoreDir);
    server.configFile = await writeServerConfig(options);
    await server.launch();
    return server;
  }

  get url(): string {
    // A server with TLS tells clients so in its INFO; they upgrade on the same URL.
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The server's process id while it runs (benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The server's recent stdout and stderr, for failure messages. */
  get recentOutput(): string {
    return this.output;
  }

  private args(): string[] {
    const { cluster, name } = this.options;
    const args = ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.storeDir];
    if (name !== undefined) args.push("-n", name);
    if (this.configFile !== undefined) args.push("-c", this.configFile);
    if (cluster !== undefined) {
      args.push("--cluster_name", cluster.name, "--cluster", `nats://127.0.0.1:${cluster.port}`);
      const routes = cluster.routes.map((p) => `nats://127.0.0.1:${p}`).join(",");
      if (routes.length > 0) args.push("--routes", routes);
    }
    return args;
  }

  private async launch(): Promise<void> {
    const binary = findBinary("nats-server", "NATS_SERVER_BIN");
    const child = spawn(binary, this.args(), { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    reapOnExit(child);
    const record = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on("data", record);
    child.stderr?.on("data", record);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        child.kill("SIGKILL");
        reject(new Error(`nats-server on port ${this.port} not ready in ${READY_TIMEOUT_MS} ms:\n${this.output}`));
      }, READY_TIMEOUT_MS);
      const onData = (): void => {
        if (this.output.includes("Server is ready")) {
          cleanup();
          resolve();
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        cleanup();
        reject(new Error(`nats-server exited early (code ${code}, signal ${signal}):\n${this.output}`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        child.stderr?.off("data", onData);
        child.stdout?.off("data", onData);
        child.off("exit", onExit);
      };
      child.stderr?.on("data", onData);
      child.stdout?.on("data", onData);
      child.once("exit", onExit);
    });
  }

  /** Stops the server gracefully (SIGTERM, then SIGKILL after a grace period). */
  async stop(): Promise<void> {
    await this.signalAndWait("SIGTERM");
  }

  /** Kills the server without a chance to flush: a crash. */
  async kill(): Promise<void> {
    await this.signalAndWait("SIGKILL");
  }

  /** Starts the server again on the same port and store directory. */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    this.output = "";
    await this.launch();
  }

  /** Stops the server and removes the store directory if this object created it. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.configFile !== undefined) {
      await rm(dirname(this.configFile), { recursive: true, force: true });
      this.configFile = undefined;
    }
    if (this.ownsStoreDir) {
      await rm(this.storeDir, { recursive: true, force: true });
      this.ownsStoreDir = false;
    }
  }

  private signalAndWait(signal: NodeJS.Signals): Promise<void> {
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

/**
 * The settings nats-server takes only from a config file, or that must stay off its command
 * line (every user sees that in `ps`): the token, TLS and operator trust. Written readable by
 * this user alone into a temp dir of its own; undefined when there are none.
 */
async function writeServerConfig(options: NatsServerOptions): Promise<string | undefined> {
  const { token, tls, trust } = options;
  const lines: string[] = [];
  if (token !== undefined) lines.push("authorization {", `  token: ${JSON.stringify(token)}`, "}");
  if (tls !== undefined)
    lines.push(
      "tls {",
      `  cert_file: ${JSON.stringify(tls.certFile)}`,
      `  key_file: ${JSON.stringify(tls.keyFile)}`,
      ...(tls.caFile !== undefined ? [`  ca_file: ${JSON.stringify(tls.caFile)}`] : []),
      ...(tls.verify === true ? ["  verify: true"] : []),
      "}",
    );
  if (trust !== undefined) lines.push(trust.serverConfig());
  if (lines.length === 0) return undefined;
  const file = join(await mkdtemp(join(tmpdir(), "tradeplane-nats-conf-")), "nats-server.conf");
  await writeFile(file, lines.join("\n") + "\n", { mode: 0o600 });
  // writeFile's mode is masked by the umask: make sure.
  await chmod(file, 0o600);
  return file;
}

/** Three (or more) clustered JetStream servers on loopback, for replication tests. */
export class NatsCluster {
  readonly servers: readonly NatsServer[];

  private constructor(servers: readonly NatsServer[]) {
    this.servers = servers;
  }

  static async start(size = 3, name = "tradeplane-test"): Promise<NatsCluster> {
    const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const servers = await Promise.all(
      clientPorts.map((port, i) =>
        NatsServer.start({
          port,
          name: `${name}-${i}`,
          cluster: { name, port: clusterPorts[i]!, routes: clusterPorts.filter((_, j) => j !== i) },
        }),
      ),
    );
    const cluster = new NatsCluster(servers);
    await cluster.waitForJetStream();
    return cluster;
  }

  get urls(): string[] {
    return this.servers.map((s) => s.url);
  }

  /** Waits until the JetStream meta group has a leader, so streams can be created. */
  async waitForJetStream(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const live = this.servers.filter((s) => s.running).map((s) => s.url);
    const nc = await connect({ servers: live });
    try {
      for (;;) {
        try {
          const jsm = await jetstreamManager(nc, { timeout: 2_000 });
          await jsm.getAccountInfo();
          return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error("JetStream cluster did not elect a meta leader", { cause: err });
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      await nc.close();
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.dispose()));
  }
}

/** Waits until JetStream answers on a connection (after a server restart or an election). */
export async function waitForJetStream(nc: NatsConnection, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const jsm = await jetstreamManager(nc, { timeout: 1_000 });
      await jsm.getAccountInfo();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error("JetStream did not answer", { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Connects to a test server with settings that suit tests (fast reconnects, names). */
export function connectTo(servers: string | readonly string[], name = "tradeplane-test"): Promise<NatsConnection> {
  return connect({
    servers: typeof servers === "string" ? servers : [...servers],
    name,
    reconnectTimeWait: 100,
    maxReconnectAttempts: -1,
  });
}
