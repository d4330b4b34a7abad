import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateAccountRequest,
  OrderEntryClient,
  RiskAdminClient,
  type ListOpenOrdersResponse,
  type ListTokensResponse,
} from "@tradeplane/contracts";
import { bearer, freePort, OperatorProcess, retry, ServiceProcess, unary, type KubeCluster } from "@tradeplane/testkit";
import { conditionOf, OperatorCluster, type ObservedChild, type ObservedCondition } from "./operator-cluster.ts";

/**
 * The FIX gateway proof point: the real operator (a process, as the user bound to
 * manifests/rbac/operator.yaml) against a real kube-apiserver and controller-manager, a
 * TradingVenue with FIX enabled on a real nats-server, and that venue's risk gateway as a
 * local process (`--risk-address`) that issues the sessions' tokens. The test plays the
 * kubelet. The tokens the operator keeps are tried against the gateway's OrderEntry.
 */

const NS = "fix";
const VENUE = "fixv";
const ACCOUNT = "broker-1";

let kube: KubeCluster;
let cluster: OperatorCluster;
let operator: OperatorProcess;
let riskPort: number;
let orderEntry: OrderEntryClient;
let admin: RiskAdminClient;
let tokenOf: (role: string) => string;

interface Venue {
  metadata: { generation: number; uid: string };
  status?: { conditions?: ObservedCondition[] };
}

const venuePath = `/apis/tradeplane.io/v1alpha1/namespaces/${NS}/tradingvenues/${VENUE}`;
const getVenue = async () => (await kube.request<Venue>("GET", venuePath)).body;

/** The FIX gateway's children, by API path. */
const CHILDREN = {
  ServiceAccount: `/api/v1/namespaces/${NS}/serviceaccounts/${VENUE}-fix-gateway`,
  ConfigMap: `/api/v1/namespaces/${NS}/configmaps/${VENUE}-fix-gateway-config`,
  Service: `/api/v1/namespaces/${NS}/services/${VENUE}-fix-gateway`,
  PodDisruptionBudget: `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/${VENUE}-fix-gateway`,
  NetworkPolicy: `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/${VENUE}-fix-gateway`,
  Secret: `/api/v1/namespaces/${NS}/secrets/${VENUE}-fix-session-tokens`,
  Deployment: `/apis/apps/v1/namespaces/${NS}/deployments/${VENUE}-fix-gateway`,
} as const;
const child = async (kind: keyof typeof CHILDREN) => kube.request<ObservedChild>("GET", CHILDREN[kind]);

const listOpenOrders = (token: string) =>
  unary<ListOpenOrdersResponse>((cb) =>
    orderEntry.listOpenOrders({ account: ACCOUNT, instrument: "" }, bearer(token), cb),
  );

const VENUE_YAML = (enabled: boolean) => `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata: { name: ${VENUE}, namespace: ${NS} }
spec:
  instruments: [{ symbol: RELIANCE, referencePrice: 130000 }]
  streams: { storage: memory }
  fix:
    enabled: ${enabled}
    senderCompId: NSEX
    sessions: [{ id: b1, targetCompId: BROKER1, account: ${ACCOUNT} }]
    service:
      type: LoadBalancer
      annotations: { service.beta.kubernetes.io/aws-load-balancer-internal: "true" }
      loadBalancerSourceRanges: [203.0.113.0/24]
`;

/** The venue once FixGatewayReady (or its absence, with `undefined`) and Ready are as asked, at `generation`. */
async function venueWith(generation: number, fix: string | undefined, ready: string, ms = 90_000): Promise<Venue> {
  return retry(async () => {
    const v = await getVenue();
    const f = conditionOf(v, "FixGatewayReady");
    const r = conditionOf(v, "Ready");
    if (f?.status !== fix || r?.status !== ready || r.observedGeneration !== generation)
      throw new Error(`venue not as expected: ${JSON.stringify(v.status?.conditions)}`);
    return v;
  }, ms);
}

beforeAll(async () => {
  cluster = await OperatorCluster.start(NS);
  ({ kube } = cluster);
  riskPort = await freePort();
  operator = new OperatorProcess(
    await cluster.operatorArgs("--risk-address", `${VENUE}=127.0.0.1:${riskPort}`, "--log-level", "debug"),
  );
  await operator.start();
  orderEntry = new OrderEntryClient(`127.0.0.1:${riskPort}`, credentials.createInsecure());
  admin = new RiskAdminClient(`127.0.0.1:${riskPort}`, credentials.createInsecure());
}, 300_000);

afterAll(async () => {
  orderEntry?.close();
  admin?.close();
  await operator?.stop("SIGKILL");
  await ServiceProcess.killAll();
  await cluster?.stop();
});

