import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helm, KubeCluster, REPO_ROOT, retry } from "@tradeplane/testkit";
import { CHART_DIR } from "../support/chart.ts";

/**
 * The chart on a real kube-apiserver (with kube-controller-manager, no kubelet), driven by
 * the real helm: install into a namespace that enforces the restricted Pod Security Standard,
 * upgrade with changed values, uninstall keeping the CRDs, and uninstall removing them when
 * told to. Every object must be accepted by the API server's own validation and admission.
 */

const NS = "tradeplane-system";
const WATCHED = ["trading-a", "trading-b"];
const RELEASE = "tp";
const CRDS = ["strategydeployments.tradeplane.io", "tradingvenues.tradeplane.io"];

let kube: KubeCluster;

beforeAll(async () => {
  kube = await KubeCluster.start();
  // Every namespace of the test enforces the restricted standard: a pod that breaks it is refused.
  for (const ns of [NS, ...WATCHED]) await kube.kubectl(["apply", "-f", "-"], JSON.stringify(restrictedNamespace(ns)));
});

afterAll(async () => {
  await kube?.dispose();
});

function restrictedNamespace(name: string) {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
      },
    },
  };
}

const run = (args: readonly string[]) => helm([...args, "--kube-context", "test"], { kubeconfig: kube.kubeconfig });

async function getJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kube.kubectl([...args, "-o", "json"])) as T;
}

type Meta = { metadata: { name: string; resourceVersion: string; namespace?: string } };
type List<T = Meta> = { items: T[] };

async function exists(args: readonly string[]): Promise<boolean> {
  const out = await kube.kubectl([...args, "--ignore-not-found", "-o", "name"]);
  return out.trim() !== "";
}

describe("the chart on a real API server", () => {
  const before = new Map<string, string>();

  it("installs: every object accepted, the CRDs established, the operator's pods admitted as restricted", async () => {
    const out = await run(["install", RELEASE, CHART_DIR, "--namespace", NS]);
    expect(out).toContain("STATUS: deployed");
    expect(out).not.toMatch(/would violate PodSecurity/);
    for (const crd of CRDS) await kube.kubectl(["wait", "--for=condition=Established", `crd/${crd}`, "--timeout=60s"]);

    const deployment = await getJson<Meta & { spec: { replicas: number } }>([
      "-n",
      NS,
      "get",
      "deployment",
      "tp-tradeplane-operator",
    ]);
    expect(deployment.spec.replicas).toBe(2);
    // The ReplicaSet controller creates the pods; PodSecurity admission would refuse them.
    await retry(async () => {
      const pods = await getJson<List>(["-n", NS, "get", "pods", "-l", "app.kubernetes.io/component=operator"]);
      expect(pods.items).toHaveLength(2);
    }, 60_000);
    expect(await exists(["get", "clusterrole", "tp-tradeplane-operator"])).toBe(true);
    for (const [kind, name] of [
      ["serviceaccount", "tp-tradeplane"],
      ["service", "tp-tradeplane-operator"],
      ["poddisruptionbudget", "tp-tradeplane-operator"],
      ["role", "tp-tradeplane-leader-election"],
    ] as const)
      before.set(`${kind}/${name}`, (await getJson<Meta>(["-n", NS, "get", kind, name])).metadata.resourceVersion);
    before.set("deployment", deployment.metadata.resourceVersion);
  });

  it("refuses, in the same namespace, a pod that breaks the restricted standard (admission is on)", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "unrestricted", namespace: NS },
      spec: { containers: [{ name: "c", image: "registry.invalid/c:1" }] },
    };
    await expect(kube.kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(pod))).rejects.toThrow(
      /violates PodSecurity "restricted:latest"/,
    );
  });

  it("accepts the helm test pod under the restricted standard", async () => {
    const manifest = await helm([
      "template",
      RELEASE,
      CHART_DIR,
      "--namespace",
      NS,
      "--show-only",
      "templates/tests/test-order.yaml",
    ]);
    const out = await kube.kubectl(["apply", "--dry-run=server", "-f", "-"], manifest);
    expect(out).toContain("pod/tp-tradeplane-test-order created (server dry run)");
  });

  it("serves the custom resources: the example venue is accepted", async () => {
    const venue = readFileSync(join(REPO_ROOT, "examples", "venue.yaml"), "utf8");
    expect(await kube.kubectl(["-n", WATCHED[0]!, "apply", "-f", "-"], venue)).toContain(
      "tradingvenue.tradeplane.io/demo created",
    );
  });

  it("upgrades with changed values, patching only what changed", async () => {
    const out = await run([
      "upgrade",
      RELEASE,
      CHART_DIR,
      "--namespace",
      NS,
      "--reuse-values",
      "--set",
      "operator.logLevel=debug",
      "--set",
      `operator.watchNamespaces={${WATCHED.join(",")}}`,
    ]);
    expect(out).toContain("STATUS: deployed");
    const deployment = await getJson<Meta & { spec: { template: { spec: { containers: { args: string[] }[] } } } }>([
      "-n",
      NS,
      "get",
      "deployment",
      "tp-tradeplane-operator",
    ]);
    expect(deployment.metadata.resourceVersion).not.toBe(before.get("deployment"));
    expect(deployment.spec.template.spec.containers[0]!.args).toEqual(
      expect.arrayContaining(["--log-level=debug", "--namespace=trading-a", "--namespace=trading-b"]),
    );
    // Watching listed namespaces: a Role in each, no cluster-wide role left behind.
    expect(await exists(["get", "clusterrole", "tp-tradeplane-operator"])).toBe(false);
    expect(await exists(["get", "clusterrolebinding", "tp-tradeplane-operator"])).toBe(false);
    for (const ns of WATCHED) {
      expect(await exists(["-n", ns, "get", "role", "tp-tradeplane-operator"])).toBe(true);
      expect(await exists(["-n", ns, "get", "rolebinding", "tp-tradeplane-operator"])).toBe(true);
    }
    for (const [key, version] of before) {
      if (key === "deployment") continue;
      const [kind, name] = key.split("/");
      expect((await getJson<Meta>(["-n", NS, "get", kind!, name!])).metadata.resourceVersion, key).toBe(version);
    }
  });

  it("uninstalls, keeping the CRDs and so every venue", async () => {
    await run(["uninstall", RELEASE, "--namespace", NS, "--wait"]);
    expect(await exists(["-n", NS, "get", "deployment", "tp-tradeplane-operator"])).toBe(false);
    for (const ns of WATCHED) expect(await exists(["-n", ns, "get", "role", "tp-tradeplane-operator"])).toBe(false);
    for (const crd of CRDS) expect(await exists(["get", "crd", crd])).toBe(true);
    expect(await exists(["-n", WATCHED[0]!, "get", "tradingvenue", "demo"])).toBe(true);
  });

  it("adopts the kept CRDs on a new install, and removes them on uninstall when crds.keep is false", async () => {
    await run(["install", RELEASE, CHART_DIR, "--namespace", NS, "--set", "crds.keep=false"]);
    const crd = await getJson<{ metadata: { annotations?: Record<string, string> } }>(["get", "crd", CRDS[1]!]);
    expect(crd.metadata.annotations?.["helm.sh/resource-policy"]).toBeUndefined();
    await run(["uninstall", RELEASE, "--namespace", NS, "--wait"]);
    await retry(async () => {
      for (const name of CRDS) expect(await exists(["get", "crd", name])).toBe(false);
    }, 60_000);
  });
});
