import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeCluster, retry } from "../../src/index.ts";

type Meta = { metadata: { name: string; uid: string } };
type List = { items: { metadata: { name: string; ownerReferences?: { kind: string }[] } }[] };

let kube: KubeCluster;

beforeAll(async () => {
  kube = await KubeCluster.start();
  expect((await kube.request("POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
});

afterAll(async () => {
  await kube?.dispose();
});

const ns = "testkit";
const labels = { app: "web" };
const podTemplate = {
  metadata: { labels },
  spec: { containers: [{ name: "web", image: "registry.invalid/web:1" }] },
};

/** Names of the pods (or another kind) in the namespace whose owner is of kind `owner`. */
async function ownedBy(resource: string, owner: string, group = "/api/v1"): Promise<string[]> {
  const res = await kube.request<List>("GET", `${group}/namespaces/${ns}/${resource}`);
  return res.body.items
    .filter((i) => i.metadata.ownerReferences?.some((o) => o.kind === owner))
    .map((i) => i.metadata.name);
}

describe("KubeCluster", () => {
  it("serves the Kubernetes API to the admin and to kubectl", async () => {
    const version = await kube.request<{ gitVersion: string }>("GET", "/version");
    expect(version.status).toBe(200);
    expect(version.body.gitVersion).toMatch(/^v1\.\d+\.\d+/);
    expect(await kube.kubectl(["get", "namespace", ns, "-o", "name"])).toBe(`namespace/${ns}\n`);
  });

  it("audits writes at Metadata level, with the user and the object", async () => {
    await kube.request("POST", `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: "audited" } });
    const events = await kube.auditEvents();
    const create = events.find((e) => e.verb === "create" && e.objectRef?.name === "audited");
    expect(create).toMatchObject({
      user: { username: "tradeplane-test-admin" },
      objectRef: { resource: "configmaps", namespace: ns },
      responseStatus: { code: 201 },
    });
    expect(events.every((e) => !["get", "list", "watch"].includes(e.verb))).toBe(true);
  });

  it("makes kubeconfigs for other users, whom RBAC then governs", async () => {
    const kubeconfig = await kube.kubeconfigFor("tradeplane-test-nobody", ["tradeplane-test-group"]);
    const err = await kube.kubectl(["--kubeconfig", kubeconfig, "get", "pods", "-n", ns]).catch((e: Error) => e);
    expect(String(err)).toMatch(/User "tradeplane-test-nobody" cannot list resource "pods"/);
  });

  it("runs the garbage collector: deleting an owner deletes what it owns", async () => {
    const owner = await kube.request<Meta>("POST", `/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: "owner" },
    });
    const ownerReferences = [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.body.metadata.uid }];
    const child = { metadata: { name: "owned", ownerReferences } };
    expect((await kube.request("POST", `/api/v1/namespaces/${ns}/configmaps`, child)).status).toBe(201);
    expect((await kube.request("DELETE", `/api/v1/namespaces/${ns}/configmaps/owner`)).status).toBe(200);
    await retry(async () => {
      const res = await kube.request("GET", `/api/v1/namespaces/${ns}/configmaps/owned`);
      if (res.status !== 404) throw new Error(`owned ConfigMap still there (${res.status})`);
    }, 60_000);
  });

  it("restarts the API server on the same port, keeping what etcd holds", async () => {
    await kube.restartApiServer("SIGKILL");
    expect((await kube.request("GET", `/api/v1/namespaces/${ns}/configmaps/audited`)).status).toBe(200);
  });

  it("runs the StatefulSet, Deployment and ReplicaSet controllers, which create pods", async () => {
    const selector = { matchLabels: labels };
    const sts = {
      metadata: { name: "engine" },
      spec: { replicas: 1, serviceName: "engine", selector, template: podTemplate },
    };
    const deploy = { metadata: { name: "gateway" }, spec: { replicas: 1, selector, template: podTemplate } };
    expect((await kube.request("POST", `/apis/apps/v1/namespaces/${ns}/statefulsets`, sts)).status).toBe(201);
    expect((await kube.request("POST", `/apis/apps/v1/namespaces/${ns}/deployments`, deploy)).status).toBe(201);
    // Pods wait for the namespace's default ServiceAccount, which the controller manager creates.
    await retry(async () => {
      expect(await ownedBy("pods", "StatefulSet")).toEqual(["engine-0"]);
      expect(await ownedBy("replicasets", "Deployment", "/apis/apps/v1")).toHaveLength(1);
      expect(await ownedBy("pods", "ReplicaSet")).toHaveLength(1);
    }, 90_000);
  });
});
