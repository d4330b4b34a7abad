import { chmodSync, chownSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildImages,
  Container,
  freePort,
  KubeCluster,
  KubeletPlayer,
  NatsServer,
  REPO_ROOT,
  retry,
  type AuditEvent,
} from "@tradeplane/testkit";

/**
 * The operator's image, run by podman the way the chart's restricted pod runs it (its
 * non-root user, read-only root filesystem, no capabilities, no privilege gain), against
 * the testkit's real kube-apiserver, etcd and kube-controller-manager and a nats-server on
 * the host. Its identity is a user bound to manifests/rbac/operator.yaml's least-privilege
 * role, its kubeconfig a read-only mount as from a Secret. It becomes ready, reconciles
 * examples/venue.yaml into the venue's children, and stops on SIGTERM within its grace
 * period, having written nothing into its own filesystem.
 */

const NS = "markets";
const SYSTEM_NS = "tradeplane-system";
const OPERATOR_USER = "tradeplane-operator";
/** The image's user (the Dockerfile's `node`), as the chart's securityContext names it. */
const OPERATOR_UID = 1000;
/** The chart's terminationGracePeriodSeconds for the operator (the kubelet's default). */
const GRACE_SECONDS = 30;
/** Exit code of a container that had to be killed: 128 + SIGKILL. */
const KILLED = 137;
const KUBECONFIG_DIR = "/var/run/tradeplane/kube";

