import { execFile, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, relative } from "node:path";
import { findBinary, REPO_ROOT } from "./binaries.ts";

/**
 * Podman settings that work on our machines (runc, cgroupfs, explicit ulimits); used unless
 * CONTAINERS_CONF names another file.
 */
export const CONTAINERS_CONF = join(REPO_ROOT, "scripts", "podman", "containers.conf");

/** Every container the tests start carries this label, so cleanup touches no one else's. */
const TEST_LABEL = "io.tradeplane.test=1";
/**
 * And this one, unique to this test process: tests of several worktrees run on one machine
 * at once, and one's cleanup must not remove the containers another is still using.
 */
const RUN_LABEL = `io.tradeplane.test.run=${process.pid}-${randomBytes(4).toString("hex")}`;

/** Files podman writes into a container's own layer as it starts it, whatever the image. */
const PODMAN_OWN_FILES = ["/etc/mtab", "/run/.containerenv"];

const OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024;

export class PodmanError extends Error {
  override readonly name = "PodmanError";
}

function podmanEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? CONTAINERS_CONF };
}

/** Runs `podman ARGS` and resolves with its stdout; rejects with its stderr when it fails. */
export function podman(args: readonly string[], timeoutMs = 120_000): Promise<string> {
  return podmanOutput(args, timeoutMs).then(({ stdout }) => stdout);
}

