import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary, findKubeBinary } from "./binaries.ts";
import { ControlPlaneProcess } from "./control-plane-process.ts";
import { freePort } from "./free-port.ts";
import { ThrowawayPki, type IssuedCert } from "./throwaway-pki.ts";

const ETCD_READY_MS = 30_000;
/** kube-apiserver installs its CRD, RBAC and priority-and-fairness defaults before /readyz
 * answers 200: tens of seconds on two busy cores. */
const APISERVER_READY_MS = 120_000;
const CONTROLLER_MANAGER_READY_MS = 60_000;
const KUBECTL_MAX_OUTPUT = 16 * 1024 * 1024;

/** Writes are audited at Metadata level (who, what, response code) and nothing else, so a
 * test counts an operator's writes by reading the log. */
export const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

export interface KubeClusterOptions {
  /** Also run kube-controller-manager (StatefulSet, Deployment, ReplicaSet, garbage
   * collector, namespace and service-account controllers). Default true. */
  readonly controllerManager?: boolean;
}

/** One write the API server audited (the fields tests read; the log line has more). */
export interface AuditEvent {
  readonly verb: string;
  readonly requestURI: string;
  readonly user: { readonly username: string; readonly groups?: readonly string[] };
  readonly userAgent?: string;
  readonly objectRef?: {
    readonly resource?: string;
    readonly namespace?: string;
    readonly name?: string;
    readonly apiGroup?: string;
    readonly subresource?: string;
  };
  readonly responseStatus?: { readonly code?: number };
}

export interface KubeResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/**
 * A real Kubernetes control plane for tests, as envtest runs one: etcd, kube-apiserver and
 * (optionally) kube-controller-manager on free loopback ports in a temp dir, with serving
 * certificates from a throwaway CA, an admin kubeconfig (system:masters), service-account
 * signing keys and an audit log of writes. No kubelet and no scheduler run: tests play the
 * kubelet by writing pods' status.
 */
export class KubeCluster {
  readonly dir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** A kubeconfig whose user is in system:masters. */
  readonly kubeconfig: string;
  readonly auditLog: string;
  private readonly pki: ThrowawayPki;
  private readonly processes: ControlPlaneProcess[];
  private readonly admin: Agent;

  private constructor(
    parts: { dir: string; server: string; kubeconfig: string; auditLog: string; pki: ThrowawayPki; admin: Agent },
    processes: ControlPlaneProcess[],
  ) {
    this.dir = parts.dir;
    this.server = parts.server;
    this.kubeconfig = parts.kubeconfig;
    this.auditLog = parts.auditLog;
    this.pki = parts.pki;
    this.admin = parts.admin;
    this.processes = processes;
  }