interface Condition {
  type: string;
  status: string;
  reason: string;
  observedGeneration?: number;
}
interface Venue {
  metadata: { uid: string; generation: number; finalizers?: string[] };
  status?: { conditions?: Condition[] };
}
interface Named {
  metadata: { name: string; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
}

let kube: KubeCluster;
let nats: NatsServer;
let kubelet: KubeletPlayer;
let image: string;
let operator: Container;
let opsPort: number;

/**
 * A kubeconfig for `user` with its certificates inline, so that one read-only file (as a
 * Secret's key) is all the container needs; the files it names live in the cluster's temp
 * dir, which the container cannot see.
 */
async function mountableKubeconfig(user: string): Promise<string> {
  const config = JSON.parse(readFileSync(await kube.kubeconfigFor(user), "utf8")) as {
    clusters: { cluster: Record<string, string> }[];
    users: { user: Record<string, string> }[];
  };
  const inline = (o: Record<string, string>, fileKey: string) => {
    o[`${fileKey}-data`] = readFileSync(o[fileKey]!).toString("base64");
    delete o[fileKey];
  };
  for (const { cluster } of config.clusters) inline(cluster, "certificate-authority");
  for (const { user: u } of config.users) {
    inline(u, "client-certificate");
    inline(u, "client-key");
  }
  const dir = mkdtempSync(join(tmpdir(), "tp-operator-kube-"));
  const file = join(dir, "kubeconfig");
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  // As a Secret volume with fsGroup: readable by the pod's user only.
  chownSync(file, OPERATOR_UID, OPERATOR_UID);
  chmodSync(dir, 0o755);
  return dir;
}

const venuePath = `/apis/tradeplane.io/v1alpha1/namespaces/${NS}/tradingvenues/demo`;
const getVenue = async () => (await kube.request<Venue>("GET", venuePath)).body;
const getLease = async () =>
  (
    await kube.request<{ spec: { holderIdentity?: string | null } }>(
      "GET",
      `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM_NS}/leases/tradeplane-operator`,
    )
  ).body;
const list = async (path: string) => (await kube.request<{ items: Named[] }>("GET", path)).body.items ?? [];

beforeAll(async () => {
  const [built] = await buildImages(["operator"]);
  image = built!.image;
  [kube, nats] = await Promise.all([KubeCluster.start(), NatsServer.start()]);
  await kube.kubectl(["apply", "-f", join(REPO_ROOT, "manifests/crds/")]);
  await kube.kubectl(["create", "namespace", NS]);
  await kube.kubectl(["create", "namespace", SYSTEM_NS]);
  // The operator's user gets exactly the role the chart installs.
  const rbac = readFileSync(join(REPO_ROOT, "manifests/rbac/operator.yaml"), "utf8").replaceAll(
    "- kind: ServiceAccount\n    name: tradeplane-operator\n    namespace: tradeplane-system",
    `- kind: User\n    name: ${OPERATOR_USER}\n    apiGroup: rbac.authorization.k8s.io`,
  );
  await kube.kubectl(["apply", "-f", "-"], rbac);
  kubelet = new KubeletPlayer(kube, NS);
  kubelet.start();
}, 25 * 60_000);

afterAll(async () => {
  kubelet?.stop();
  await Container.removeAll();
  await nats?.stop();
  await kube?.dispose();
});

describe("the operator's image, run as the chart's restricted pod", () => {
  it("becomes ready on the real API server as its least-privilege user", async () => {
    opsPort = await freePort();
    operator = await Container.run({
      image,
      mounts: [{ source: await mountableKubeconfig(OPERATOR_USER), target: KUBECONFIG_DIR }],
      env: { POD_NAMESPACE: SYSTEM_NS },
      args: [
        "--kubeconfig",
        `${KUBECONFIG_DIR}/kubeconfig`,
        "--nats-url",
        nats.url,
        "--namespace",
        NS,
        "--ops-host",
        "127.0.0.1",
        "--ops-port",
        String(opsPort),
      ],
    });
    await retry(async () => {
      const state = await operator.state();
      if (state.status === "exited") throw new Error(`operator exited ${state.exitCode}:\n${await operator.logs()}`);
      const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
      if (res.status !== 200) throw new Error(`/readyz ${res.status}`);
    }, 90_000);

    const processes = await operator.processes();
    expect(processes.map((p) => p.command.split(" ")[0])).toEqual(["/usr/bin/tini", "node"]);
    for (const p of processes) expect(p).toMatchObject({ uid: OPERATOR_UID, gid: OPERATOR_UID, noNewPrivs: true });
    for (const p of processes) expect(p.capEff).toBe(0n);
    // It leads: the Lease its role allows, in its own namespace, is its.
    await retry(async () => expect((await getLease()).spec.holderIdentity).toBeTruthy());
  });

  it("reconciles examples/venue.yaml into its children, each owned by the venue, and reports Ready", async () => {
    await kube.kubectl(["-n", NS, "apply", "-f", join(REPO_ROOT, "examples/venue.yaml")]);
    const ready = await retry(async () => {
      const v = await getVenue();
      const c = v.status?.conditions?.find((x) => x.type === "Ready");
      if (c?.status !== "True" || c.observedGeneration !== v.metadata.generation)
        throw new Error(`demo not ready: ${JSON.stringify(v.status?.conditions)}\n${await operator.logs()}`);
      return v;
    }, 120_000);
    expect(ready.metadata.finalizers).toContain("tradeplane.io/streams");

    const children = new Map<string, Named[]>();
    for (const [kind, path] of [
      ["StatefulSet", `/apis/apps/v1/namespaces/${NS}/statefulsets`],
      ["Deployment", `/apis/apps/v1/namespaces/${NS}/deployments`],
      ["Service", `/api/v1/namespaces/${NS}/services`],
      ["ConfigMap", `/api/v1/namespaces/${NS}/configmaps?labelSelector=tradeplane.io/venue=demo`],
    ] as const)
      children.set(kind, await list(path));
    // The example's instruments all sit on partition 0: one engine StatefulSet. Its journal is
    // on (embedded, on a volume of its own): a Deployment beside risk and market data.
    expect(children.get("StatefulSet")!.map((s) => s.metadata.name)).toEqual(["demo-engine-0"]);
    expect(
      children
        .get("Deployment")!
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(["demo-journal", "demo-market-data", "demo-risk"]);
    for (const kind of ["Service", "ConfigMap"]) expect(children.get(kind)!.length, kind).toBeGreaterThan(0);
    for (const [kind, items] of children)
      for (const child of items)
        expect(child.metadata.ownerReferences, `${kind} ${child.metadata.name}`).toEqual([
          expect.objectContaining({ kind: "TradingVenue", name: "demo", uid: ready.metadata.uid, controller: true }),
        ]);

    // Everything it wrote, it wrote as its own user: the role was enough.
    const denied = (await kube.auditEvents()).filter(
      (e: AuditEvent) => e.user.username === OPERATOR_USER && e.responseStatus?.code === 403,
    );
    expect(denied).toEqual([]);
  });

  it("stops on SIGTERM within its grace period with exit code 0 and has written nothing outside its volumes", async () => {
    const state = await operator.stop(GRACE_SECONDS);
    const logs = await operator.logs();
    expect(state.exitCode, logs).not.toBe(KILLED);
    expect(state.exitCode, logs).toBe(0);
    // A leader hands its Lease back as it goes, so a standby takes over at once.
    expect(logs).toContain('"msg":"leader lease released"');
    expect((await getLease()).spec.holderIdentity ?? null).toBeNull();
    expect(await operator.writes()).toEqual([]);
  });
});
