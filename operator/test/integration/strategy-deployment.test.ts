import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  KillSwitchScope,
  OrderEntryClient,
  RiskAdminClient,
  type GetAccountResponse,
  type GetLimitsResponse,
  type ListKillSwitchesResponse,
  type ListOpenOrdersResponse,
  type ListTokensResponse,
} from "@tradeplane/contracts";
import { bearer, freePort, OperatorProcess, retry, ServiceProcess, unary, type KubeCluster } from "@tradeplane/testkit";
import { conditionOf, OperatorCluster, type ObservedCondition } from "./operator-cluster.ts";

/**
 * The StrategyDeployment proof point: the real operator (a process, as the user bound to
 * manifests/rbac/operator.yaml) against a real kube-apiserver and controller-manager, a
 * TradingVenue it reconciles on a real nats-server, and that venue's risk gateway running as
 * a local process on the same nats-server with the admin tokens the operator generated
 * (`--risk-address` points the operator at it, as for an operator outside the cluster). What
 * the operator asked for is read back from the gateway through RiskAdmin and OrderEntry. A
 * strategy across two venues adds a second TradingVenue and its own gateway process.
 */

const NS = "strategies";
const VENUE = "demo";
const ACCOUNT = "arb-7";
/** The second venue of the strategy across venues, with its own gateway. */
const VENUE_2 = "bse";

let kube: KubeCluster;
let cluster: OperatorCluster;
let operator: OperatorProcess;
let gateway: ServiceProcess;
let riskPort: number;
let riskPort2: number;
let readOnlyToken: string;
/** The account's store revision once bound: a reconcile that changes nothing keeps it. */
let boundRevision: number;
let orderEntry: OrderEntryClient;
let admin: RiskAdminClient;

interface Strategy {
  metadata: { generation: number; finalizers?: string[] };
  status?: {
    phase?: string;
    observedGeneration?: number;
    conditions?: ObservedCondition[];
    grossPosition?: number;
    pnl?: { total?: number };
  };
}
interface TokenSecret {
  data: { token: string };
  metadata: { annotations: Record<string, string> };
}

const strategyPath = `/apis/tradeplane.io/v1alpha1/namespaces/${NS}/strategydeployments/arb`;
const getStrategy = async () => (await kube.request<Strategy>("GET", strategyPath)).body;
const deploymentReplicas = async () =>
  (
    await kube.request<{ spec?: { replicas?: number } }>(
      "GET",
      `/apis/apps/v1/namespaces/${NS}/deployments/arb-strategy`,
    )
  ).body.spec?.replicas;
const tokenSecret = async () =>
  (await kube.request<TokenSecret>("GET", `/api/v1/namespaces/${NS}/secrets/arb-strategy-token`)).body;

const listOpenOrders = (token: string) =>
  unary<ListOpenOrdersResponse>((cb) =>
    orderEntry.listOpenOrders({ account: ACCOUNT, instrument: "" }, bearer(token), cb),
  );
/** How often the gateway logged a line (its warn-level log: kill switch changes, revocations). */
const gatewayLogged = (msg: string) => gateway.log.split("\n").filter((l) => l.includes(`"msg":"${msg}"`)).length;
const accountKillSwitch = async () =>
  (
    await unary<ListKillSwitchesResponse>((cb) => admin.listKillSwitches({}, bearer(readOnlyToken), cb))
  ).killSwitches.find((k) => k.scope === KillSwitchScope.ACCOUNT && k.account === ACCOUNT);

/** The strategy's status once its phase and every listed condition are at `generation`. */
async function strategyAt(generation: number, phase: string): Promise<Strategy> {
  return retry(async () => {
    const s = await getStrategy();
    const stale = ["VenueReady", "Bound", "Ready"].filter((t) => conditionOf(s, t)?.observedGeneration !== generation);
    if (s.status?.phase !== phase || s.status.observedGeneration !== generation || stale.length > 0)
      throw new Error(`strategy not ${phase} at generation ${generation}: ${JSON.stringify(s.status)}`);
    return s;
  }, 90_000);
}

