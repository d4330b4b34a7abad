import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { commandSubject, eventSubject, leasesBucket } from "@tradeplane/contracts";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { venueProvisioningPlan } from "@tradeplane/platform";
import { streamNamesOf } from "../../src/controllers/venue-streams.ts";
import {
  connectTo,
  OperatorProcess,
  retry,
  type AuditEvent,
  type KubeCluster,
  type NatsServer,
} from "@tradeplane/testkit";
import { conditionOf, OPERATOR_USER, OperatorCluster, type ObservedCondition } from "./operator-cluster.ts";

/**
 * The operator against a real kube-apiserver, etcd and kube-controller-manager (the
 * StatefulSet, Deployment and garbage-collector controllers act on what it applies) and a
 * real nats-server. No kubelet: KubeletPlayer reports pods ready. The operator runs as its
 * own user bound to manifests/rbac/operator.yaml, so the audit log tells its writes apart
 * and a missing permission fails the test.
 */

const NS = "markets";

let kube: KubeCluster;
let nats: NatsServer;
let nc: NatsConnection;
let cluster: OperatorCluster;
const operators: OperatorProcess[] = [];

/** The operator's image pull Secret (--image-pull-secret), for venues that name none. */
const OPERATOR_PULL_SECRET = "regcred";
/** The image pull Secrets a venue names itself: nse has its own, bse takes the operator's. */
const VENUE_PULL_SECRETS: Record<string, string> = { nse: "  images: { pullSecrets: [nse-registry] }\n" };
/**
 * nse's pods reach NATS over TLS with a CA and a client certificate (the operator itself
 * talks plaintext to the test's nats-server: the venue's pods are never run here).
 */
const VENUE_NATS: Record<string, string> = {
  nse: "  nats: { tls: { caSecret: { name: nats-ca }, clientCertSecret: nse-nats-client } }\n",
};
const NATS_TLS_DIR = "/var/run/secrets/tradeplane/nats-tls";

const venueYaml = (name: string, referencePrice: number, deletionPolicy: "Retain" | "Delete") => `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata: { name: ${name}, namespace: ${NS} }
spec:
  instruments:
    - { symbol: RELIANCE, referencePrice: 130000, partition: 0 }
    - { symbol: INFY, referencePrice: ${referencePrice}, partition: 1 }
  engine: { cpus: 1, memory: 1Gi, standby: true }
  risk: { replicas: 2 }
  streams: { storage: memory }
${VENUE_PULL_SECRETS[name] ?? ""}${VENUE_NATS[name] ?? ""}  deletionPolicy: ${deletionPolicy}
`;

