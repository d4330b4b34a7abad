import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, readdirSync } from "node:fs";
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { MissingBinaryError } from "./binaries.ts";
import { freePort } from "./free-port.ts";
import { reapOnExit } from "./child-reaper.ts";

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const OUTPUT_TAIL_CHARS = 4_000;
/** Debian installs each major version's server binaries here, off PATH. */
const DEBIAN_ROOT = "/usr/lib/postgresql";
/** The account Debian's postgresql package creates; the server runs as it when we are root. */
const SERVER_USER = "postgres";
const HINT =
  "Run `npm run setup` (installs Debian's postgresql package) or `apt-get install postgresql`, " +
  "or point POSTGRES_BIN_DIR at a folder holding initdb and postgres.";

export interface PostgresServerOptions {
  /** Client port on 127.0.0.1; a free one when omitted. */
  readonly port?: number;
  /**
   * fsync and synchronous commit (default true, as in production). False trades durability
   * across a machine crash for speed; a killed client still sees only committed rows.
   */
  readonly durable?: boolean;
}

/** The folder holding Debian's initdb and postgres (the newest major version), or POSTGRES_BIN_DIR. */
export function findPostgresBinDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const dirs = env.POSTGRES_BIN_DIR ? [env.POSTGRES_BIN_DIR] : listVersions().map((v) => join(DEBIAN_ROOT, v, "bin"));
  for (const dir of dirs) {
    try {
      accessSync(join(dir, "initdb"), constants.X_OK);
      accessSync(join(dir, "postgres"), constants.X_OK);
      return dir;
    } catch {
      // not this one; try the next version
    }
  }
  throw new MissingBinaryError("postgres (initdb and postgres under /usr/lib/postgresql/*/bin)", HINT);
}

function listVersions(): string[] {
  try {
    return readdirSync(DEBIAN_ROOT)
      .filter((v) => /^[0-9]+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    return [];
  }
}

/** uid and gid of an account, or undefined when it does not exist. */
function accountIds(name: string): { uid: number; gid: number } | undefined {
  const r = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const g = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/**
 * A real PostgreSQL server (`initdb` + `postgres`) on a free loopback port, its cluster and
 * unix socket in a fresh temp directory, removed by `dispose()`. The superuser `postgres`
 * signs in over TCP with a random password (scram-sha-256), which never appears on a
 * command line: initdb reads it from a 0600 file that is deleted right after.
 *
 * PostgreSQL refuses to run as root ("root execution of the PostgreSQL server is not
 * permitted"), so when the tests run as root (containers, CI) both binaries run as the
 * `postgres` account that Debian's package creates, through `setpriv`, which execs the
 * binary in place: the child we hold is the postmaster itself, so our signals reach it
 * (runuser and su fork and sit in between). The temp directory is handed to that account.
 */
export class PostgresServer {
  private child: ChildProcess | undefined;
  private output = "";
  readonly port: number;
  readonly dir: string;
  private readonly password: string;
  private readonly binDir: string;
  private readonly runAs: { uid: number; gid: number } | undefined;
  private readonly durable: boolean;

  private constructor(fields: {
    port: number;
    dir: string;
    password: string;
    binDir: string;
    runAs: { uid: number; gid: number } | undefined;
    durable: boolean;
  }) {
    this.port = fields.port;
    this.dir = fields.dir;
    this.password = fields.password;
    this.binDir = fields.binDir;
    this.runAs = fields.runAs;
    this.durable = fields.durable;
  }

  /** Creates a cluster and starts the server; resolves once it accepts connections. */
  static async start(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const binDir = findPostgresBinDir();
    let runAs: { uid: number; gid: number } | undefined;
    if (userInfo().uid === 0) {
      runAs = accountIds(SERVER_USER);
      if (runAs === undefined)
        throw new Error(
          `running as root, and PostgreSQL will not run as root: the account "${SERVER_USER}" that ` +
            "Debian's postgresql package creates is missing. " +
            HINT,
        );
    }
    const dir = await mkdtemp(join(tmpdir(), "tradeplane-pg-"));
    const server = new PostgresServer({
      port: options.port ?? (await freePort()),
      dir,
      password: randomBytes(18).toString("base64url"),
      binDir,
      runAs,
      durable: options.durable ?? true,
    });
    try {
      if (runAs !== undefined) await chown(dir, runAs.uid, runAs.gid);
      await server.initdb();
      await server.launch();
    } catch (err) {
      await server.dispose();
      throw err;
    }
    return server;
  }

  /** Connection URL of the superuser, for `database` (default `postgres`). */
  url(database = "postgres"): string {
    return `postgres://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The server's recent output, for failure messages. */
  get recentOutput(): string {
    return this.output;
  }

  private get dataDir(): string {
    return join(this.dir, "data");
  }

  /** argv that runs `binary` as the server account when we are root, else as ourselves. */
  private command(binary: string, args: string[]): [string, string[]] {
    const path = join(this.binDir, binary);
    if (this.runAs === undefined) return [path, args];
    return [
      "setpriv",
      [`--reuid=${this.runAs.uid}`, `--regid=${this.runAs.gid}`, "--clear-groups", "--", path, ...args],
    ];
  }

  private async initdb(): Promise<void> {
    const pwfile = join(this.dir, "pwfile");
    await writeFile(pwfile, `${this.password}\n`, { mode: 0o600 });
    if (this.runAs !== undefined) await chown(pwfile, this.runAs.uid, this.runAs.gid);
    const [cmd, args] = this.command("initdb", [
      "-D",
      this.dataDir,
      "-U",
      "postgres",
      `--pwfile=${pwfile}`,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    const r = spawnSync(cmd, args, { encoding: "utf8", cwd: this.dir });
    await rm(pwfile, { force: true });
    if (r.status !== 0)
      throw new Error(
        `initdb failed (exit ${r.status}, ${r.error?.message ?? "no spawn error"}):\n${r.stdout}${r.stderr}`,
      );
  }

  private async launch(): Promise<void> {
    const settings = [
      "-p",
      String(this.port),
      "-k",
      this.dir,
      "-c",
      "listen_addresses=127.0.0.1",
      ...(this.durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
    ];
    const [cmd, args] = this.command("postgres", ["-D", this.dataDir, ...settings]);
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], cwd: this.dir });
    this.child = child;
    reapOnExit(child);
    const record = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on("data", record);
    child.stderr?.on("data", record);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        child.kill("SIGKILL");
        reject(new Error(`postgres on port ${this.port} not ready in ${READY_TIMEOUT_MS} ms:\n${this.output}`));
      }, READY_TIMEOUT_MS);
      const onData = (): void => {
        if (this.output.includes("database system is ready to accept connections")) {
          cleanup();
          resolve();
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        cleanup();
        reject(new Error(`postgres exited early (code ${code}, signal ${signal}):\n${this.output}`));
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

  /** Stops the server with a fast shutdown (SIGINT: disconnects clients, rolls back their transactions). */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGINT");
    });
  }

  /** Stops the server and removes its temp directory. */
  async dispose(): Promise<void> {
    await this.stop();
    await chmod(this.dir, 0o700).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