describe("the operator deploying a venue's FIX gateway", () => {
  it("creates the gateway's config, Service, policy and budget, but no pod while no session has a token", async () => {
    await kube.kubectl(["apply", "-f", "-"], VENUE_YAML(true));
    // The risk Deployment is ready (the test plays its kubelet) but its gateway does not run yet.
    const v = await retry(async () => {
      const v = await venueWith(1, "False", "False");
      if (conditionOf(v, "FixGatewayReady")?.reason !== "SessionTokensFailed") throw new Error("tokens not tried yet");
      // The other workloads become ready as the test's kubelet gets to them: until then Ready
      // names the first of them that is not.
      if (!/^FixGatewayReady: /.test(conditionOf(v, "Ready")?.message ?? ""))
        throw new Error(`Ready waits on something else first: ${conditionOf(v, "Ready")?.message}`);
      return v;
    }, 90_000);
    expect(conditionOf(v, "Ready")?.message).toMatch(/^FixGatewayReady: /);
    for (const kind of ["ServiceAccount", "ConfigMap", "Service", "PodDisruptionBudget", "NetworkPolicy"] as const) {
      const r = await child(kind);
      expect(r.status, kind).toBe(200);
      expect(r.body.metadata.ownerReferences, kind).toEqual([
        expect.objectContaining({ kind: "TradingVenue", name: VENUE, uid: v.metadata.uid, controller: true }),
      ]);
    }
    expect((await child("Deployment")).status).toBe(404);
    expect((await child("Secret")).status).toBe(404);
    const service = (await child("Service")).body.spec as { type: string; loadBalancerSourceRanges: string[] };
    expect(service).toMatchObject({ type: "LoadBalancer", loadBalancerSourceRanges: ["203.0.113.0/24"] });
    expect(JSON.stringify((await child("ConfigMap")).body.data)).toContain(
      "tokenFile: /var/run/secrets/tradeplane/fix/b1",
    );
  }, 180_000);

  it("issues the session's token through the risk gateway, mounts it from a Secret, and is Ready once the pod is", async () => {
    ({ tokenOf } = await cluster.startRiskGateway(VENUE, riskPort, "gw"));
    // The session's account is the venue operator's to create; the operator issues its token.
    await unary((cb) =>
      admin.createAccount(
        CreateAccountRequest.fromPartial({
          account: { name: ACCOUNT, displayName: "broker one", principals: [ACCOUNT] },
        }),
        bearer(tokenOf("venue-operator")),
        cb,
      ),
    );

    const v = await venueWith(1, "True", "True");
    expect(conditionOf(v, "FixGatewayReady")).toMatchObject({ reason: "Available", observedGeneration: 1 });
    const deployment = await child("Deployment");
    expect(deployment.status).toBe(200);
    expect(deployment.body.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "TradingVenue", name: VENUE, controller: true }),
    ]);
    const pod = (deployment.body.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    expect(JSON.stringify(pod)).toContain(`"secretName":"${VENUE}-fix-session-tokens"`);
    expect(pod.containers).toEqual([
      expect.objectContaining({
        securityContext: expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }),
        readinessProbe: expect.objectContaining({ httpGet: expect.objectContaining({ port: "ops" }) }),
      }),
    ]);

    const secret = await child("Secret");
    const token = Buffer.from(secret.body.data!.b1!, "base64").toString("utf8");
    expect((await listOpenOrders(token)).orders).toEqual([]);
    const listed = await unary<ListTokensResponse>((cb) =>
      admin.listTokens({ account: ACCOUNT }, bearer(tokenOf("read-only")), cb),
    );
    expect(listed.tokens.map((t) => t.description)).toEqual([`fix session ${NS}/${VENUE}/b1`]);
  }, 180_000);

  it("removes the gateway's objects and revokes the session's token when FIX is disabled", async () => {
    const token = Buffer.from((await child("Secret")).body.data!.b1!, "base64").toString("utf8");
    await kube.kubectl(["apply", "-f", "-"], VENUE_YAML(false));
    await venueWith(2, undefined, "True");
    await retry(async () => {
      for (const kind of Object.keys(CHILDREN) as (keyof typeof CHILDREN)[]) {
        const status = (await child(kind)).status;
        if (status !== 404) throw new Error(`${kind} still there (${status})`);
      }
    }, 60_000);
    await expect(listOpenOrders(token)).rejects.toMatchObject({ code: 16 });
    const listed = await unary<ListTokensResponse>((cb) =>
      admin.listTokens({ account: ACCOUNT }, bearer(tokenOf("read-only")), cb),
    );
    expect(listed.tokens).toEqual([]);
  }, 180_000);

  it("closes the venue's RiskAdmin channel when the venue is deleted", async () => {
    expect(await operator.metric("tp_operator_risk_admin_channels")).toBe(1);
    await kube.kubectl(["delete", "tradingvenue", VENUE, "-n", NS]);
    await retry(async () => {
      if ((await kube.request("GET", venuePath)).status !== 404) throw new Error("venue still there");
    }, 60_000);
    await retry(async () => {
      const open = await operator.metric("tp_operator_risk_admin_channels");
      if (open !== 0) throw new Error(`${open} channels open`);
    }, 10_000);
  }, 120_000);
});
