import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { KubeCluster, KubeletPlayer, NatsServer, REPO_ROOT, ServiceProcess } from "@tradeplane/testkit";

/** Where the chart puts the operator and its Lease. */
export const SYSTEM_NS = "tradeplane-system";
/** The user the operator runs as in these tests, so that the audit log tells its writes apart. */
export const OPERATOR_USER = "tradeplane-operator";

const ROOT = new URL("../../../", import.meta.url);

/**
 * What the operator's integration tests run it against: a real kube-apiserver, etcd and
 * kube-controller-manager with the CRDs and the namespaces, the operator's user bound to
 * exactly the role the chart installs (manifests/rbac/operator.yaml, so a missing permission
 * fails the test), a real nats-server, and the test playing the kubelet of the namespace.
 */
export class OperatorCluster {
  readonly kube: KubeCluster;
  readonly nats: NatsServer;
  readonly kubelet: KubeletPlayer;
  /** The namespace the operator watches. */
  readonly ns: string;

  private constructor(kube: KubeCluster, nats: NatsServer, ns: string) {
    this.kube = kube;
    this.nats = nats;
    this.ns = ns;
    this.kubelet = new KubeletPlayer(kube, ns);
  }

  static async start(ns: string): Promise<OperatorCluster> {
    const [kube, nats] = await Promise.all([KubeCluster.start(), NatsServer.start()]);
    await kube.kubectl(["apply", "-f", new URL("manifests/crds/", ROOT).pathname]);
    await kube.kubectl(["create", "namespace", ns]);
    await kube.kubectl(["create", "namespace", SYSTEM_NS]);
    const rbac = readFileSync(new URL("manifests/rbac/operator.yaml", ROOT), "utf8").replaceAll(
      "- kind: ServiceAccount\n    name: tradeplane-operator\n    namespace: tradeplane-system",
      `- kind: User\n    name: ${OPERATOR_USER}\n    apiGroup: rbac.authorization.k8s.io`,
    );
    await kube.kubectl(["apply", "-f", "-"], rbac);
    const cluster = new OperatorCluster(kube, nats, ns);
    cluster.kubelet.start();
    return cluster;
  }

  /** The operator's command line here: as OPERATOR_USER, on this nats-server, watching the namespace; then `more`. */
  async operatorArgs(...more: string[]): Promise<string[]> {
    return [
      "--kubeconfig",
      await this.kube.kubeconfigFor(OPERATOR_USER),
      "--nats-url",
      this.nats.url,
      "--namespace",
      this.ns,
      "--lease-namespace",
      SYSTEM_NS,
      ...more,
    ];
  }

  /** The admin tokens the operator generated for `venue` (its Secret `<venue>-admin-tokens`), by role. */
  async adminTokensOf(venue: string): Promise<(role: string) => string> {
    const tokens = await this.kube.request<{ data: Record<string, string> }>(
      "GET",
      `/api/v1/namespaces/${this.ns}/secrets/${venue}-admin-tokens`,
    );
    return (role) => Buffer.from(tokens.body.data[role]!, "base64").toString("utf8");
  }

  /**
   * A venue's risk gateway (RELIANCE only) as a local process on `port`, where the operator's
   * `--risk-address` points, holding the admin tokens the operator generated for it.
   */
  async startRiskGateway(
    venue: string,
    port: number,
    instanceId = `gw-${venue}`,
  ): Promise<{ gateway: ServiceProcess; tokenOf: (role: string) => string }> {
    const tokenOf = await this.adminTokensOf(venue);
    const gateway = new ServiceProcess({
      main: resolve(REPO_ROOT, "services/risk/src/main.ts"),
      config: { instruments: [{ symbol: "RELIANCE", referencePrice: 130000 }] },
      env: {
        TP_NATS_URL: this.nats.url,
        TP_VENUE: venue,
        TP_INSTANCE_ID: instanceId,
        TP_GRPC_PORT: String(port),
        TP_LOG_LEVEL: "warn",
        TP_ADMIN_TOKENS_VENUE_OPERATOR: tokenOf("venue-operator"),
        TP_ADMIN_TOKENS_RISK_OFFICER: tokenOf("risk-officer"),
        TP_ADMIN_TOKENS_READ_ONLY: tokenOf("read-only"),
      },
    });
    await gateway.start();
    return { gateway, tokenOf };
  }

  /** Stops the kubelet, the nats-server and the cluster (the operator is the test's to stop first). */
  async stop(): Promise<void> {
    this.kubelet.stop();
    await this.nats.stop();
    await this.kube.dispose();
  }
}

/** A status condition as the tests read it back from the API server. */
export interface ObservedCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** A child object as far as the tests look at it: its owners, and its spec or data. */
export interface ObservedChild {
  metadata: { ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** The condition of `type` in an object's status, if it has one. */
export const conditionOf = (o: { status?: { conditions?: ObservedCondition[] } }, type: string) =>
  o.status?.conditions?.find((c) => c.type === type);