/** Runs `podman ARGS` and resolves with its stdout and its stderr. */
function podmanOutput(args: readonly string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> {
  const binary = findBinary("podman");
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { env: podmanEnv(), timeout: timeoutMs, maxBuffer: OUTPUT_LIMIT_BYTES },
      (err, stdout, stderr) => {
        if (err === null) resolve({ stdout, stderr });
        else reject(new PodmanError(`podman ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      },
    );
  });
}

/** One image `scripts/images` built: its name, bytes unpacked and seconds its build took. */
export interface BuiltImage {
  readonly image: string;
  readonly bytes: number;
  readonly buildSeconds: number;
}

/**
 * Builds the images of `components` with `scripts/images` (idempotent: layers are cached, so
 * a second run costs seconds) and returns what it reports. Its progress goes to stderr.
 */
export function buildImages(components: readonly string[], timeoutMs = 20 * 60_000): Promise<BuiltImage[]> {
  findBinary("podman");
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(REPO_ROOT, "scripts", "images"), ...components], {
      env: podmanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0) {
        reject(new PodmanError(`scripts/images exited (code ${code}, signal ${signal}):\n${stderr}`));
        return;
      }
      resolve((JSON.parse(last) as { images: BuiltImage[] }).images);
    });
  });
}

/** A file or folder of the host mounted into a container. */
export interface Mount {
  readonly source: string;
  readonly target: string;
  readonly readOnly?: boolean;
}

export interface ContainerOptions {
  readonly image: string;
  /** Environment variables of the container. */
  readonly env?: Readonly<Record<string, string>>;
  readonly mounts?: readonly Mount[];
  /** Writable in-memory folders (the only writable places of a hardened container). */
  readonly tmpfs?: readonly string[];
  /** Arguments after the image (appended to its entrypoint). */
  readonly args?: readonly string[];
  /**
   * The restricted profile of a Kubernetes pod, as podman says it: the image's own user,
   * read-only root filesystem with no implicit tmpfs, no capabilities, no privilege gain.
   * Default true.
   */
  readonly hardened?: boolean;
}

/** What the kernel says of a process: its user, effective capabilities and no_new_privs. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly command: string;
  readonly uid: number;
  readonly gid: number;
  readonly capEff: bigint;
  readonly noNewPrivs: boolean;
}

export interface ContainerState {
  readonly status: string;
  readonly exitCode: number;
  readonly pid: number;
  readonly startedAt: string;
  readonly finishedAt: string;
}

/**
 * A container run by podman on the host's network (services listen on loopback ports the test
 * picked, as processes would), labelled so that `removeAll` finds it.
 */
export class Container {
  /** Removes every container this test process started (call from afterAll). */
  static async removeAll(): Promise<void> {
    const ids = (await podman(["ps", "-aq", "--filter", `label=${RUN_LABEL}`])).split("\n").filter(Boolean);
    if (ids.length > 0) await podman(["rm", "-f", "-t", "0", ...ids]);
  }

  readonly id: string;
  readonly name: string;

  private constructor(id: string, name: string) {
    this.id = id;
    this.name = name;
  }

  /** Starts a container in the background; resolves once podman has started it. */
  static async run(options: ContainerOptions): Promise<Container> {
    const name = `tp-test-${randomBytes(4).toString("hex")}`;
    const args = ["run", "--detach", "--name", name, "--label", TEST_LABEL, "--label", RUN_LABEL, "--network", "host"];
    if (options.hardened ?? true)
      args.push("--read-only", "--read-only-tmpfs=false", "--cap-drop=all", "--security-opt=no-new-privileges");
    for (const [key, value] of Object.entries(options.env ?? {})) args.push("--env", `${key}=${value}`);
    for (const m of options.mounts ?? [])
      args.push("--volume", `${m.source}:${m.target}${m.readOnly === false ? "" : ":ro"}`);
    for (const path of options.tmpfs ?? []) args.push("--tmpfs", `${path}:rw,nosuid,nodev,size=16m`);
    args.push(options.image, ...(options.args ?? []));
    const id = (await podman(args)).trim();
    return new Container(id, name);
  }

  async state(): Promise<ContainerState> {
    const out = await podman([
      "inspect",
      "--format",
      "{{json .State.Status}} {{.State.ExitCode}} {{.State.Pid}} {{json .State.StartedAt}} {{json .State.FinishedAt}}",
      this.id,
    ]);
    const [status, exitCode, pid, startedAt, finishedAt] = out.trim().split(" ");
    return {
      status: JSON.parse(status!) as string,
      exitCode: Number(exitCode),
      pid: Number(pid),
      startedAt: JSON.parse(startedAt!) as string,
      finishedAt: JSON.parse(finishedAt!) as string,
    };
  }

  /** Everything the container wrote to stdout and stderr. */
  logs(): Promise<string> {
    // `podman logs` writes the container's stderr to its own stderr: a service's last words
    // before it exits ("failed to start: ...") are there, so both are returned.
    return podmanOutput(["logs", this.id]).then(
      ({ stdout, stderr }) =>
        stderr === "" ? stdout : `${stdout}${stdout.endsWith("\n") || stdout === "" ? "" : "\n"}[stderr]\n${stderr}`,
      (err: Error) => `(no logs: ${err.message})`,
    );
  }

  /**
   * The container's processes as the host's kernel sees them: PID 1 (the init) and its
   * descendants, read from /proc.
   */
  async processes(): Promise<ProcessIdentity[]> {
    const { pid } = await this.state();
    const out: ProcessIdentity[] = [];
    const visit = (p: number): void => {
      out.push(identityOf(p));
      const children = readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim();
      for (const child of children.split(" ").filter(Boolean)) visit(Number(child));
    };
    visit(pid);
    return out;
  }

  /**
   * Stops the container as the kubelet stops a pod: SIGTERM to PID 1, SIGKILL after
   * `graceSeconds`. Resolves with its final state (exit code 137 means it was killed).
   */
  async stop(graceSeconds: number): Promise<ContainerState> {
    await podman(["stop", "--time", String(graceSeconds), this.id], (graceSeconds + 30) * 1000);
    return this.state();
  }

  /**
   * Files the container's processes wrote into its root filesystem: everything in its
   * overlay's upper layer except what podman itself puts there when it starts a container
   * (`/etc/mtab` when the image lacks it, `/run/.containerenv`). Volumes and tmpfs mounts are
   * not in the layer.
   */
  async writes(): Promise<string[]> {
    const upper = (await podman(["inspect", "--format", "{{.GraphDriver.Data.UpperDir}}", this.id])).trim();
    const files = readdirSync(upper, { recursive: true, withFileTypes: true })
      .filter((entry) => !entry.isDirectory())
      .map((entry) => `/${relative(upper, join(entry.parentPath, entry.name))}`);
    return files.filter((path) => !PODMAN_OWN_FILES.includes(path)).sort();
  }

  async remove(): Promise<void> {
    await podman(["rm", "-f", "-t", "0", this.id]);
  }
}

function identityOf(pid: number): ProcessIdentity {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): string => {
    const line = status.split("\n").find((l) => l.startsWith(`${name}:`));
    if (line === undefined) throw new Error(`/proc/${pid}/status has no ${name}`);
    return line.slice(name.length + 1).trim();
  };
  const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  return {
    pid,
    command,
    uid: Number(field("Uid").split(/\s+/)[1]),
    gid: Number(field("Gid").split(/\s+/)[1]),
    capEff: BigInt(`0x${field("CapEff")}`),
    noNewPrivs: field("NoNewPrivs") === "1",
  };
}
