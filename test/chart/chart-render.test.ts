import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseOperatorArgs } from "@tradeplane/operator/config";
import { findBinary, helm, REPO_ROOT } from "@tradeplane/testkit";
import { LABELS } from "@tradeplane/operator/venue-model";
import { CHART_DIR, parseObjects, render, VALUES_FILES, valuesFile } from "../support/chart.ts";
import { podSpecOf, restrictedViolations } from "../support/pod-security.ts";
import { upstreamSchemaError, type RenderedObject } from "../support/upstream-schemas.ts";

/**
 * The chart, proven with the real helm without a cluster: lint, render under every example
 * values file, every object valid against the upstream schemas, every pod restricted, the
 * CRDs those of manifests/crds, the values schema strict, RBAC least privilege, and the
 * switches doing what values.yaml says. (The install test puts it on a real API server;
 * chart-values-doc.test.ts checks that every value is described.)
 */

const byKind = (objects: readonly RenderedObject[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: readonly RenderedObject[], kind: string): RenderedObject => {
  const found = byKind(objects, kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!;
};
type Container = { name: string; image: string; args: string[]; env?: { name: string }[] };
const operatorContainer = (objects: readonly RenderedObject[]): Container =>
  (one(objects, "Deployment").spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;

describe.each(VALUES_FILES)("the chart under ci/%s", (file) => {
  it("passes helm lint --strict", async () => {
    const out = await helm(["lint", "--strict", CHART_DIR, "--values", valuesFile(file)]);
    expect(out).toContain("0 chart(s) failed");
  });

  it("renders only objects that are valid against the upstream Kubernetes and prometheus-operator schemas", async () => {
    const objects = await render({ values: [valuesFile(file)] });
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.map(upstreamSchemaError).filter((e) => e !== undefined)).toEqual([]);
  });

  it("renders pods that meet the restricted Pod Security Standard with a read-only root filesystem", async () => {
    const pods = (await render({ values: [valuesFile(file)] }))
      .map((o) => ({ name: `${o.kind} ${o.metadata.name}`, spec: podSpecOf(o) }))
      .filter((p) => p.spec !== undefined);
    expect(pods.map((p) => p.name)).toEqual(["Deployment tp-tradeplane-operator", "Pod tp-tradeplane-test-order"]);
    for (const pod of pods) {
      expect(restrictedViolations(pod.spec!), pod.name).toEqual([]);
      for (const c of pod.spec!.containers) expect(c.securityContext?.readOnlyRootFilesystem, pod.name).toBe(true);
    }
  });

  it("passes the operator only arguments its own parser accepts", async () => {
    const { args } = operatorContainer(await render({ values: [valuesFile(file)] }));
    // Kubernetes expands $(POD_NAME) from the container's environment before the operator runs.
    const config = parseOperatorArgs(
      args.map((a) => a.replace("$(POD_NAME)", "tp-tradeplane-operator-0")),
      { POD_NAMESPACE: "tradeplane-system" },
    );
    expect(config.natsUrl.length).toBeGreaterThan(0);
  });

  it("labels every object with the app.kubernetes.io set", async () => {
    for (const o of await render({ values: [valuesFile(file)] }))
      expect(Object.keys(o.metadata.labels ?? {}), `${o.kind} ${o.metadata.name}`).toEqual(
        expect.arrayContaining([
          "app.kubernetes.io/name",
          "app.kubernetes.io/instance",
          "app.kubernetes.io/version",
          "app.kubernetes.io/managed-by",
          "app.kubernetes.io/part-of",
          "helm.sh/chart",
        ]),
      );
  });
});

describe("the CRDs", () => {
  const manifests = readdirSync(join(REPO_ROOT, "manifests", "crds"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => parseYaml(readFileSync(join(REPO_ROOT, "manifests", "crds", f), "utf8")) as RenderedObject);

  it("are those of manifests/crds, with the chart's labels and the keep annotation added", async () => {
    const crds = byKind(await render(), "CustomResourceDefinition");
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(manifests.map((m) => m.metadata.name).sort());
    for (const manifest of manifests) {
      const crd = crds.find((c) => c.metadata.name === manifest.metadata.name)!;
      expect(crd.spec).toEqual(manifest.spec);
      expect(crd.metadata.labels).toMatchObject(manifest.metadata.labels ?? {});
      expect(crd.metadata).toMatchObject({ annotations: { "helm.sh/resource-policy": "keep" } });
    }
  });

  it.each([
    ["crds.enabled=false leaves them out", ["crds.enabled=false"], 0, false],
    ["crds.keep=false renders them without the keep annotation", ["crds.keep=false"], 2, false],
    ["the defaults render both with the keep annotation", [], 2, true],
  ])("%s", async (_name, set, count, kept) => {
    const crds = byKind(await render({ set }), "CustomResourceDefinition");
    expect(crds).toHaveLength(count);
    for (const crd of crds)
      expect((crd.metadata as { annotations?: Record<string, string> }).annotations?.["helm.sh/resource-policy"]).toBe(
        kept ? "keep" : undefined,
      );
  });
});

describe("the values", () => {
  it.each([
    ["an unknown key", "replicas=2", "additional properties 'replicas' not allowed"],
    ["a misspelt nested key", "operator.replica=2", "additional properties 'replica' not allowed"],
    ["no operator replica", "operator.replicas=0", "/operator/replicas"],
    ["an unknown log level", "operator.logLevel=verbose", "/operator/logLevel"],
    ["an http URL for NATS", "nats.urls[0]=http://nats:4222", "/nats/urls/0"],
    ["an unknown pull policy", "image.pullPolicy=Sometimes", "/image/pullPolicy"],
    ["a namespace that is no DNS label", "operator.watchNamespaces[0]=Trading_A", "/operator/watchNamespaces/0"],
    ["a digest that is not sha256", "operator.image.digest=latest", "/operator/image/digest"],
    ["a negative test price", "tests.order.price=-1", "/tests/order/price"],
    ["a sequence status interval of zero", "operator.sequenceStatusSeconds=0", "/operator/sequenceStatusSeconds"],
    ["an unknown trace exporter", "operator.tracing.exporter=jaeger", "/operator/tracing/exporter"],
    ["a trace sample ratio above 1", "operator.tracing.sampleRatio=1.5", "/operator/tracing/sampleRatio"],
    [
      "a venue image pull Secret that is no Secret name",
      "venueImages.pullSecrets[0].name=Reg_Cred",
      "/venueImages/pullSecrets/0/name",
    ],
    [
      "a venue image pull Secret given as a bare name",
      "venueImages.pullSecrets[0]=regcred",
      "/venueImages/pullSecrets/0",
    ],
    [
      "a scrape interval without a unit",
      "monitoring.serviceMonitor.interval=30",
      "/monitoring/serviceMonitor/interval",
    ],
  ])("values.schema.json refuses %s", async (_name, set, message) => {
    await expect(render({ set: [set] })).rejects.toThrow(message);
  });

  it("passes operator.sequenceStatusSeconds to the operator", async () => {
    const c = operatorContainer(await render({ set: ["operator.sequenceStatusSeconds=120"] }));
    expect(c.args).toContain("--sequence-status-seconds=120");
  });

  it("passes the operator's tracing settings only when it exports traces", async () => {
    expect(operatorContainer(await render()).args?.some((a) => a.startsWith("--trac"))).toBe(false);
    const c = operatorContainer(
      await render({
        set: [
          "operator.tracing.exporter=otlp",
          "operator.tracing.otlpEndpoint=http://tempo.monitoring:4318/v1/traces",
          "operator.tracing.sampleRatio=0.1",
          "operator.tracing.resourceAttributes.deployment\\.environment=prod",
        ],
      }),
    );
    expect(c.args).toEqual(
      expect.arrayContaining([
        "--tracing=otlp",
        "--otlp-endpoint=http://tempo.monitoring:4318/v1/traces",
        "--trace-sample-ratio=0.1",
        "--trace-resource-attribute=deployment.environment=prod",
      ]),
    );
  });

  it("refuses two operator replicas without leader election", async () => {
    await expect(render({ set: ["operator.leaderElection.enabled=false"] })).rejects.toThrow(
      "operator.replicas > 1 needs operator.leaderElection.enabled",
    );
  });
});

describe("the operator", () => {
  it("runs two replicas that elect a leader through a Lease, each campaigning as its pod", async () => {
    const objects = await render();
    const deployment = one(objects, "Deployment");
    expect(deployment.spec).toMatchObject({ replicas: 2 });
    const c = operatorContainer(objects);
    expect(c.image).toBe("ghcr.io/tradeplane/operator:0.1.0");
    expect(c.args).toEqual(
      expect.arrayContaining([
        "--nats-url=nats://nats:4222",
        "--lease-name=tradeplane-operator",
        "--identity=$(POD_NAME)",
        "--image-repository=ghcr.io/tradeplane",
        "--image-tag=0.1.0",
        "--sequence-status-seconds=30",
      ]),
    );
    expect(c.env?.map((e) => e.name)).toEqual(["POD_NAMESPACE", "POD_NAME"]);
    expect(one(objects, "PodDisruptionBudget").spec).toMatchObject({ maxUnavailable: 1 });
  });

  it("is bound cluster-wide to exactly the resources it manages, and to its own Lease", async () => {
    const objects = await render();
    const rules = (one(objects, "ClusterRole") as unknown as { rules: { resources: string[]; verbs: string[] }[] })
      .rules;
    const granted = rules.flatMap((r) => r.resources.map((res) => `${res}:${[...r.verbs].sort().join(",")}`)).sort();
    expect(granted).toEqual([
      "configmaps:create,delete,get,list,patch,update,watch",
      "deployments:create,delete,get,list,patch,update,watch",
      "events:create,patch",
      "networkpolicies:create,delete,get,list,patch,update,watch",
      "persistentvolumeclaims:create,get,list,patch,watch",
      "poddisruptionbudgets:create,delete,get,list,patch,update,watch",
      "pods:delete,get,list,watch",
      "secrets:create,delete,get,list,patch,update,watch",
      "serviceaccounts:create,delete,get,list,patch,update,watch",
      "services:create,delete,get,list,patch,update,watch",
      "statefulsets:create,delete,get,list,patch,update,watch",
      "strategydeployments/finalizers:get,patch,update",
      "strategydeployments/status:get,patch,update",
      "strategydeployments:get,list,patch,update,watch",
      "tradingvenues/finalizers:get,patch,update",
      "tradingvenues/status:get,patch,update",
      "tradingvenues:get,list,patch,update,watch",
    ]);
    const leader = byKind(objects, "Role").find((r) => r.metadata.name.endsWith("-leader-election"))!;
    expect(leader).toMatchObject({
      metadata: { namespace: "tradeplane-system" },
      rules: [
        { resources: ["leases"], verbs: ["create"] },
        { resources: ["leases"], resourceNames: ["tradeplane-operator"], verbs: ["get", "update"] },
      ],
    });
    expect(one(objects, "ClusterRoleBinding")).toMatchObject({
      subjects: [{ kind: "ServiceAccount", name: "tp-tradeplane", namespace: "tradeplane-system" }],
    });
  });

  it("is given a Role in each watched namespace and no cluster-wide role when namespaces are listed", async () => {
    const objects = await render({ values: [valuesFile("namespaced-values.yaml")] });
    expect(byKind(objects, "ClusterRole")).toEqual([]);
    expect(byKind(objects, "ClusterRoleBinding")).toEqual([]);
    const roles = byKind(objects, "Role").filter((r) => r.metadata.name === "tp-tradeplane-operator");
    expect(roles.map((r) => r.metadata.namespace)).toEqual(["trading-a", "trading-b"]);
    const bindings = byKind(objects, "RoleBinding").filter((r) => r.metadata.name === "tp-tradeplane-operator");
    expect(bindings.map((r) => r.metadata.namespace)).toEqual(["trading-a", "trading-b"]);
    expect(operatorContainer(objects).args).toEqual(
      expect.arrayContaining(["--namespace=trading-a", "--namespace=trading-b"]),
    );
  });

  it("reaches an external NATS over TLS with credentials, CA and client certificate from Secrets", async () => {
    const objects = await render({ values: [valuesFile("external-nats-tls-values.yaml")] });
    const c = operatorContainer(objects);
    expect(c.args).toEqual(
      expect.arrayContaining([
        "--nats-url=tls://nats-0.nats.nats.svc:4222,tls://nats-1.nats.nats.svc:4222,tls://nats-2.nats.nats.svc:4222",
        "--nats-creds-file=/etc/tradeplane/nats/credentials/operator.creds",
        "--nats-tls",
        "--nats-tls-ca-file=/etc/tradeplane/nats/ca/ca.crt",
        "--nats-tls-cert-file=/etc/tradeplane/nats/client/tls.crt",
        "--nats-tls-key-file=/etc/tradeplane/nats/client/tls.key",
      ]),
    );
    const volumes = (one(objects, "Deployment").spec as { template: { spec: { volumes: object[] } } }).template.spec
      .volumes;
    expect(volumes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ secret: expect.objectContaining({ secretName: "tradeplane-nats-credentials" }) }),
        expect.objectContaining({ secret: expect.objectContaining({ secretName: "nats-ca" }) }),
        expect.objectContaining({ secret: expect.objectContaining({ secretName: "tradeplane-nats-client-tls" }) }),
      ]),
    );
  });

  it("requires TLS to NATS with nats.tls.enabled alone, verified against the system's CAs", async () => {
    const plain = operatorContainer(await render()).args.filter((a) => a.startsWith("--nats-tls"));
    expect(plain).toEqual([]);
    const objects = await render({ set: ["nats.tls.enabled=true"] });
    expect(operatorContainer(objects).args.filter((a) => a.startsWith("--nats-tls"))).toEqual(["--nats-tls"]);
    const volumes = (one(objects, "Deployment").spec as { template: { spec: { volumes: { name: string }[] } } })
      .template.spec.volumes;
    expect(volumes.map((v) => v.name)).toEqual(["tmp"]);
  });

  it("runs images pinned by digest from a private registry, and tells the operator the venues' tag and pull Secret", async () => {
    const objects = await render({ values: [valuesFile("pinned-engine-values.yaml")] });
    const c = operatorContainer(objects);
    expect(c.image).toBe(
      "registry.example.com/tradeplane/operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    );
    expect(c.args).toEqual(
      expect.arrayContaining([
        "--image-repository=registry.example.com/tradeplane",
        "--image-tag=0.1.0",
        "--image-pull-secret=registry-credentials",
      ]),
    );
  });

  it.each([
    ["none by default", [], []],
    ["one flag per Secret of venueImages.pullSecrets", ["regcred", "mirror.example"], ["regcred", "mirror.example"]],
  ])("passes the venues' image pull Secrets as --image-pull-secret: %s", async (_name, names, expected) => {
    const set = names.map((name, i) => `venueImages.pullSecrets[${i}].name=${name}`);
    const objects = await render({ set: [...set, "image.pullSecrets[0].name=operator-only"] });
    const c = operatorContainer(objects);
    expect(c.args.filter((a) => a.startsWith("--image-pull-secret"))).toEqual(
      expected.map((n) => `--image-pull-secret=${n}`),
    );
    // image.pullSecrets stays the chart's own pods': it is no flag of the operator.
    expect(c.args.join(" ")).not.toContain("operator-only");
  });
});

