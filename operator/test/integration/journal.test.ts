import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperatorProcess, retry, StandInCollector, type KubeCluster } from "@tradeplane/testkit";
import { conditionOf, OperatorCluster, type ObservedChild, type ObservedCondition } from "./operator-cluster.ts";

/**
 * The journal proof point: the real operator (a process, as the user bound to
 * manifests/rbac/operator.yaml) against a real kube-apiserver and controller-manager and a
 * real nats-server; the test plays the kubelet. The database URL lives in a Secret the
 * test creates, as a venue operator would: it must reach the pod as a file and nowhere else.
 */

const NS = "journal";
const VENUE = "jv";
const DATABASE_URL = "postgres://journal:do-not-leak-0123@db.example:5432/journal";

let kube: KubeCluster;
let cluster: OperatorCluster;
let operator: OperatorProcess;
/** The operator's own traces go here (one span per reconcile). */
let collector: StandInCollector;

interface Venue {
  metadata: { uid: string };
  status?: { conditions?: ObservedCondition[] };
}

const venuePath = `/apis/tradeplane.io/v1alpha1/namespaces/${NS}/tradingvenues/${VENUE}`;
const CHILDREN = {
  ServiceAccount: `/api/v1/namespaces/${NS}/serviceaccounts/${VENUE}-journal`,
  ConfigMap: `/api/v1/namespaces/${NS}/configmaps/${VENUE}-journal-config`,
  Service: `/api/v1/namespaces/${NS}/services/${VENUE}-journal`,
  Deployment: `/apis/apps/v1/namespaces/${NS}/deployments/${VENUE}-journal`,
  PodDisruptionBudget: `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/${VENUE}-journal`,
  NetworkPolicy: `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/${VENUE}-journal`,
  DatabasePolicy: `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/${VENUE}-journal-database`,
} as const;
const child = (kind: keyof typeof CHILDREN) => kube.request<ObservedChild>("GET", CHILDREN[kind]);

const VENUE_YAML = (enabled: boolean) => `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata: { name: ${VENUE}, namespace: ${NS} }
spec:
  instruments: [{ symbol: RELIANCE, referencePrice: 130000 }]
  streams: { storage: memory }
  journal:
    enabled: ${enabled}
    databaseUrlSecret: { name: ${VENUE}-journal-db }
`;

/** The venue once JournalReady (absent: `undefined`) is as asked and Ready is True at `generation`. */
async function venueWith(generation: number, journal: string | undefined): Promise<Venue> {
  return retry(async () => {
    const v = (await kube.request<Venue>("GET", venuePath)).body;
    const r = conditionOf(v, "Ready");
    if (
      conditionOf(v, "JournalReady")?.status !== journal ||
      r?.status !== "True" ||
      r.observedGeneration !== generation
    )
      throw new Error(`venue not as expected: ${JSON.stringify(v.status?.conditions)}`);
    return v;
  }, 90_000);
}

beforeAll(async () => {
  cluster = await OperatorCluster.start(NS);
  ({ kube } = cluster);
  // The venue operator's Secret: the URL given on stdin, as a file would be, not as an argument.
  await kube.kubectl(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${VENUE}-journal-db`, namespace: NS },
      stringData: { "database-url": DATABASE_URL },
    }),
  );
  collector = await new StandInCollector().start();
  operator = new OperatorProcess(
    await cluster.operatorArgs(
      "--tracing",
      "otlp",
      "--otlp-endpoint",
      collector.endpoint,
      "--trace-resource-attribute",
      "k8s.cluster.name=journal-test",
    ),
  );
  await operator.start();
}, 300_000);

afterAll(async () => {
  await operator?.stop("SIGKILL");
  await cluster?.stop();
  await collector?.close();
});

describe("the operator deploying a venue's journal", () => {
  it("creates its children, owned by the venue, with the database URL only as a file of the named Secret", async () => {
    await kube.kubectl(["apply", "-f", "-"], VENUE_YAML(true));
    const v = await venueWith(1, "True");
    expect(conditionOf(v, "JournalReady")).toMatchObject({ reason: "Available", observedGeneration: 1 });
    for (const kind of Object.keys(CHILDREN) as (keyof typeof CHILDREN)[]) {
      const r = await child(kind);
      expect(r.status, kind).toBe(200);
      expect(r.body.metadata.ownerReferences, kind).toEqual([
        expect.objectContaining({ kind: "TradingVenue", name: VENUE, uid: v.metadata.uid, controller: true }),
      ]);
    }
    const deployment = (await child("Deployment")).body;
    expect(deployment.spec).toMatchObject({ replicas: 1, strategy: { type: "Recreate" } });
    expect(JSON.stringify(deployment)).toContain(`"secretName":"${VENUE}-journal-db"`);
    const config = (await child("ConfigMap")).body.data!["config.yaml"]!;
    expect(config).toContain("databaseUrlFile: /var/run/secrets/tradeplane/journal-db/database-url");
    for (const kind of Object.keys(CHILDREN) as (keyof typeof CHILDREN)[])
      expect(JSON.stringify((await child(kind)).body), kind).not.toContain("do-not-leak");
  }, 180_000);

  it("removes them, and JournalReady, when the journal is disabled; the database Secret stays", async () => {
    await kube.kubectl(["apply", "-f", "-"], VENUE_YAML(false));
    await venueWith(2, undefined);
    await retry(async () => {
      for (const kind of Object.keys(CHILDREN) as (keyof typeof CHILDREN)[]) {
        const status = (await child(kind)).status;
        if (status !== 404) throw new Error(`${kind} still there (${status})`);
      }
    }, 60_000);
    expect((await kube.request("GET", `/api/v1/namespaces/${NS}/secrets/${VENUE}-journal-db`)).status).toBe(200);
  }, 180_000);

  it("puts an embedded database on a volume that outlives the venue (deletionPolicy Retain)", async () => {
    await kube.kubectl(["apply", "-f", "-"], VENUE_YAML(true).replace(/ {4}databaseUrlSecret: .*\n/, ""));
    await venueWith(3, "True");
    const claim = await kube.request<ObservedChild>(
      "GET",
      `/api/v1/namespaces/${NS}/persistentvolumeclaims/${VENUE}-journal-data`,
    );
    expect(claim.status).toBe(200);
    expect(claim.body.metadata.ownerReferences).toBeUndefined();
    expect(claim.body.spec).toMatchObject({ resources: { requests: { storage: "10Gi" } } });
    expect((await child("ConfigMap")).body.data!["config.yaml"]).toContain("pgliteDir: /var/lib/tradeplane/journal");
    expect((await child("DatabasePolicy")).status).toBe(404);
  }, 180_000);

  it("traces its reconciles to an OTLP collector, one span per reconcile", async () => {
    const spans = await retry(async () => {
      const found = collector.spans.filter((x) => x.name === "reconcile TradingVenue");
      expect(found.length).toBeGreaterThan(0);
      return found;
    }, 60_000);
    expect(spans.every((x) => x.service === "operator")).toBe(true);
    // Each reconcile is a trace of its own: nothing on the operator's side starts one for it.
    expect(spans.every((x) => x.parentSpanId === "")).toBe(true);
  });
});