  /** Starts the control plane and waits until each part is ready. Throws
   * MissingBinaryError (with how to get the binaries) when one is not installed. */
  static async start(options: KubeClusterOptions = {}): Promise<KubeCluster> {
    const binaries = {
      etcd: findKubeBinary("etcd"),
      apiserver: findKubeBinary("kube-apiserver"),
      controllerManager: options.controllerManager === false ? undefined : findKubeBinary("kube-controller-manager"),
    };
    const dir = await mkdtemp(join(tmpdir(), "tp-kube-"));
    const pki = await ThrowawayPki.create("tradeplane-test-kube-ca");
    const processes: ControlPlaneProcess[] = [];
    try {
      const [etcdPort, peerPort, apiPort, kcmPort] = await Promise.all([
        freePort(),
        freePort(),
        freePort(),
        freePort(),
      ]);
      const server = `https://127.0.0.1:${apiPort}`;
      const [serving, adminCert, serviceAccount] = await Promise.all([
        pki.server("localhost"),
        pki.client("tradeplane-test-admin", ["system:masters"]),
        pki.signingKey("service-account"),
      ]);
      const kubeconfig = join(dir, "admin.kubeconfig");
      await writeFile(kubeconfig, kubeconfigText(server, pki.ca.certFile, adminCert), { mode: 0o600 });
      const auditLog = join(dir, "audit.log");
      await writeFile(join(dir, "audit-policy.yaml"), AUDIT_POLICY);
      const admin = new Agent({
        ca: await readFile(pki.ca.certFile),
        cert: await readFile(adminCert.certFile),
        key: await readFile(adminCert.keyFile),
        keepAlive: true,
      });

      const etcdUrl = `http://127.0.0.1:${etcdPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      const etcd = new ControlPlaneProcess(
        "etcd",
        binaries.etcd,
        [
          ...["--name", "default", "--data-dir", join(dir, "etcd")],
          ...["--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl],
          ...["--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl],
          ...["--initial-cluster", `default=${peerUrl}`, "--log-level", "warn"],
          // Test data need not survive a power cut; fsync on a shared disk slows every write.
          "--unsafe-no-fsync",
        ],
        join(dir, "etcd.log"),
      );
      processes.push(etcd);
      await etcd.start(async () => (await plainGet(`${etcdUrl}/health`)).includes('"health":"true"'), ETCD_READY_MS);

      const apiserver = new ControlPlaneProcess(
        "kube-apiserver",
        binaries.apiserver,
        [
          ...["--etcd-servers", etcdUrl, "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1"],
          // The default Service's endpoints would point at a loopback address, which the
          // reconciler refuses; nothing in a test reaches the API server through that Service.
          "--endpoint-reconciler-type=none",
          ...["--secure-port", String(apiPort), "--cert-dir", join(dir, "apiserver-certs")],
          ...["--tls-cert-file", serving.certFile, "--tls-private-key-file", serving.keyFile],
          ...["--client-ca-file", pki.ca.certFile, "--authorization-mode", "RBAC"],
          ...["--service-account-issuer", "https://kubernetes.default.svc.cluster.local"],
          ...["--service-account-key-file", serviceAccount.publicKeyFile],
          ...["--service-account-signing-key-file", serviceAccount.keyFile],
          // Cluster IPs are only allocated, never routed: no kube-proxy runs.
          ...["--service-cluster-ip-range", "10.0.0.0/24", "--allow-privileged=true"],
          ...["--audit-policy-file", join(dir, "audit-policy.yaml"), "--audit-log-path", auditLog],
          ...["--audit-log-format", "json", "--audit-log-mode", "blocking"],
        ],
        join(dir, "kube-apiserver.log"),
      );
      processes.push(apiserver);
      const cluster = new KubeCluster({ dir, server, kubeconfig, auditLog, pki, admin }, processes);
      await apiserver.start(async () => (await cluster.request("GET", "/readyz")).status === 200, APISERVER_READY_MS);

      if (binaries.controllerManager !== undefined) {
        const controllerManager = new ControlPlaneProcess(
          "kube-controller-manager",
          binaries.controllerManager,
          [
            ...["--kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig],
            ...["--authorization-kubeconfig", kubeconfig, "--leader-elect=false"],
            ...["--bind-address", "127.0.0.1", "--secure-port", String(kcmPort), "--cert-dir", join(dir, "kcm-certs")],
            ...["--service-account-private-key-file", serviceAccount.keyFile, "--root-ca-file", pki.ca.certFile],
            "--use-service-account-credentials=false",
          ],
          join(dir, "kube-controller-manager.log"),
        );
        processes.push(controllerManager);
        await mkdir(join(dir, "kcm-certs"), { recursive: true });
        // /healthz is always allowed; the controller manager serves it with a self-signed certificate.
        await controllerManager.start(
          async () => (await insecureGet(`https://127.0.0.1:${kcmPort}/healthz`)) === 200,
          CONTROLLER_MANAGER_READY_MS,
        );
      }
      return cluster;
    } catch (err) {
      for (const p of [...processes].reverse()) await p.stop();
      await pki.dispose();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** A request to the API server as the admin; a JSON body is sent as JSON unless
   * `contentType` says otherwise (e.g. application/apply-patch+yaml). */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<KubeResponse<T>> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      const req = httpsRequest(
        `${this.server}${path}`,
        {
          method,
          agent: this.admin,
          headers: {
            accept: "application/json",
            ...(payload === undefined
              ? {}
              : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // plain text (e.g. /readyz): keep the string
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Runs the real kubectl against this cluster as the admin. Rejects with stderr on a
   * non-zero exit. */
  kubectl(args: readonly string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        findBinary("kubectl"),
        ["--kubeconfig", this.kubeconfig, ...args],
        { encoding: "utf8", maxBuffer: KUBECTL_MAX_OUTPUT },
        (err, stdout, stderr) => {
          if (err)
            reject(Object.assign(new Error(`kubectl ${args.join(" ")}: ${stderr.trim() || err.message}`), { stderr }));
          else resolve(stdout);
        },
      );
      child.stdin?.end(input);
    });
  }

  /** A kubeconfig for another user (client certificate with CN `user` and O `groups`), so
   * that a component under test runs with its own identity and RBAC. */
  async kubeconfigFor(user: string, groups: readonly string[] = []): Promise<string> {
    const cert = await this.pki.client(user, groups);
    const file = join(this.dir, `${user.replace(/[^A-Za-z0-9_-]/g, "_")}.kubeconfig`);
    await writeFile(file, kubeconfigText(this.server, this.pki.ca.certFile, cert), { mode: 0o600 });
    return file;
  }

  /** Every write audited so far, in order. */
  async auditEvents(): Promise<AuditEvent[]> {
    const text = await readFile(this.auditLog, "utf8").catch(() => "");
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as AuditEvent);
  }

  /** Stops the API server (SIGTERM, or SIGKILL for a crash) and starts it again on the same
   * port and etcd: watches break and clients must relist, as after an upgrade. */
  async restartApiServer(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const apiserver = this.processes.find((p) => p.name === "kube-apiserver")!;
    await apiserver.stop(signal);
    await apiserver.start(async () => (await this.request("GET", "/readyz")).status === 200, APISERVER_READY_MS);
  }

  /** Stops the controller manager, the API server and etcd, and removes the temp dir. */
  async dispose(): Promise<void> {
    for (const p of [...this.processes].reverse()) await p.stop();
    this.admin.destroy();
    await this.pki.dispose();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A kubeconfig in JSON (which is YAML) with one cluster, one user and one context. */
function kubeconfigText(server: string, caFile: string, user: IssuedCert): string {
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "test", cluster: { server, "certificate-authority": caFile } }],
      users: [{ name: "test", user: { "client-certificate": user.certFile, "client-key": user.keyFile } }],
      contexts: [{ name: "test", context: { cluster: "test", user: "test", namespace: "default" } }],
      "current-context": "test",
    },
    null,
    2,
  );
}

function plainGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpRequest(url, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString("utf8")));
      res.on("end", () => resolve(text));
    })
      .on("error", reject)
      .end();
  });
}

function insecureGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    })
      .on("error", reject)
      .end();
  });
}