describe("monitoring", () => {
  it("renders the ServiceMonitor, PodMonitor and PrometheusRule with the extra labels, and every alert with the alert labels", async () => {
    const objects = await render({ values: [valuesFile("monitoring-values.yaml")] });
    for (const kind of ["ServiceMonitor", "PodMonitor", "PrometheusRule"])
      expect(one(objects, kind).metadata.labels).toMatchObject({ release: "kube-prometheus-stack" });
    const rule = one(objects, "PrometheusRule").spec as { groups: { rules: { alert?: string; labels?: object }[] }[] };
    const alerts = rule.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) expect(alert.labels, alert.alert).toMatchObject({ team: "trading-platform" });
  });

  it("renders each dashboard of charts/tradeplane/dashboards as a ConfigMap labelled for Grafana's sidecar", async () => {
    const files = readdirSync(join(CHART_DIR, "dashboards")).filter((f) => f.endsWith(".json"));
    const maps = byKind(await render({ values: [valuesFile("monitoring-values.yaml")] }), "ConfigMap");
    expect(maps).toHaveLength(files.length);
    for (const map of maps) {
      expect(map.metadata.labels).toMatchObject({ grafana_dashboard: "1" });
      for (const json of Object.values(map.data as Record<string, string>))
        expect((JSON.parse(json) as { title: string }).title).toMatch(/^Tradeplane/);
    }
  });

  /** Kubernetes service discovery's meta label of a pod label (prometheus-operator's sanitizeLabelName). */
  const podLabelMeta = (label: string) => `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;
  type Relabeling = { sourceLabels?: string[]; targetLabel?: string; regex?: string; action?: string };
  type Endpoint = { relabelings?: Relabeling[]; metricRelabelings?: Relabeling[] };

  it("labels every venue pod's series with the component, venue and partition the operator labels the pod with, keeping a process's own", async () => {
    const monitor = one(await render({ values: [valuesFile("monitoring-values.yaml")] }), "PodMonitor");
    const [endpoint] = (monitor.spec as { podMetricsEndpoints: Endpoint[] }).podMetricsEndpoints;
    // The operator's label keys themselves: renaming one there fails here.
    expect(endpoint!.relabelings).toEqual([
      { sourceLabels: [podLabelMeta(LABELS.component)], targetLabel: "component" },
      { sourceLabels: [podLabelMeta(LABELS.venue)], targetLabel: "venue" },
      { sourceLabels: [podLabelMeta(LABELS.partition)], targetLabel: "partition" },
    ]);
    expect(endpoint!.metricRelabelings).toEqual([
      { sourceLabels: ["exported_venue"], regex: "(.+)", targetLabel: "venue" },
      { sourceLabels: ["exported_partition"], regex: "(.+)", targetLabel: "partition" },
      { action: "labeldrop", regex: "exported_(venue|partition)" },
    ]);
  });

  it("labels the operator's series component=operator, keeping its own service label", async () => {
    const objects = await render({ values: [valuesFile("monitoring-values.yaml")] });
    const [endpoint] = (one(objects, "ServiceMonitor").spec as { endpoints: Endpoint[] }).endpoints;
    expect(endpoint!.relabelings).toEqual([
      { sourceLabels: ["__meta_kubernetes_service_label_app_kubernetes_io_component"], targetLabel: "component" },
    ]);
    expect(one(objects, "Service").metadata.labels).toMatchObject({ "app.kubernetes.io/component": "operator" });
    expect(endpoint!.metricRelabelings).toEqual([
      { sourceLabels: ["exported_service"], regex: "(.+)", targetLabel: "service" },
      { action: "labeldrop", regex: "exported_service" },
    ]);
  });

  it("renders no monitoring object by default", async () => {
    const kinds = (await render()).map((o) => o.kind);
    for (const kind of ["ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"])
      expect(kinds).not.toContain(kind);
  });

  it("ships alerting rules that promtool accepts", async () => {
    const dir = join(CHART_DIR, "files", "prometheus-rules");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => join(dir, f));
    const out = await new Promise<string>((resolve, reject) =>
      execFile(findBinary("promtool"), ["check", "rules", ...files], (err, stdout, stderr) =>
        err === null ? resolve(stdout) : reject(new Error(`${stdout}${stderr}`)),
      ),
    );
    expect(out).toContain("SUCCESS");
  });
});

describe("the helm test hook", () => {
  type TestPod = RenderedObject & {
    metadata: { annotations: Record<string, string> };
    spec: { containers: (Container & { env: object[] })[]; volumes: { name: string; secret?: object }[] };
  };

  it("enters an immediate-or-cancel order on the venue with the CLI image and a token file from a Secret", async () => {
    const pod = one(await render({ values: [valuesFile("namespaced-values.yaml")] }), "Pod") as TestPod;
    expect(pod.metadata).toMatchObject({ namespace: "trading-a", annotations: { "helm.sh/hook": "test" } });
    const c = pod.spec.containers[0]!;
    expect(c.image).toBe("ghcr.io/tradeplane/cli:0.1.0");
    expect(c.args).toEqual([
      "--json",
      "order",
      "submit",
      "INFY",
      "--account=helm-test",
      "--side=buy",
      "--qty=1",
      "--price=150000",
      "--tif=ioc",
      "--token-file=/etc/tradeplane/token/token",
    ]);
    expect(c.env).toEqual([{ name: "TP_ENDPOINT", value: "demo-risk.trading-a.svc:50061" }]);
    expect(pod.spec.volumes).toContainEqual(
      expect.objectContaining({
        name: "token",
        secret: expect.objectContaining({ secretName: "tradeplane-helm-test-token" }),
      }),
    );
  });

  it("reaches the gateway over mutual TLS with the CA and client certificate from Secrets", async () => {
    const pod = one(await render({ values: [valuesFile("external-nats-tls-values.yaml")] }), "Pod") as TestPod;
    expect(pod.spec.containers[0]!.args).toEqual(
      expect.arrayContaining([
        "--tls-ca=/etc/tradeplane/tls/ca/ca.crt",
        "--tls-cert=/etc/tradeplane/tls/client/tls.crt",
        "--tls-key=/etc/tradeplane/tls/client/tls.key",
      ]),
    );
    const secrets = pod.spec.volumes.flatMap((v) =>
      v.secret === undefined ? [] : [(v.secret as { secretName: string }).secretName],
    );
    expect(secrets).toEqual(["tradeplane-helm-test-token", "venue-grpc-ca", "helm-test-client-tls"]);
  });
});

describe("the Tiltfile's values", () => {
  it("render valid objects with the images Tilt builds and loads into kind", async () => {
    const objects = await render({ values: [join(REPO_ROOT, "manifests", "tilt-values.yaml")] });
    expect(objects.map(upstreamSchemaError).filter((e) => e !== undefined)).toEqual([]);
    const c = operatorContainer(objects);
    expect(c.image).toBe("tradeplane/operator:dev");
    expect(c.args).toEqual(expect.arrayContaining(["--image-repository=tradeplane", "--image-tag=dev"]));
  });
});

describe("rendering", () => {
  it("gives the same objects for the same values (no random names or timestamps)", async () => {
    const file = valuesFile("monitoring-values.yaml");
    const [a, b] = await Promise.all([
      helm(["template", "tp", CHART_DIR, "-f", file]),
      helm(["template", "tp", CHART_DIR, "-f", file]),
    ]);
    expect(parseObjects(a)).toEqual(parseObjects(b));
  });
});
