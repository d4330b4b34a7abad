import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@tradeplane/platform";
import { KubeCluster, retry } from "@tradeplane/testkit";
import { ControllerManager } from "../../src/controllers/controller-manager.ts";
import { EventRecorder } from "../../src/controllers/event-recorder.ts";
import { createOperatorMetrics } from "../../src/controllers/operator-metrics.ts";
import { StrategyDeploymentController } from "../../src/controllers/strategy-deployment-controller.ts";
import type {
  AccountPosition,
  IssuedToken,
  StrategyAccounts,
  StrategyLimits,
  VenueRef,
} from "../../src/controllers/strategy-accounts.ts";
import { Applier } from "../../src/kube/apply.ts";
import { KubeClient } from "../../src/kube/kube-client.ts";
import { Registry } from "prom-client";

/**
 * The StrategyDeployment controller against a real API server and controller-manager, with
 * the venue's gateway behind the StrategyAccounts port as an in-memory fake that records
 * what the controller asked of it (the gRPC adapter is proven against a real gateway
 * separately). The venue is a TradingVenue whose Ready status the test writes.
 */
class FakeAccounts implements StrategyAccounts {
  readonly accounts = new Map<string, StrategyLimits>();
  readonly killSwitches = new Map<string, boolean>();
  readonly tokens = new Map<string, { account: string; revoked: boolean }>();

  async ensureAccount(_at: VenueRef, account: string, limits: StrategyLimits): Promise<void> {
    this.accounts.set(account, limits);
  }
  async setKillSwitch(_at: VenueRef, account: string, engaged: boolean): Promise<void> {
    this.killSwitches.set(account, engaged);
  }
  async positions(_at: VenueRef, account: string): Promise<AccountPosition[]> {
    return [{ symbol: "RELIANCE", position: account === "arb-7" ? -40 : 0, realisedPnl: 1_250, unrealisedPnl: -300 }];
  }
  async issueToken(_at: VenueRef, account: string): Promise<IssuedToken> {
    const id = `tok-${this.tokens.size + 1}`;
    this.tokens.set(id, { account, revoked: false });
    return { id, token: `secret-of-${id}` };
  }
  async revokeToken(_at: VenueRef, _account: string, id: string): Promise<void> {
    this.tokens.get(id)!.revoked = true;
  }
}

const NS = "strategies";
let kube: KubeCluster;
let client: KubeClient;
let manager: ControllerManager;
const accounts = new FakeAccounts();

interface Strategy {
  metadata: { generation: number; finalizers?: string[] };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason: string; observedGeneration?: number }[];
    grossPosition?: number;
    pnl?: { total?: number };
  };
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

beforeAll(async () => {
  kube = await KubeCluster.start();
  await kube.kubectl(["apply", "-f", new URL("../../../manifests/crds/", import.meta.url).pathname]);
  await kube.kubectl(["create", "namespace", NS]);
  client = KubeClient.fromDefault({}, kube.kubeconfig);
  const logger = createLogger({ service: "test", level: "silent" });
  manager = new ControllerManager({
    client,
    namespaces: [NS],
    logger,
    metrics: createOperatorMetrics(new Registry()),
    workers: 2,
    resyncMs: 2_000,
  });
  manager.register(
    new StrategyDeploymentController({
      client,
      applier: new Applier(client),
      cache: manager.cache,
      accounts,
      events: new EventRecorder(client, logger),
      runtimeImage: "ghcr.io/tradeplane/strategy-runtime:0.1.0",
      clock: () => new Date(),
    }),
  );
  manager.startInformers();
  void manager.startControllers();
}, 300_000);

afterAll(async () => {
  await manager?.stop();
  client?.close();
  await kube?.dispose();
});

const STRATEGY = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: arb, namespace: ${NS} }
spec:
  venueRef: { name: demo }
  account: arb-7
  strategy: { image: registry.local/arb:2.0.1 }
  instruments: [RELIANCE]
  limits: { maxPosition: 1000, maxOrdersPerSecond: 50 }
  paused: PAUSED
