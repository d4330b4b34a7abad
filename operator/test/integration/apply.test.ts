import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, createMetricsRegistry } from "@tradeplane/platform";
import { KubeCluster, retry } from "@tradeplane/testkit";
import { ControllerManager } from "../../src/controllers/controller-manager.ts";
import { createOperatorMetrics } from "../../src/controllers/operator-metrics.ts";
import { Applier } from "../../src/kube/apply.ts";
import { KubeClient } from "../../src/kube/kube-client.ts";
import { refOf } from "../../src/kube/kube-object.ts";

/**
 * The applier's memo against a real API server: one entry per object it applied, none left
 * for an object once it is gone, whether the applier deleted it or someone else did (the
 * garbage collector taking a deleted venue's children): the operator's wiring hands every
 * deletion its informers see to `forget`.
 */
let kube: KubeCluster;
let client: KubeClient;
const NS = "applier";
const ROOT = new URL("../../../", import.meta.url);
const MANAGED = { "app.kubernetes.io/managed-by": "tradeplane-operator" };

beforeAll(async () => {
  kube = await KubeCluster.start({ controllerManager: false });
  client = await KubeClient.fromDefault({}, kube.kubeconfig);
  // The manager's informers watch the operator's own kinds too.
  await kube.kubectl(["apply", "-f", new URL("manifests/crds/", ROOT).pathname]);
  await kube.kubectl(["create", "namespace", NS]);
}, 300_000);

afterAll(async () => {
  client?.close();
  await kube?.dispose();
});

const configMap = (name: string, value: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: NS, labels: MANAGED },
  data: { value },
});
const refTo = (name: string) => refOf(configMap(name, ""));

describe("Applier memo", () => {
  it("holds one entry per applied object and none once the applier deletes it", async () => {
    const applier = new Applier(client);
    expect(await applier.apply(refTo("own"), configMap("own", "1"), undefined)).toBe("created");
    const live = await client.get(refTo("own"));
    expect(await applier.apply(refTo("own"), configMap("own", "1"), live)).toBe("noop");
    expect(applier.memoSize).toBe(1);
    expect(await applier.apply(refTo("own"), null, live)).toBe("deleted");
    expect(applier.memoSize).toBe(0);
  }, 60_000);

  it("forgets an object deleted behind its back, through the manager's deletion events", async () => {
    const applier = new Applier(client);
    const manager = new ControllerManager({
      client,
      namespaces: [NS],
      logger: createLogger({ service: "test", level: "silent" }),
      metrics: createOperatorMetrics(createMetricsRegistry("applier-test")),
      workers: 1,
      resyncMs: 60_000,
      onDeleted: (object) => applier.forget(refOf(object)),
    });
    manager.startInformers();
    try {
      await retry(async () => {
        if (!manager.synced) throw new Error("not synced");
      });
      for (const name of ["a", "b"]) await applier.apply(refTo(name), configMap(name, "1"), undefined);
      expect(applier.memoSize).toBe(2);
      // As the garbage collector removes a deleted venue's children: not through the applier.
      await client.delete(refTo("a"));
      await retry(async () => {
        if (applier.memoSize !== 1) throw new Error(`memo holds ${applier.memoSize}`);
      });
      expect(manager.cache.get("ConfigMap", NS, "b")).toBeDefined();
    } finally {
      await manager.stop();
    }
  }, 60_000);
});