interface Venue {
  metadata: { name: string; uid: string; generation: number; resourceVersion: string; finalizers?: string[] };
  status?: {
    conditions?: ObservedCondition[];
    phase?: string;
    partitions?: Record<string, unknown>[];
    lastCommandSequence?: number;
    sequencesUpdateTime?: string;
  };
}
interface PodSpec {
  imagePullSecrets?: { name: string }[];
  volumes?: { name: string; projected?: { sources: { secret: { name: string } }[] } }[];
  containers?: { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
}
interface Named {
  metadata: { name: string; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
  spec?: { template?: { spec?: PodSpec } } & PodSpec;
}

/** The NATS TLS Secrets a pod spec mounts, and where: `[secrets, mountPath, readOnly]`. */
function natsTlsOf(pod: PodSpec | undefined): [string[], string, boolean] | undefined {
  const volume = pod?.volumes?.find((v) => v.name === "nats-tls");
  const mount = pod?.containers?.[0]?.volumeMounts?.find((m) => m.name === "nats-tls");
  if (volume === undefined || mount === undefined) return undefined;
  return [volume.projected?.sources.map((s) => s.secret.name) ?? [], mount.mountPath, mount.readOnly === true];
}

/** Every JetStream stream of a venue: its streams, KV buckets and object store. */
const streamsOf = (venue: string) => streamNamesOf(venueProvisioningPlan({ venue })).sort();

const venuePath = (name: string) => `/apis/tradeplane.io/v1alpha1/namespaces/${NS}/tradingvenues/${name}`;
const getVenue = async (name: string) => (await kube.request<Venue>("GET", venuePath(name))).body;
const list = async (path: string) => (await kube.request<{ items: Named[] }>("GET", path)).body.items ?? [];

/** Writes the operator made, less its Lease renewals (a leader writes those by design). */
/** The image pull Secrets of each of a venue's StatefulSets and Deployments, by kind and name. */
async function pullSecretsOfPods(venue: string): Promise<Record<string, string[] | undefined>> {
  const selector = `labelSelector=tradeplane.io/venue=${venue}`;
  const workloads = [
    ...(await list(`/apis/apps/v1/namespaces/${NS}/statefulsets?${selector}`)).map((o) => ["StatefulSet", o] as const),
    ...(await list(`/apis/apps/v1/namespaces/${NS}/deployments?${selector}`)).map((o) => ["Deployment", o] as const),
  ];
  return Object.fromEntries(
    workloads.map(([kind, o]) => [
      `${kind}/${o.metadata.name}`,
      o.spec?.template?.spec?.imagePullSecrets?.map((s) => s.name),
    ]),
  );
}

async function operatorWrites(): Promise<AuditEvent[]> {
  return (await kube.auditEvents()).filter(
    (e) => e.user.username === OPERATOR_USER && e.objectRef?.resource !== "leases",
  );
}

async function startOperator(): Promise<OperatorProcess> {
  const op = new OperatorProcess(
    await cluster.operatorArgs(
      "--resync-seconds",
      "5",
      "--sequence-status-seconds",
      "2",
      "--log-level",
      "debug",
      "--image-pull-secret",
      OPERATOR_PULL_SECRET,
    ),
  );
  operators.push(op);
  await op.start();
  return op;
}

async function waitReady(name: string, generation: number): Promise<Venue> {
  return retry(async () => {
    const v = await getVenue(name);
    const ready = conditionOf(v, "Ready");
    if (ready?.status !== "True" || ready.observedGeneration !== generation)
      throw new Error(`venue ${name} not ready at generation ${generation}: ${JSON.stringify(v.status?.conditions)}`);
    return v;
  }, 90_000);
}

beforeAll(async () => {
  cluster = await OperatorCluster.start(NS);
  ({ kube, nats } = cluster);
  nc = await connectTo(nats.url);
}, 300_000);

afterAll(async () => {
  for (const op of operators) await op.stop("SIGKILL");
  await nc?.close();
  await cluster?.stop();
});

describe("the operator reconciling a TradingVenue", () => {
  it("creates the venue's streams and children, each owned by the venue", async () => {
    await startOperator();
    await kube.kubectl(["apply", "-f", "-"], venueYaml("nse", 150000, "Delete"));
    const venue = await retry(async () => {
      const v = await getVenue("nse");
      if (!v.metadata.finalizers?.includes("tradeplane.io/streams")) throw new Error("no finalizer yet");
      return v;
    });
    const sets = await retry(async () => {
      const items = await list(`/apis/apps/v1/namespaces/${NS}/statefulsets`);
      if (items.length < 2) throw new Error(`${items.length} StatefulSets`);
      return items;
    });
    expect(sets.map((s) => s.metadata.name).sort()).toEqual(["nse-engine-0", "nse-engine-1"]);
    for (const path of [
      `/apis/apps/v1/namespaces/${NS}/statefulsets`,
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      `/api/v1/namespaces/${NS}/configmaps?labelSelector=tradeplane.io/venue=nse`,
      `/api/v1/namespaces/${NS}/services`,
      `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`,
      `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`,
    ])
      for (const child of await list(path))
        expect(child.metadata.ownerReferences, `${path} ${child.metadata.name}`).toEqual([
          expect.objectContaining({ kind: "TradingVenue", name: "nse", uid: venue.metadata.uid, controller: true }),
        ]);
    const jsm = await jetstreamManager(nc);
    const streams = (await jsm.streams.names().next()).sort();
    expect(streams).toEqual(streamsOf("nse"));
    expect(streams).toContain("NSE_CMD");
    // Every pod pulls with the Secret the venue names, not the operator's.
    expect(await pullSecretsOfPods("nse")).toEqual({
      "StatefulSet/nse-engine-0": ["nse-registry"],
      "StatefulSet/nse-engine-1": ["nse-registry"],
      "Deployment/nse-risk": ["nse-registry"],
      "Deployment/nse-market-data": ["nse-registry"],
    });
    // Every pod template mounts the venue's NATS TLS Secrets read-only, and so does every
    // pod the StatefulSet and Deployment controllers made of them.
    const tlsMount: [string[], string, boolean] = [["nats-ca", "nse-nats-client"], NATS_TLS_DIR, true];
    const workloads = [
      ...(await list(`/apis/apps/v1/namespaces/${NS}/statefulsets?labelSelector=tradeplane.io/venue=nse`)),
      ...(await list(`/apis/apps/v1/namespaces/${NS}/deployments?labelSelector=tradeplane.io/venue=nse`)),
    ];
    expect(workloads).toHaveLength(4);
    for (const w of workloads) expect(natsTlsOf(w.spec?.template?.spec), w.metadata.name).toEqual(tlsMount);
    const pods = await retry(async () => {
      const items = await list(`/api/v1/namespaces/${NS}/pods?labelSelector=tradeplane.io/venue=nse`);
      // Two engine partitions with a standby each, two risk replicas, one market-data.
      if (items.length < 7) throw new Error(`${items.length} pods`);
      return items;
    }, 60_000);
    for (const pod of pods) expect(natsTlsOf(pod.spec), pod.metadata.name).toEqual(tlsMount);
    const riskConfig = (
      await kube.request<{ data: Record<string, string> }>("GET", `/api/v1/namespaces/${NS}/configmaps/nse-risk-config`)
    ).body.data["config.yaml"];
    expect(riskConfig).toContain(`caFile: ${NATS_TLS_DIR}/ca.crt`);
    expect(riskConfig).toContain(`keyFile: ${NATS_TLS_DIR}/tls.key`);
    // kubectl describe tells the story through Events.
    const events = await kube.request<{ items: { reason: string; involvedObject: { name: string } }[] }>(
      "GET",
      `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name=nse`,
    );
    expect(events.body.items.map((e) => e.reason)).toEqual(
      expect.arrayContaining(["StreamCreated", "StatefulSetCreated", "DeploymentCreated", "SecretCreated"]),
    );
  }, 120_000);

  it("reports Ready=True at the venue's generation once the pods are ready", async () => {
    const venue = await waitReady("nse", 1);
    for (const type of ["StreamsReady", "EngineReady", "RiskReady", "MarketDataReady"])
      expect(conditionOf(venue, type), type).toMatchObject({ status: "True", observedGeneration: 1 });
    expect(venue.status?.phase).toBe("Running");
  }, 120_000);

  it("puts back a stream setting changed behind its back, on the next resync", async () => {
    const jsm = await jetstreamManager(nc);
    const { config } = await jsm.streams.info("NSE_CMD");
    await jsm.streams.update("NSE_CMD", { ...config, duplicate_window: 30 * 1e9 });
    await retry(async () => {
      const window = (await jsm.streams.info("NSE_CMD")).config.duplicate_window;
      if (window !== 120 * 1e9) throw new Error(`duplicate window ${window / 1e9} s`);
    }, 60_000);
    // The operator records the Event after the stream is put back: a read between the two
    // finds the stream right and no Event yet.
    await retry(async () => {
      const events = await kube.request<{ items: { reason: string; message: string }[] }>(
        "GET",
        `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name=nse`,
      );
      expect(events.body.items).toContainEqual(
        expect.objectContaining({
          reason: "StreamUpdated",
          message: expect.stringContaining("duplicate_window 30000000000 -> 120000000000"),
        }),
      );
    }, 30_000);
  }, 120_000);

  it("shows the command log's last sequence in status", async () => {
    expect((await getVenue("nse")).status?.lastCommandSequence).toBe(0);
    await jetstream(nc).publish(commandSubject("nse", 0), new Uint8Array([1]));
    await retry(async () => {
      const seq = (await getVenue("nse")).status?.lastCommandSequence;
      if (seq !== 1) throw new Error(`lastCommandSequence ${seq}`);
    }, 60_000);
  }, 120_000);

  it("reports CpuPinned from the CPUs each partition's primary published with its lease", async () => {
    // The test plays the engines too: a primary's lease value names its pod and its CPUs.
    const leases = await new Kvm(nc).open(leasesBucket("nse"));
    const lease = (p: number, pod: string, cpusAllowed: string) =>
      leases.put(`engine.${p}`, JSON.stringify({ holder: `${pod}/0a1b2c3d`, ttlMs: 5_000, cpusAllowed }));
    await lease(0, "nse-engine-0-0", "3");
    await lease(1, "nse-engine-1-1", "0-7");
    const shared = await retry(async () => {
      const c = conditionOf(await getVenue("nse"), "CpuPinned");
      if (c?.status !== "False") throw new Error(`CpuPinned ${JSON.stringify(c)}`);
      return c;
    }, 60_000);
    expect(shared).toMatchObject({
      reason: "NotPinned",
      message: expect.stringContaining("partition 1: engine may run on CPUs 0-7 (8)"),
    });
    await lease(1, "nse-engine-1-1", "5");
    const venue = await retry(async () => {
      const v = await getVenue("nse");
      if (conditionOf(v, "CpuPinned")?.status !== "True")
        throw new Error(`CpuPinned ${JSON.stringify(conditionOf(v, "CpuPinned"))}`);
      return v;
    }, 60_000);
    expect(venue.status?.partitions).toEqual([
      { partition: 0, ready: true, primary: "nse-engine-0-0", standby: "nse-engine-0-1", cpusAllowed: "3" },
      { partition: 1, ready: true, primary: "nse-engine-1-1", standby: "nse-engine-1-0", cpusAllowed: "5" },
    ]);
  }, 120_000);

  it("shows each partition's applied log sequence, from the id of its last published event", async () => {
    // The test plays the primaries: an event message's id is "<command sequence>-<index>",
    // and command sequence = log entry * 1000 + position (entry 1 holds partition 0's command).
    const js = jetstream(nc);
    await js.publish(eventSubject("nse", 0, "RELIANCE"), new Uint8Array([1]), { msgID: "1000-0" });
    await js.publish(eventSubject("nse", 0, "RELIANCE"), new Uint8Array([2]), { msgID: "1000-1" });
    await js.publish(commandSubject("nse", 1), new Uint8Array([3]));
    await js.publish(eventSubject("nse", 1, "INFY"), new Uint8Array([4]), { msgID: "2000-0" });
    // lastCommandSequence and the partitions' sequences are read one after the other, so a
    // status written between the two publishes may show one moved and not the other: wait
    // for the whole of what is expected.
    const applied = async (want: [number, number], lastCommandSequence: number) =>
      retry(async () => {
        const v = await getVenue("nse");
        const seen = [v.status?.partitions?.map((p) => p.appliedSequence), v.status?.lastCommandSequence];
        if (JSON.stringify(seen) !== JSON.stringify([want, lastCommandSequence]))
          throw new Error(`applied ${JSON.stringify(seen)}`);
        return v;
      }, 60_000);
    const first = await applied([1, 2], 2);
    // Plain objects, not expect.objectContaining: toMatchObject already matches them as subsets,
    // and vitest 5.1 overflows its stack printing a failed toMatchObject that holds one.
    expect(first.status).toMatchObject({
      lastCommandSequence: 2,
      partitions: [
        { partition: 0, primary: "nse-engine-0-0", appliedSequence: 1 },
        { partition: 1, primary: "nse-engine-1-1", appliedSequence: 2 },
      ],
    });
    expect(Date.parse(first.status!.sequencesUpdateTime!)).not.toBeNaN();
    // A sequence that moves again is written too (after --sequence-status-seconds at the latest).
    await js.publish(commandSubject("nse", 0), new Uint8Array([5]));
    await js.publish(eventSubject("nse", 0, "RELIANCE"), new Uint8Array([6]), { msgID: "3000-0" });
    const moved = await applied([3, 2], 3);
    expect(moved.status!.sequencesUpdateTime! > first.status!.sequencesUpdateTime!).toBe(true);
  }, 120_000);

  it("rolls only the changed partition's engine pods, the standby before the primary", async () => {
    const before = (await kube.auditEvents()).length;
    await kube.kubectl(["apply", "-f", "-"], venueYaml("nse", 150500, "Delete"));
    await waitReady("nse", 2);
    await retry(async () => {
      const v = await getVenue("nse");
      if (conditionOf(v, "UpdatePending")?.status !== "False") throw new Error("engine roll not finished");
    }, 90_000);
    const podDeletes = (await kube.auditEvents())
      .slice(before)
      .filter((e) => e.user.username === OPERATOR_USER && e.verb === "delete" && e.objectRef?.resource === "pods")
      .map((e) => e.objectRef?.name);
    // The lease names nse-engine-1-1 the primary: the other pod, the standby, goes first.
    expect(podDeletes).toEqual(["nse-engine-1-0", "nse-engine-1-1"]);
  }, 180_000);

  it("makes no write when restarted with nothing changed", async () => {
    const [op] = operators;
    // "Nothing changed" needs a venue the operator has finished with: after the roll its
    // status can still move (pods becoming ready), and a write it had not made yet would be
    // the restarted operator's to make. Settled: the same resourceVersion 3 s apart.
    await retry(async () => {
      const version = (await getVenue("nse")).metadata.resourceVersion;
      await new Promise((r) => setTimeout(r, 3_000));
      if ((await getVenue("nse")).metadata.resourceVersion !== version) throw new Error("the venue is still changing");
    }, 60_000);
    await op!.stop("SIGTERM");
    // Not an empty status: the venue's partitions carry their applied log sequences.
    expect((await getVenue("nse")).status?.partitions?.map((p) => p.appliedSequence)).toEqual([3, 2]);
    const before = (await operatorWrites()).length;
    const restarted = await startOperator();
    // Two resyncs (5 s each) after the caches synced: every venue has been reconciled again.
    await retry(async () => {
      const n = await restarted.metric("tp_operator_reconciles_total", {
        kind: "TradingVenue",
        result: "success",
      });
      if (n < 3) throw new Error(`${n} reconciles`);
    }, 60_000);
    const ops = `http://127.0.0.1:${restarted.opsPort}`;
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    expect((await fetch(`${ops}/readyz`)).status).toBe(200);
    const writes = (await operatorWrites()).slice(before);
    expect(writes.map((w) => `${w.verb} ${w.objectRef?.resource}/${w.objectRef?.name}`)).toEqual([]);
  }, 120_000);

  it("elects one leader of two replicas, and the other takes over when the leader dies", async () => {
    const first = operators.at(-1)!;
    const second = await startOperator();
    await new Promise((r) => setTimeout(r, 3_000));
    expect([await first.metric("tp_operator_leader"), await second.metric("tp_operator_leader")]).toEqual([1, 0]);
    await first.stop("SIGKILL");
    await retry(async () => {
      if ((await second.metric("tp_operator_leader")) !== 1) throw new Error("no new leader yet");
    }, 60_000);
    // The new leader reconciles: a new venue gets its children.
    await kube.kubectl(["apply", "-f", "-"], venueYaml("bse", 150000, "Retain"));
    await waitReady("bse", 1);
    // bse names no image pull Secrets: its pods pull with the operator's.
    expect(await pullSecretsOfPods("bse")).toEqual({
      "StatefulSet/bse-engine-0": [OPERATOR_PULL_SECRET],
      "StatefulSet/bse-engine-1": [OPERATOR_PULL_SECRET],
      "Deployment/bse-risk": [OPERATOR_PULL_SECRET],
      "Deployment/bse-market-data": [OPERATOR_PULL_SECRET],
    });
  }, 180_000);

  it("refuses to shorten a stream's retention: StreamsReady=False, the stream untouched", async () => {
    const patch = (eventMaxAge: string) =>
      kube.kubectl([
        "patch",
        "tradingvenue",
        "bse",
        "-n",
        NS,
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { streams: { eventMaxAge } } }),
      ]);
    await patch("1d");
    const refused = await retry(async () => {
      const v = await getVenue("bse");
      const streams = conditionOf(v, "StreamsReady");
      if (streams?.status !== "False") throw new Error(`StreamsReady ${JSON.stringify(streams)}`);
      return { streams, ready: conditionOf(v, "Ready") };
    }, 60_000);
    expect(refused.streams).toMatchObject({
      reason: "UnsafeStreamChange",
      message: expect.stringContaining("BSE_EVT: max age 604800 -> 86400 s"),
    });
    expect(refused.ready).toMatchObject({ status: "False", reason: "UnsafeStreamChange" });
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info("BSE_EVT")).config.max_age).toBe(7 * 24 * 3600 * 1e9);
    await patch("7d");
    await waitReady("bse", (await getVenue("bse")).metadata.generation);
  }, 120_000);

  it("touches nothing of a paused venue, and repairs it when resumed", async () => {
    const annotate = (value: string) =>
      kube.kubectl(["annotate", "--overwrite", "tradingvenue", "bse", "-n", NS, `tradeplane.io/paused=${value}`]);
    await annotate("true");
    await retry(async () => {
      if (conditionOf(await getVenue("bse"), "ReconciliationPaused")?.status !== "True")
        throw new Error("not paused yet");
    }, 60_000);
    await kube.kubectl(["delete", "configmap", "bse-risk-config", "-n", NS]);
    const reconciles = await operators.at(-1)!.metric("tp_operator_reconciles_total", { kind: "TradingVenue" });
    await retry(async () => {
      const n = await operators.at(-1)!.metric("tp_operator_reconciles_total", { kind: "TradingVenue" });
      if (n < reconciles + 2) throw new Error("no resync yet");
    }, 60_000);
    expect((await kube.request("GET", `/api/v1/namespaces/${NS}/configmaps/bse-risk-config`)).status).toBe(404);
    await annotate("false");
    await retry(async () => {
      if ((await kube.request("GET", `/api/v1/namespaces/${NS}/configmaps/bse-risk-config`)).status !== 200)
        throw new Error("not recreated yet");
    }, 60_000);
    expect(conditionOf(await getVenue("bse"), "ReconciliationPaused")?.status).toBe("False");
  }, 120_000);

  it("holds engine restarts outside the maintenance windows with UpdatePending", async () => {
    // A window that starts three hours from now: closed for the length of this test.
    const start = new Date(Date.now() + 3 * 3_600_000);
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    const closed = {
      maintenance: { windows: [{ start: hhmm(start), end: hhmm(new Date(start.getTime() + 3_600_000)) }] },
    };
    const patch = (spec: object) =>
      kube.kubectl(["patch", "tradingvenue", "bse", "-n", NS, "--type=merge", "-p", JSON.stringify({ spec })]);
    await patch(closed);
    const before = (await kube.auditEvents()).length;
    const bse = await getVenue("bse");
    const instruments = (bse as unknown as { spec: { instruments: { symbol: string; referencePrice: number }[] } }).spec
      .instruments;
    await patch({
      ...closed,
      instruments: instruments.map((i) => (i.symbol === "RELIANCE" ? { ...i, referencePrice: 130500 } : i)),
    });
    const held = await retry(async () => {
      const c = conditionOf(await getVenue("bse"), "UpdatePending");
      if (c?.status !== "True") throw new Error(`UpdatePending ${JSON.stringify(c)}`);
      return c;
    }, 60_000);
    expect(held.reason).toBe("OutsideMaintenanceWindow");
    const podDeletes = () =>
      kube
        .auditEvents()
        .then((events) =>
          events
            .slice(before)
            .filter(
              (e) => e.user.username === OPERATOR_USER && e.verb === "delete" && e.objectRef?.resource === "pods",
            ),
        );
    expect(await podDeletes()).toEqual([]);
    await patch({ maintenance: { windows: null } });
    await retry(async () => {
      if (conditionOf(await getVenue("bse"), "UpdatePending")?.status !== "False") throw new Error("still held");
    }, 90_000);
    expect((await podDeletes()).map((e) => e.objectRef?.name)).toEqual(["bse-engine-0-1", "bse-engine-0-0"]);
  }, 180_000);

  it("deletes the children of a partition the spec no longer has", async () => {
    const bse = (await getVenue("bse")) as unknown as { spec: { instruments: { symbol: string }[] } };
    const instruments = bse.spec.instruments.filter((i) => i.symbol !== "INFY");
    await kube.kubectl([
      "patch",
      "tradingvenue",
      "bse",
      "-n",
      NS,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { instruments } }),
    ]);
    await retry(async () => {
      const sets = (await list(`/apis/apps/v1/namespaces/${NS}/statefulsets`)).map((s) => s.metadata.name);
      const maps = (await list(`/api/v1/namespaces/${NS}/configmaps`)).map((m) => m.metadata.name);
      if (sets.includes("bse-engine-1") || maps.includes("bse-engine-1-config"))
        throw new Error(`still there: ${sets}`);
    }, 60_000);
    await waitReady("bse", (await getVenue("bse")).metadata.generation);
    expect((await getVenue("bse")).status?.partitions).toEqual([
      expect.objectContaining({ partition: 0, ready: true }),
    ]);
  }, 120_000);

  it("on delete follows deletionPolicy for the streams, and the garbage collector removes the children", async () => {
    await kube.kubectl(["delete", "tradingvenue", "nse", "-n", NS, "--wait=false"]);
    await kube.kubectl(["delete", "tradingvenue", "bse", "-n", NS, "--wait=false"]);
    await retry(async () => {
      const left = await list(`/apis/tradeplane.io/v1alpha1/namespaces/${NS}/tradingvenues`);
      if (left.length > 0) throw new Error(`venues left: ${left.map((v) => v.metadata.name)}`);
    }, 60_000);
    const jsm = await jetstreamManager(nc);
    const streams = (await jsm.streams.names().next()).sort();
    // nse said Delete, bse Retain.
    expect(streams).toEqual(streamsOf("bse"));
    await retry(async () => {
      const sets = await list(`/apis/apps/v1/namespaces/${NS}/statefulsets`);
      const maps = await list(
        `/api/v1/namespaces/${NS}/configmaps?labelSelector=app.kubernetes.io/managed-by=tradeplane-operator`,
      );
      if (sets.length + maps.length > 0)
        throw new Error(`children left: ${sets.length} StatefulSets, ${maps.length} ConfigMaps`);
    }, 90_000);
  }, 180_000);
});