`;

describe("the operator reconciling a StrategyDeployment", () => {
  it("waits for its venue to be ready", async () => {
    await kube.kubectl(["apply", "-f", "-"], STRATEGY.replace("PAUSED", "false"));
    const s = await retry(async () => {
      const s = await getStrategy();
      if (s.status?.phase !== "Pending") throw new Error(`phase ${s.status?.phase}`);
      return s;
    });
    expect(s.status?.conditions?.find((c) => c.type === "VenueReady")).toMatchObject({
      status: "False",
      reason: "VenueNotFound",
    });
    expect(accounts.tokens.size).toBe(0);
  }, 60_000);

  it("sets up the account, keeps its token in a Secret and runs the strategy once the venue is ready", async () => {
    await kube.kubectl(
      ["apply", "-f", "-"],
      `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata: { name: demo, namespace: ${NS} }
spec:
  instruments: [{ symbol: RELIANCE, referencePrice: 130000 }]
`,
    );
    const now = new Date().toISOString().replace(/\\.\\d+Z$/, "Z");
    await kube.request(
      "PATCH",
      `/apis/tradeplane.io/v1alpha1/namespaces/${NS}/tradingvenues/demo/status`,
      {
        status: {
          conditions: [
            { type: "Ready", status: "True", reason: "VenueReady", message: "test", lastTransitionTime: now },
          ],
        },
      },
      "application/merge-patch+json",
    );
    await retry(async () => {
      if ((await deploymentReplicas()) !== 1) throw new Error("no deployment yet");
    }, 60_000);
    expect(accounts.accounts.get("arb-7")).toMatchObject({ maxPosition: 1000, maxOrdersPerSecond: 50 });
    expect([...accounts.tokens.keys()]).toEqual(["tok-1"]);
    const secret = await kube.request<{ data: { token: string }; metadata: { annotations: Record<string, string> } }>(
      "GET",
      `/api/v1/namespaces/${NS}/secrets/arb-strategy-token`,
    );
    expect(Buffer.from(secret.body.data.token, "base64").toString()).toBe("secret-of-tok-1");
    expect(secret.body.metadata.annotations["tradeplane.io/token-id"]).toBe("tok-1");
    const s = await retry(async () => {
      const s = await getStrategy();
      if (s.status?.conditions?.find((c) => c.type === "Bound")?.status !== "True") throw new Error("not bound");
      return s;
    });
    expect(s.status).toMatchObject({ grossPosition: 40, pnl: { total: 950 } });
  }, 60_000);

  it("scales to zero and engages the kill switch when paused, and undoes both when resumed", async () => {
    await kube.kubectl(["apply", "-f", "-"], STRATEGY.replace("PAUSED", "true"));
    await retry(async () => {
      if ((await deploymentReplicas()) !== 0 || accounts.killSwitches.get("arb-7") !== true)
        throw new Error("not paused");
    }, 60_000);
    await retry(async () => {
      if ((await getStrategy()).status?.phase !== "Paused") throw new Error("phase");
    });
    await kube.kubectl(["apply", "-f", "-"], STRATEGY.replace("PAUSED", "false"));
    await retry(async () => {
      if ((await deploymentReplicas()) !== 1 || accounts.killSwitches.get("arb-7") !== false)
        throw new Error("not resumed");
    }, 60_000);
    expect([...accounts.tokens.keys()]).toEqual(["tok-1"]);
  }, 120_000);

  it("revokes the token when deleted, and the garbage collector removes its children", async () => {
    await kube.kubectl(["delete", "strategydeployment", "arb", "-n", NS, "--wait=false"]);
    await retry(async () => {
      if ((await kube.request("GET", strategyPath)).status !== 404) throw new Error("still there");
    }, 60_000);
    expect(accounts.tokens.get("tok-1")).toEqual({ account: "arb-7", revoked: true });
    await retry(async () => {
      const status = (await kube.request("GET", `/apis/apps/v1/namespaces/${NS}/deployments/arb-strategy`)).status;
      if (status !== 404) throw new Error(`deployment ${status}`);
    }, 90_000);
  }, 120_000);
});
