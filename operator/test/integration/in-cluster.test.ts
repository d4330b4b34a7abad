import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeCluster } from "@tradeplane/testkit";
import { InClusterConfig, TOKEN_REREAD_MS } from "../../src/kube/in-cluster.ts";
import { KubeClient } from "../../src/kube/kube-client.ts";
import { resourceOf } from "../../src/kube/resources.ts";

/**
 * The operator in a pod, against a real API server: a service account's token (from the
 * TokenRequest API, as the kubelet projects it) and the cluster's CA in a directory laid out
 * as Kubernetes mounts it, KUBERNETES_SERVICE_HOST/PORT set. The client reads what the
 * account may read, is refused what it may not, and picks up a rotated token within a minute.
 */
let kube: KubeCluster;
let admin: KubeClient;
const NS = "in-cluster";
const SA = "operator";
const configMapRef = { apiVersion: "v1", kind: "ConfigMap", namespace: NS, name: "visible" };

beforeAll(async () => {
  kube = await KubeCluster.start({ controllerManager: false });
  admin = await KubeClient.fromDefault({}, kube.kubeconfig);
  await kube.kubectl(["create", "namespace", NS]);
  await kube.kubectl(["-n", NS, "create", "serviceaccount", SA]);
  await kube.kubectl(["-n", NS, "create", "role", "read-config", "--verb=get", "--resource=configmaps"]);
  await kube.kubectl([
    "-n",
    NS,
    "create",
    "rolebinding",
    "read-config",
    "--role=read-config",
    `--serviceaccount=${NS}:${SA}`,
  ]);
  await admin.create({ ...configMapRef, metadata: { name: "visible", namespace: NS }, data: { seen: "yes" } });
}, 300_000);

afterAll(async () => {
  admin?.close();
  await kube?.dispose();
});

const newToken = async (): Promise<string> => (await kube.kubectl(["-n", NS, "create", "token", SA])).trim();

/** A service account directory as the kubelet mounts it, and the environment of a pod. */
async function podSetUp(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = mkdtempSync(join(tmpdir(), "sa-"));
  const caFile = (
    JSON.parse(readFileSync(kube.kubeconfig, "utf8")) as {
      clusters: { cluster: { "certificate-authority": string } }[];
    }
  ).clusters[0]!.cluster["certificate-authority"];
  writeFileSync(join(dir, "ca.crt"), readFileSync(caFile));
  writeFileSync(join(dir, "token"), await newToken());
  const server = new URL(kube.server);
  return { dir, env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port } };
}

describe("in-cluster configuration", () => {
  it("is chosen in a pod with no kubeconfig, and acts as the pod's service account", async () => {
    const { dir, env } = await podSetUp();
    const client = await KubeClient.fromDefault({}, undefined, {
      env,
      home: mkdtempSync(join(tmpdir(), "home-")),
      serviceAccountDir: dir,
    });
    try {
      expect((await client.get(configMapRef))?.data).toEqual({ seen: "yes" });
      await expect(client.list(resourceOf("v1", "Secret"), NS)).rejects.toMatchObject({ status: 403 });
    } finally {
      client.close();
    }
  }, 60_000);

  it("reads a rotated token again after a minute, and keeps the last one while the file is unreadable", async () => {
    const { dir, env } = await podSetUp();
    let now = 0;
    const config = InClusterConfig.find(env, dir, () => now)!;
    const client = new KubeClient(config);
    try {
      expect(await client.get(configMapRef)).toBeDefined();
      writeFileSync(join(dir, "token"), "not-a-token");
      now += TOKEN_REREAD_MS - 1;
      expect(await client.get(configMapRef)).toBeDefined();
      now += 1;
      await expect(client.get(configMapRef)).rejects.toMatchObject({ status: 401 });
      writeFileSync(join(dir, "token"), await newToken());
      now += TOKEN_REREAD_MS;
      expect(await client.get(configMapRef)).toBeDefined();
    } finally {
      client.close();
    }
  }, 60_000);

  it("is not found outside a pod", async () => {
    const { dir, env } = await podSetUp();
    expect(InClusterConfig.find({}, dir)).toBeUndefined();
    expect(InClusterConfig.find(env, mkdtempSync(join(tmpdir(), "no-sa-")))).toBeUndefined();
  });
});
