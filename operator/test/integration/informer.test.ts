import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@tradeplane/platform";
import { KubeCluster, retry } from "@tradeplane/testkit";
import { Informer, type InformerEventType } from "../../src/kube/informer.ts";
import { KubeClient } from "../../src/kube/kube-client.ts";
import { resourceOf } from "../../src/kube/resources.ts";

/**
 * The supervised informer against a real API server: it lists, follows the watch across
 * the server's own watch timeouts without a relist, restarts through a relist when the
 * watch goes silent past the watchdog, and resyncs its cache without API calls.
 */
let kube: KubeCluster;
let client: KubeClient;
const NS = "informer";

beforeAll(async () => {
  kube = await KubeCluster.start({ controllerManager: false });
  client = await KubeClient.fromDefault({}, kube.kubeconfig);
  await kube.kubectl(["create", "namespace", NS]);
}, 300_000);

afterAll(async () => {
  client?.close();
  await kube?.dispose();
});

const configMap = (name: string, value: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: NS },
  data: { value },
});

describe("Informer", () => {
  it("keeps its cache in step across watch timeouts and resyncs, with no restart", async () => {
    const events: [InformerEventType, string][] = [];
    const restarts: string[] = [];
    await client.create(configMap("before", "1"));
    const informer = new Informer({
      client,
      resource: resourceOf("v1", "ConfigMap"),
      namespace: NS,
      logger: createLogger({ service: "test", level: "silent" }),
      onEvent: (type, o) => events.push([type, o.metadata.name]),
      onRestart: (_resource, reason) => restarts.push(reason),
      // The server ends each watch after 1 s; the watchdog fires after 2 s without an event.
      watchdogMs: 2_000,
      resyncMs: 1_500,
      random: () => 0.5,
    });
    informer.start();
    try {
      await retry(async () => {
        if (!informer.hasSynced()) throw new Error("not synced");
      });
      expect(events).toContainEqual(["added", "before"]);
      // Changes spread over several watch timeouts all arrive.
      for (let n = 0; n < 3; n++) {
        await client.create(configMap(`cm-${n}`, "1"));
        await new Promise((r) => setTimeout(r, 1_200));
      }
      await client.apply(configMap("cm-0", "2"), "test");
      await client.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: NS, name: "cm-1" });
      await retry(async () => {
        const names = informer
          .list()
          .map((o) => o.metadata.name)
          .sort();
        if (names.join() !== "before,cm-0,cm-2") throw new Error(names.join());
        if ((informer.get(NS, "cm-0")?.data as { value?: string })?.value !== "2") throw new Error("cm-0 not updated");
      });
      expect(events).toEqual(
        expect.arrayContaining([
          ["modified", "cm-0"],
          ["deleted", "cm-1"],
          ["resync", "before"],
        ]),
      );
      expect(restarts).toEqual([]);
    } finally {
      await informer.stop();
    }
  }, 60_000);

  it("caches objects without their managedFields, from the list and from the watch", async () => {
    const labelled = (name: string, value: string) => ({
      ...configMap(name, value),
      metadata: { name, namespace: NS, labels: { slim: "yes" } },
    });
    await client.apply(labelled("listed", "1"), "test");
    const informer = new Informer({
      client,
      resource: resourceOf("v1", "ConfigMap"),
      namespace: NS,
      labelSelector: "slim=yes",
      logger: createLogger({ service: "test", level: "silent" }),
      onEvent: () => undefined,
    });
    informer.start();
    try {
      await retry(async () => {
        if (!informer.hasSynced()) throw new Error("not synced");
      });
      await client.apply(labelled("watched", "1"), "test");
      await retry(async () => {
        if (informer.get(NS, "watched") === undefined) throw new Error("not seen yet");
      });
      for (const name of ["listed", "watched"]) {
        // The server keeps them; the cache does not.
        const live = await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: NS, name });
        expect(live?.metadata.managedFields?.length).toBeGreaterThan(0);
        const cached = informer.get(NS, name)!;
        expect(cached.metadata.managedFields).toBeUndefined();
        expect(cached.data).toEqual({ value: "1" });
      }
    } finally {
      await informer.stop();
    }
  }, 60_000);

  it("restarts a watch whose connection was cut, relists and misses nothing", async () => {
    const proxy = await cuttableProxy(new URL(kube.server).port);
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfig);
    const cluster = config.getCurrentCluster()!;
    config.clusters = [{ ...cluster, server: `https://127.0.0.1:${proxy.port}` }];
    const cutClient = new KubeClient(config);
    const restarts: string[] = [];
    const informer = new Informer({
      client: cutClient,
      resource: resourceOf("v1", "ConfigMap"),
      namespace: NS,
      labelSelector: "cut=yes",
      logger: createLogger({ service: "test", level: "silent" }),
      onEvent: () => undefined,
      onRestart: (_resource, reason) => restarts.push(reason),
    });
    informer.start();
    try {
      await retry(async () => {
        if (!informer.hasSynced()) throw new Error("not synced");
      });
      proxy.cut();
      // Written while the watch is down: the relist after the restart must bring it.
      await client.create({
        ...configMap("while-cut", "1"),
        metadata: { name: "while-cut", namespace: NS, labels: { cut: "yes" } },
      });
      await retry(async () => {
        if (informer.get(NS, "while-cut") === undefined) throw new Error("not seen yet");
      });
      expect(restarts.length).toBeGreaterThanOrEqual(1);
    } finally {
      await informer.stop();
      cutClient.close();
      proxy.close();
    }
  }, 60_000);
});

/** A TCP proxy to the API server whose connections the test can cut all at once. */
async function cuttableProxy(targetPort: string): Promise<{ port: number; cut(): void; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(Number(targetPort), "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    close: () => {
      cut();
      server.close();
    },
  };
}