/** A venue's risk gateway as a local process, and the read-only token the operator generated for it. */
async function startGateway(venue: string, port: number): Promise<{ gateway: ServiceProcess; readOnlyToken: string }> {
  const { gateway, tokenOf } = await cluster.startRiskGateway(venue, port);
  return { gateway, readOnlyToken: tokenOf("read-only") };
}

/** Applies a TradingVenue and waits for the operator to call it ready. */
async function readyVenue(venue: string): Promise<void> {
  await kube.kubectl(
    ["apply", "-f", "-"],
    `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata: { name: ${venue}, namespace: ${NS} }
spec:
  instruments: [{ symbol: RELIANCE, referencePrice: 130000 }]
  streams: { storage: memory }
`,
  );
  await retry(async () => {
    const v = await kube.request<{ status?: { conditions?: ObservedCondition[] } }>(
      "GET",
      `/apis/tradeplane.io/v1alpha1/namespaces/${NS}/tradingvenues/${venue}`,
    );
    if (v.body.status?.conditions?.find((c) => c.type === "Ready")?.status !== "True")
      throw new Error(`venue ${venue} not ready: ${JSON.stringify(v.body.status?.conditions)}`);
  }, 90_000);
}

beforeAll(async () => {
  cluster = await OperatorCluster.start(NS);
  ({ kube } = cluster);
  // The gateway starts later (with the admin tokens the operator generates), on this port.
  // The default resync (10 minutes): every step below is woken by an event or a retry.
  riskPort = await freePort();
  riskPort2 = await freePort();
  operator = new OperatorProcess(
    await cluster.operatorArgs(
      "--risk-address",
      `${VENUE}=127.0.0.1:${riskPort}`,
      "--risk-address",
      `${VENUE_2}=127.0.0.1:${riskPort2}`,
      "--log-level",
      "debug",
      "--image-pull-secret",
      "regcred",
    ),
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

const STRATEGY = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: arb, namespace: ${NS} }
spec:
  venueRef: { name: ${VENUE} }
  account: ${ACCOUNT}
  strategy: { image: registry.local/arb:2.0.1 }
  instruments: [RELIANCE]
  limits: { maxPosition: 1000, maxOrdersPerSecond: 50 }
  paused: PAUSED
`;

describe("the operator reconciling a StrategyDeployment against a venue's real gateway", () => {
  it("waits for its venue to be ready", async () => {
    await kube.kubectl(["apply", "-f", "-"], STRATEGY.replace("PAUSED", "false"));
    const s = await retry(async () => {
      const s = await getStrategy();
      if (s.status?.phase !== "Pending") throw new Error(`phase ${s.status?.phase}`);
      return s;
    });
    expect(conditionOf(s, "VenueReady")).toMatchObject({
      status: "False",
      reason: "VenueNotFound",
      observedGeneration: 1,
    });
    expect(conditionOf(s, "Bound")).toMatchObject({ status: "Unknown", reason: "WaitingForVenue" });
    expect(s.metadata.finalizers).toContain("tradeplane.io/strategy-token");
    // No account yet, so no token: the Secret does not exist.
    expect((await kube.request("GET", `/api/v1/namespaces/${NS}/secrets/arb-strategy-token`)).status).toBe(404);
  }, 60_000);

  it("sets up the account and its limits in the gateway, keeps a working token in a Secret and runs the strategy", async () => {
    await readyVenue(VENUE);
    // The venue is ready but its gateway is not up yet: the account cannot be set up.
    const degraded = await retry(async () => {
      const s = await getStrategy();
      if (s.status?.phase !== "Degraded") throw new Error(`phase ${s.status?.phase}`);
      return s;
    });
    expect(conditionOf(degraded, "VenueReady")).toMatchObject({ status: "True", reason: "VenueReady" });
    expect(conditionOf(degraded, "Bound")).toMatchObject({ status: "False", reason: "AccountSetupFailed" });
    // No figures were ever read: none are shown (not zeros), and the condition says why.
    expect(conditionOf(degraded, "PositionsCurrent")).toMatchObject({ status: "False", reason: "PositionsStale" });
    expect(degraded.status?.grossPosition).toBeUndefined();
    // No token, no pods.
    expect((await kube.request("GET", `/apis/apps/v1/namespaces/${NS}/deployments/arb-strategy`)).status).toBe(404);

    // The venue's gateway as a local process on the streams the operator provisioned, with
    // the admin tokens the operator generated (the Secret its pods would mount).
    ({ gateway, readOnlyToken } = await startGateway(VENUE, riskPort));

    const s = await strategyAt(1, "Running");
    expect(conditionOf(s, "VenueReady")).toMatchObject({ status: "True", reason: "VenueReady" });
    expect(conditionOf(s, "Bound")).toMatchObject({ status: "True", reason: "AccountReady" });
    expect(conditionOf(s, "Ready")).toMatchObject({ status: "True", reason: "Running" });
    expect(s.status).toMatchObject({ grossPosition: 0, pnl: { total: 0 } });
    expect(conditionOf(s, "PositionsCurrent")).toMatchObject({ status: "True", reason: "Read" });
    expect(await deploymentReplicas()).toBe(1);
    // Its venue names no image pull Secrets: the pod pulls with the operator's.
    const pod = await kube.request<{ spec: { template: { spec: { imagePullSecrets?: unknown } } } }>(
      "GET",
      `/apis/apps/v1/namespaces/${NS}/deployments/arb-strategy`,
    );
    expect(pod.body.spec.template.spec.imagePullSecrets).toEqual([{ name: "regcred" }]);

    const account = await unary<GetAccountResponse>((cb) =>
      admin.getAccount({ name: ACCOUNT }, bearer(readOnlyToken), cb),
    );
    expect(account.account).toMatchObject({ name: ACCOUNT, disabled: false, principals: [ACCOUNT] });
    boundRevision = account.account!.revision;
    const limits = await unary<GetLimitsResponse>((cb) =>
      admin.getLimits({ account: ACCOUNT }, bearer(readOnlyToken), cb),
    );
    expect(limits.limits).toMatchObject({ maxPosition: 1000, maxOrdersPerSecond: 50 });

    const secret = await tokenSecret();
    const token = Buffer.from(secret.data.token, "base64").toString("utf8");
    const tokenId = secret.metadata.annotations["tradeplane.io/token-id"];
    const listed = await unary<ListTokensResponse>((cb) =>
      admin.listTokens({ account: ACCOUNT }, bearer(readOnlyToken), cb),
    );
    expect(listed.tokens.map((t) => t.tokenId)).toEqual([tokenId]);
    expect((await listOpenOrders(token)).orders).toEqual([]);
  }, 180_000);

  it("scales to zero and engages the account's kill switch in the gateway when paused, and undoes both when resumed", async () => {
    const before = await tokenSecret();
    await kube.kubectl(["apply", "-f", "-"], STRATEGY.replace("PAUSED", "true"));
    const paused = await strategyAt(2, "Paused");
    expect(conditionOf(paused, "Ready")).toMatchObject({ status: "True", reason: "Paused" });
    expect(await deploymentReplicas()).toBe(0);
    expect(await accountKillSwitch()).toMatchObject({ engaged: true });

    await kube.kubectl(["apply", "-f", "-"], STRATEGY.replace("PAUSED", "false"));
    const resumed = await strategyAt(3, "Running");
    expect(conditionOf(resumed, "Ready")).toMatchObject({ status: "True", reason: "Running" });
    expect(await deploymentReplicas()).toBe(1);
    expect((await accountKillSwitch())?.engaged ?? false).toBe(false);
    // The same token throughout: pausing neither revokes nor reissues it.
    expect((await tokenSecret()).metadata.annotations).toEqual(before.metadata.annotations);
    // Every reconcile on the way (status writes, the Deployment's scaling) left the account's
    // limits and the kill switch alone unless they had to change: one engage, one release.
    const account = await unary<GetAccountResponse>((cb) =>
      admin.getAccount({ name: ACCOUNT }, bearer(readOnlyToken), cb),
    );
    expect(account.account?.revision).toBe(boundRevision);
    expect([gatewayLogged("kill switch engaged"), gatewayLogged("kill switch released")]).toEqual([1, 1]);
  }, 180_000);

  it("revokes a token whose Secret was lost and keeps a new one", async () => {
    const lost = await tokenSecret();
    const lostToken = Buffer.from(lost.data.token, "base64").toString("utf8");
    await kube.kubectl(["delete", "secret", "arb-strategy-token", "-n", NS]);
    const kept = await retry(async () => {
      const r = await kube.request<TokenSecret>("GET", `/api/v1/namespaces/${NS}/secrets/arb-strategy-token`);
      if (r.status !== 200) throw new Error(`secret ${r.status}`);
      return r.body;
    }, 60_000);
    const keptId = kept.metadata.annotations["tradeplane.io/token-id"];
    expect(keptId).not.toBe(lost.metadata.annotations["tradeplane.io/token-id"]);
    await expect(listOpenOrders(lostToken)).rejects.toMatchObject({ code: 16 });
    expect((await listOpenOrders(Buffer.from(kept.data.token, "base64").toString("utf8"))).orders).toEqual([]);
    const listed = await unary<ListTokensResponse>((cb) =>
      admin.listTokens({ account: ACCOUNT }, bearer(readOnlyToken), cb),
    );
    expect(listed.tokens.map((t) => t.tokenId)).toEqual([keptId]);
  }, 120_000);

  it("revokes the token in the gateway when deleted, its Secret already collected, and lets the strategy go", async () => {
    const secret = await tokenSecret();
    const token = Buffer.from(secret.data.token, "base64").toString("utf8");
    expect((await listOpenOrders(token)).orders).toEqual([]);
    // Deleted in the foreground while the operator is down: the garbage collector removes
    // the token Secret first (the finalizer holds the strategy), so the operator, back, finds
    // the token by its label in the gateway.
    await operator.stop("SIGTERM");
    await kube.kubectl(["delete", "strategydeployment", "arb", "-n", NS, "--cascade=foreground", "--wait=false"]);
    await retry(async () => {
      const status = (await kube.request("GET", `/api/v1/namespaces/${NS}/secrets/arb-strategy-token`)).status;
      if (status !== 404) throw new Error(`token secret ${status}`);
    }, 90_000);
    expect((await listOpenOrders(token)).orders).toEqual([]);
    await operator.start();
    await retry(async () => {
      if ((await kube.request("GET", strategyPath)).status !== 404) throw new Error("still there");
    }, 90_000);
    await expect(listOpenOrders(token)).rejects.toMatchObject({ code: 16 });
    const listed = await unary<ListTokensResponse>((cb) =>
      admin.listTokens({ account: ACCOUNT }, bearer(readOnlyToken), cb),
    );
    expect(listed.tokens).toEqual([]);
    await retry(async () => {
      const status = (await kube.request("GET", `/apis/apps/v1/namespaces/${NS}/deployments/arb-strategy`)).status;
      if (status !== 404) throw new Error(`deployment ${status}`);
    }, 90_000);
  }, 240_000);
});

const ROUTER = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: router, namespace: ${NS} }
spec:
  venueRef: { name: ${VENUE} }
  account: router-${VENUE}
  venues: [{ venueRef: { name: ${VENUE_2} }, account: router-${VENUE_2} }]
  strategy: { image: registry.local/router:1.0.0 }
  instruments: [RELIANCE]
  limits: { maxPosition: 500, maxOrdersPerSecond: 20 }
  paused: PAUSED
`;

describe("the operator reconciling a StrategyDeployment across two venues, each with its real gateway", () => {
  const path = `/apis/tradeplane.io/v1alpha1/namespaces/${NS}/strategydeployments/router`;
  const secretPath = `/api/v1/namespaces/${NS}/secrets/router-strategy-token`;
  let gateway2: ServiceProcess;
  let readOnly2: string;
  let admin2: RiskAdminClient;
  let orderEntry2: OrderEntryClient;
  /** Each venue's clients, read-only admin token and account. */
  const at = (venue: string) =>
    venue === VENUE
      ? { admin, orderEntry, readOnly: readOnlyToken, account: `router-${VENUE}` }
      : { admin: admin2, orderEntry: orderEntry2, readOnly: readOnly2, account: `router-${VENUE_2}` };
  const router = async () => (await kube.request<Strategy>("GET", path)).body;
  const routerAt = (generation: number, phase: string) =>
    retry(async () => {
      const s = await router();
      const stale = ["VenueReady", "Bound", "Ready"].filter(
        (t) => conditionOf(s, t)?.observedGeneration !== generation,
      );
      if (s.status?.phase !== phase || s.status.observedGeneration !== generation || stale.length > 0)
        throw new Error(`router not ${phase} at generation ${generation}: ${JSON.stringify(s.status)}`);
      return s;
    }, 90_000);
  const tokensListed = async (venue: string) => {
    const v = at(venue);
    return (
      await unary<ListTokensResponse>((cb) => v.admin.listTokens({ account: v.account }, bearer(v.readOnly), cb))
    ).tokens.map((t) => t.tokenId);
  };
  const openOrders = (venue: string, token: string) => {
    const v = at(venue);
    return unary<ListOpenOrdersResponse>((cb) =>
      v.orderEntry.listOpenOrders({ account: v.account, instrument: "" }, bearer(token), cb),
    );
  };
  const killSwitch = async (venue: string) => {
    const v = at(venue);
    return (
      await unary<ListKillSwitchesResponse>((cb) => v.admin.listKillSwitches({}, bearer(v.readOnly), cb))
    ).killSwitches.find((k) => k.scope === KillSwitchScope.ACCOUNT && k.account === v.account);
  };
  const secretTokens = async (): Promise<Record<string, { id: string; token: string }>> => {
    const secret = (await kube.request<TokenSecret>("GET", secretPath)).body;
    const decode = (key: string) => Buffer.from((secret.data as Record<string, string>)[key]!, "base64").toString();
    const further = JSON.parse(secret.metadata.annotations["tradeplane.io/token-ids"]!) as Record<string, string>;
    return {
      [VENUE]: { id: secret.metadata.annotations["tradeplane.io/token-id"]!, token: decode("token") },
      [VENUE_2]: { id: further[VENUE_2]!, token: decode(`token.${VENUE_2}`) },
    };
  };

  beforeAll(() => {
    admin2 = new RiskAdminClient(`127.0.0.1:${riskPort2}`, credentials.createInsecure());
    orderEntry2 = new OrderEntryClient(`127.0.0.1:${riskPort2}`, credentials.createInsecure());
  });
  afterAll(() => {
    admin2?.close();
    orderEntry2?.close();
  });

  it("waits until every venue is ready, naming the one that is not", async () => {
    await kube.kubectl(["apply", "-f", "-"], ROUTER.replace("PAUSED", "false"));
    const s = await retry(async () => {
      const s = await router();
      if (s.status?.phase !== "Pending") throw new Error(`phase ${s.status?.phase}`);
      return s;
    }, 60_000);
    expect(conditionOf(s, "VenueReady")).toMatchObject({
      status: "False",
      reason: "VenueNotFound",
      message: `TradingVenue ${VENUE_2} does not exist`,
    });
    expect(conditionOf(s, "Ready")).toMatchObject({ status: "False", reason: "WaitingForVenue" });
    expect((await kube.request("GET", secretPath)).status).toBe(404);
  }, 90_000);

  it("sets up an account with its limits and a token on each venue's gateway, all in one Secret and one pod", async () => {
    await readyVenue(VENUE_2);
    // The second venue's gateway is not up yet: not bound, and the condition names the venue.
    const degraded = await retry(async () => {
      const s = await router();
      if (s.status?.phase !== "Degraded") throw new Error(`phase ${s.status?.phase}`);
      return s;
    }, 90_000);
    expect(conditionOf(degraded, "Bound")).toMatchObject({
      status: "False",
      reason: "AccountSetupFailed",
      message: expect.stringContaining(`venue ${VENUE_2}`),
    });
    expect((await kube.request("GET", `/apis/apps/v1/namespaces/${NS}/deployments/router-strategy`)).status).toBe(404);
    // The first venue's token is kept meanwhile (not revoked and issued again at each retry).
    const early = (await kube.request<TokenSecret>("GET", secretPath)).body;
    expect(Object.keys(early.data)).toEqual(["token"]);
    const earlyId = early.metadata.annotations["tradeplane.io/token-id"];

    ({ gateway: gateway2, readOnlyToken: readOnly2 } = await startGateway(VENUE_2, riskPort2));
    const s = await routerAt(1, "Running");
    expect(conditionOf(s, "VenueReady")).toMatchObject({ status: "True", message: expect.stringContaining(VENUE_2) });
    expect(conditionOf(s, "Bound")).toMatchObject({ status: "True", reason: "AccountReady" });
    expect(s.status).toMatchObject({ grossPosition: 0 });

    const tokens = await secretTokens();
    expect(tokens[VENUE]!.id).toBe(earlyId);
    for (const venue of [VENUE, VENUE_2]) {
      const v = at(venue);
      const limits = await unary<GetLimitsResponse>((cb) =>
        v.admin.getLimits({ account: v.account }, bearer(v.readOnly), cb),
      );
      expect(limits.limits, venue).toMatchObject({ maxPosition: 500, maxOrdersPerSecond: 20 });
      expect(await tokensListed(venue), venue).toEqual([tokens[venue]!.id]);
      expect((await openOrders(venue, tokens[venue]!.token)).orders, venue).toEqual([]);
    }
    // A venue's token is no good on the other venue.
    await expect(openOrders(VENUE_2, tokens[VENUE]!.token)).rejects.toMatchObject({ code: 16 });

    const config = await kube.request<{ data: Record<string, string> }>(
      "GET",
      `/api/v1/namespaces/${NS}/configmaps/router-strategy-config`,
    );
    expect(config.body.data["config.yaml"]).toContain(`orderEntry: ${VENUE_2}-risk.${NS}.svc:50061`);
    expect(config.body.data["config.yaml"]).toContain(
      `tokenFile: /var/run/secrets/tradeplane/strategy/token.${VENUE_2}`,
    );
  }, 240_000);

  it("engages the kill switch on every venue when paused and releases them when resumed", async () => {
    await kube.kubectl(["apply", "-f", "-"], ROUTER.replace("PAUSED", "true"));
    await routerAt(2, "Paused");
    for (const venue of [VENUE, VENUE_2]) expect(await killSwitch(venue), venue).toMatchObject({ engaged: true });
    await kube.kubectl(["apply", "-f", "-"], ROUTER.replace("PAUSED", "false"));
    await routerAt(3, "Running");
    for (const venue of [VENUE, VENUE_2]) expect((await killSwitch(venue))?.engaged ?? false, venue).toBe(false);
  }, 180_000);

  it("revokes the token on every venue when deleted", async () => {
    const tokens = await secretTokens();
    await kube.kubectl(["delete", "strategydeployment", "router", "-n", NS, "--wait=false"]);
    await retry(async () => {
      if ((await kube.request("GET", path)).status !== 404) throw new Error("still there");
    }, 90_000);
    for (const venue of [VENUE, VENUE_2]) {
      await expect(openOrders(venue, tokens[venue]!.token), venue).rejects.toMatchObject({ code: 16 });
      expect(await tokensListed(venue), venue).toEqual([]);
    }
    expect(gateway2.log).not.toContain('"level":"error"');
  }, 180_000);
});
