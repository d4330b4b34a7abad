import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Counter, type Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { createMetricsRegistry } from "@tradeplane/platform";
import { freePort, PrometheusServer, findBinary, REPO_ROOT } from "@tradeplane/testkit";
import { createEngineMetrics } from "@tradeplane/matching/adapters/engine-metrics";
import { OrderEntryMetrics } from "@tradeplane/risk/adapters/order-entry-metrics";
import { createOperatorMetrics } from "@tradeplane/operator/controllers/operator-metrics";
import { parseManifests, venueFrom, type StrategyDeployment } from "@tradeplane/operator/api/v1alpha1";
import { strategyDeployment, strategyModel } from "@tradeplane/operator/strategy-workload";
import { venueChildren } from "@tradeplane/operator/venue-children";
import { labelsOf, venueModel } from "@tradeplane/operator/venue-model";
import { DASHBOARDS } from "../../scripts/dashboards/panels.ts";
import { render, valuesFile } from "../support/chart.ts";
import { scanMetricSources } from "../support/metric-registrations.ts";
import {
  podMonitorJob,
  serviceMonitorJob,
  type DiscoveredEndpoint,
  type DiscoveredPod,
} from "../support/prometheus-operator-config.ts";
import { labelsOfAnnotation, labelsOfLegend, labelsOfQuery } from "../support/promql-labels.ts";

/**
 * The chart's PodMonitor and ServiceMonitor as a chart install applies them, without a
 * cluster: the scrape jobs prometheus-operator makes of them (support/prometheus-operator-
 * config.ts), for pods labelled by the operator's own builders and the operator's Service from
 * the chart, run by a real Prometheus against /metrics served from the services' own
 * registries. Every label an alert or a panel selects, groups by or names must be on the series
 * it reads, and TradeplaneEngineDown must fire (promtool) on `up` exactly as Prometheus
 * labelled the engine it could not scrape.
 */

const RULES = join(REPO_ROOT, "charts", "tradeplane", "files", "prometheus-rules", "tradeplane-alerts.yaml");
const NAMESPACE = "trading";
const VENUE = `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata: { name: demo, namespace: ${NAMESPACE}, uid: 3f1c2a9e-0000-4000-8000-00000000000a }
spec:
  instruments:
    - { symbol: RELIANCE, referencePrice: 130000, partition: 0 }
    - { symbol: INFY, referencePrice: 150000, partition: 1 }
  engine: { standby: true }
`;
/** A strategy across two venues: its pod is labelled with the first, its series with each. */
const STRATEGY = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: router, namespace: ${NAMESPACE}, uid: 5d2e7c1a-0000-4000-8000-00000000000b }
spec:
  venueRef: { name: demo }
  account: router-demo
  venues: [{ venueRef: { name: bse }, account: router-bse }]
  strategy: { builtin: smart-order-router, parameters: { side: BUY, totalQty: 150, limitPrice: 150100 } }
  instruments: [INFY]
`;
/** The engine whose pod Prometheus cannot reach (the partition's standby). */
const DOWN = "demo-engine-0-1";

const run = promisify(execFile);
const servers: Server[] = [];
let prometheus: PrometheusServer;

/** Serves `registry` at /metrics on a loopback port; resolves with host:port. */
async function serve(registry: Registry): Promise<string> {
  const server = createServer((_req, res) => {
    void registry.metrics().then((text) => res.writeHead(200, { "content-type": registry.contentType }).end(text));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return `127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
}

type PodTemplate = {
  metadata: { name: string };
  spec: {
    replicas?: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { name: string; ports?: { name: string }[] }[] };
    };
  };
};

/** The pods of a StatefulSet or Deployment as service discovery would find them (ordinal names). */
function podsOf(workload: PodTemplate): Omit<DiscoveredPod, "address">[] {
  const { template } = workload.spec;
  const container = template.spec.containers[0]!;
  return Array.from({ length: workload.spec.replicas ?? 1 }, (_, i) => ({
    namespace: NAMESPACE,
    name: `${workload.metadata.name}-${i}`,
    container: container.name,
    port: container.ports?.find((p) => p.name === "ops")?.name ?? "ops",
    labels: template.metadata.labels,
  }));
}

/** The registry each process makes, with a series of its own on it. */
function registryOf(labels: Record<string, string>): Registry {
  const component = labels["app.kubernetes.io/component"]!;
  const venue = labels["tradeplane.io/venue"]!;
  switch (component) {
    case "engine": {
      const registry = createMetricsRegistry("matching", { venue, partition: labels["tradeplane.io/partition"]! });
      createEngineMetrics(registry).role.set(1);
      return registry;
    }
    case "risk": {
      const registry = createMetricsRegistry("risk", { venue });
      new OrderEntryMetrics(registry).counted("submit", { outcome: "accepted" });
      return registry;
    }
    case "strategy": {
      const registry = createMetricsRegistry("strategy-runtime", { deployment: labels["tradeplane.io/strategy"]! });
      // As the runtime labels them (adapters/strategy-metrics.ts): each venue's series its own.
      const sessions = new Counter({
        name: "tp_strategy_sessions_total",
        help: "Session streams opened to the venue",
        labelNames: ["venue", "account"],
        registers: [registry],
      });
      sessions.inc({ venue: "demo", account: "router-demo" });
      sessions.inc({ venue: "bse", account: "router-bse" });
      return registry;
    }
    default:
      return createMetricsRegistry(component, { venue });
  }
}

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

async function samples(expr: string): Promise<Sample[]> {
  const result = await prometheus.query(expr);
  expect(result.error, expr).toBeUndefined();
  return (result.data?.result ?? []) as Sample[];
}

beforeAll(async () => {
  const chart = await render({ values: [valuesFile("monitoring-values.yaml")] });
  const one = (kind: string) => chart.find((o) => o.kind === kind)!;

  // The operator's pods of a venue (engines with standbys, risk, market data), FIX gateway and
  // journal pods as its builders label them, and a strategy's pod.
  const venue = venueFrom(parseManifests(VENUE, "venue.yaml"), "venue.yaml");
  const model = venueModel(venue, {
    images: { engine: "e", risk: "r", marketData: "m", fixGateway: "f", journal: "j" },
    natsUrl: ["nats://nats:4222"],
    pullSecrets: [],
  });
  const tokens = { "venue-operator": "a", "risk-officer": "b", "read-only": "c" };
  const workloads = venueChildren(model, tokens).objects.filter(
    (o) => o.kind === "StatefulSet" || o.kind === "Deployment",
  ) as unknown as PodTemplate[];
  const strategy = parseManifests(STRATEGY, "strategy.yaml")[0] as StrategyDeployment;
  const pods: Omit<DiscoveredPod, "address">[] = [
    ...workloads.flatMap(podsOf),
    ...(["fix-gateway", "journal"] as const).map((component) => ({
      namespace: NAMESPACE,
      name: `demo-${component}-0`,
      container: component,
      port: "ops",
      labels: labelsOf(model, component),
    })),
    ...podsOf(strategyDeployment(strategyModel(strategy, "runtime")) as unknown as PodTemplate),
  ];
  expect(pods.map((p) => p.name)).toContain(DOWN);
  const discovered: DiscoveredPod[] = [];
  for (const pod of pods)
    discovered.push({
      ...pod,
      // Nothing listens on the down engine's port.
      address: pod.name === DOWN ? `127.0.0.1:${await freePort()}` : await serve(registryOf(pod.labels)),
    });

  // The operator behind its Service, as the chart makes them.
  const service = chart.find((o) => o.kind === "Service")!;
  const operatorPod = (one("Deployment") as unknown as PodTemplate).spec.template;
  const operatorRegistry = createMetricsRegistry("operator");
  createOperatorMetrics(operatorRegistry).leader.set(1);
  const operator: DiscoveredEndpoint = {
    address: await serve(operatorRegistry),
    namespace: "tradeplane-system",
    name: "tp-tradeplane-operator-0",
    container: operatorPod.spec.containers[0]!.name,
    port: "ops",
    labels: operatorPod.metadata.labels,
    service: service.metadata.name,
    serviceLabels: service.metadata.labels ?? {},
  };

  prometheus = await PrometheusServer.start({
    targets: [],
    scrapeConfigs: [podMonitorJob(one("PodMonitor"), discovered), serviceMonitorJob(one("ServiceMonitor"), [operator])],
    ruleFiles: [RULES],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const targets = await prometheus.targets();
    if (targets.length === discovered.length + 1 && targets.every((t) => t.health !== "unknown")) break;
    if (Date.now() > deadline) throw new Error(`targets not scraped: ${JSON.stringify(targets)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  for (const s of servers) s.close();
});

describe("the chart's monitors, as a chart install's Prometheus applies them", () => {
  it("label `up` of each pod with its component, venue and engine partition, beside its namespace and pod", async () => {
    const byPod = new Map((await samples("up")).map((s) => [s.metric.pod, s.metric]));
    expect(byPod.get("demo-engine-1-0")).toMatchObject({
      component: "engine",
      venue: "demo",
      partition: "1",
      namespace: NAMESPACE,
      container: "engine",
      endpoint: "ops",
      job: "tradeplane-system/tp-tradeplane-venues",
    });
    expect(byPod.get("demo-risk-0")).toMatchObject({ component: "risk", venue: "demo", namespace: NAMESPACE });
    expect(byPod.get("demo-risk-0")).not.toHaveProperty("partition");
    expect(byPod.get("router-strategy-0")).toMatchObject({ component: "strategy", venue: "demo" });
    expect(byPod.get("tp-tradeplane-operator-0")).toMatchObject({
      component: "operator",
      service: "tp-tradeplane-operator",
      namespace: "tradeplane-system",
    });
  });

  it("find the engine TradeplaneEngineDown is about, by its venue and partition", async () => {
    const rule = (
      parse(readFileSync(RULES, "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] }
    ).groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert === "TradeplaneEngineDown")!;
    const down = await samples(rule.expr);
    expect(down.map((s) => s.metric)).toEqual([
      expect.objectContaining({ component: "engine", venue: "demo", partition: "0", pod: DOWN }),
    ]);
  });

  it("keep each process's own venue, partition and service on its series, with no exported_ label", async () => {
    for (const label of ["exported_venue", "exported_partition", "exported_service"])
      expect(await samples(`{${label}=~".+"}`), label).toEqual([]);
    const strategy = await samples("tp_strategy_sessions_total");
    expect(strategy.map((s) => [s.metric.venue, s.metric.account]).sort()).toEqual([
      ["bse", "router-bse"],
      ["demo", "router-demo"],
    ]);
    const engines = await samples("tp_engine_role");
    expect(engines.map((s) => [s.metric.pod, s.metric.partition, s.metric.service]).sort()).toEqual([
      ["demo-engine-0-0", "0", "matching"],
      ["demo-engine-1-0", "1", "matching"],
      ["demo-engine-1-1", "1", "matching"],
    ]);
    expect((await samples("tp_operator_leader"))[0]?.metric).toMatchObject({
      service: "operator",
      component: "operator",
    });
  });

  it("give every series each alert and dashboard panel reads every label it selects, groups by or names", async () => {
    // The labels of each metric's series: its own and its process's (the source scan), and
    // those Prometheus gave its pod's target (as on `up`).
    const targetLabels = new Map<string, Set<string>>();
    for (const s of await samples("up")) {
      const names = Object.keys(s.metric).filter((l) => l !== "__name__");
      const known = targetLabels.get(s.metric.component!);
      // A component's pods may differ (none does): keep the labels all of them have.
      targetLabels.set(s.metric.component!, new Set(known === undefined ? names : names.filter((l) => known.has(l))));
    }
    /** `up` of one component's targets, or of any target (the labels all have). */
    const upLabels = (component: string | undefined): Set<string> | undefined => {
      if (component !== undefined) return targetLabels.get(component);
      const all = [...targetLabels.values()];
      return new Set(all[0] === undefined ? [] : [...all[0]].filter((l) => all.every((a) => a.has(l))));
    };
    const COMPONENT: Readonly<Record<string, string>> = {
      matching: "engine",
      risk: "risk",
      "market-data": "market-data",
      "fix-gateway": "fix-gateway",
      journal: "journal",
      "strategy-runtime": "strategy",
      operator: "operator",
    };
    const scan = scanMetricSources(REPO_ROOT, [
      ...["services", "packages"].flatMap((top) =>
        readdirSync(join(REPO_ROOT, top), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => `${top}/${d.name}/src`),
      ),
      "operator/src",
    ]);
    const processOf = (file: string) =>
      file.startsWith("operator/") ? "operator" : file.split("/").slice(0, 2).join("/");
    const registries = new Map(scan.registries.map((r) => [processOf(r.file), r]));
    const labelsOfMetric = new Map<string, Set<string>>();
    for (const m of scan.metrics) {
      const registry = registries.get(processOf(m.file))!;
      const target = targetLabels.get(COMPONENT[registry.service]!);
      expect(target, `no pod of ${registry.service} was scraped`).toBeDefined();
      const labels = new Set(["service", ...registry.labels, ...m.labels, ...target!]);
      if (m.type === "histogram") labelsOfMetric.set(`${m.name}_bucket`, new Set([...labels, "le"]));
      for (const name of [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`])
        if (!labelsOfMetric.has(name)) labelsOfMetric.set(name, labels);
    }

    const rules = (
      parse(readFileSync(RULES, "utf8")) as {
        groups: { rules: { alert: string; expr: string; annotations: Record<string, string> }[] }[];
      }
    ).groups.flatMap((g) => g.rules);
    const queries = [
      ...rules.map((r) => ({
        what: `alert ${r.alert}`,
        expr: r.expr,
        named: Object.values(r.annotations).flatMap(labelsOfAnnotation),
      })),
      ...DASHBOARDS.flatMap((d) =>
        d.rows.flatMap((row) =>
          row.panels.flatMap((p) =>
            p.queries.map((q) => ({
              what: `panel ${d.uid}: ${p.title}`,
              expr: q.expr,
              named: labelsOfLegend(q.legend ?? ""),
            })),
          ),
        ),
      ),
    ];
    const missing: string[] = [];
    for (const { what, expr, named } of queries) {
      const { selectors, grouping } = labelsOfQuery(expr);
      for (const { metric, labels } of selectors) {
        const has =
          metric === "up" ? upLabels(/\bup\{[^}]*component="([^"]*)"/.exec(expr)?.[1]) : labelsOfMetric.get(metric);
        if (has === undefined) {
          missing.push(`${what}: reads ${metric}, which no process registers`);
          continue;
        }
        for (const label of new Set([...labels, ...grouping, ...named]))
          if (!has.has(label) && label !== "__name__") missing.push(`${what}: ${metric} has no label ${label}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("fire TradeplaneEngineDown on `up` as Prometheus labelled the engine it cannot scrape (promtool)", async () => {
    const [down] = await samples(`up{pod="${DOWN}"}`);
    const { __name__: _name, ...labels } = down!.metric;
    const series = `up{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(", ")}}`;
    const dir = mkdtempSync(join(tmpdir(), "tp-engine-down-"));
    try {
      writeFileSync(
        join(dir, "engine-down.test.yaml"),
        stringify({
          rule_files: [RULES],
          evaluation_interval: "15s",
          tests: [
            {
              interval: "15s",
              input_series: [{ series, values: "0x10" }],
              alert_rule_test: [
                {
                  eval_time: "2m",
                  alertname: "TradeplaneEngineDown",
                  exp_alerts: [
                    {
                      exp_labels: { ...labels, severity: "critical" },
                      exp_annotations: {
                        summary: "Engine of venue demo partition 0 is not answering scrapes",
                        description: `Prometheus has not scraped the matching engine at ${labels.instance} (pod ${NAMESPACE}/${DOWN}) for a minute.`,
                        runbook: "docs/runbooks/tradeplane-engine-down.md",
                      },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      );
      const { stdout, stderr } = await run(findBinary("promtool"), ["test", "rules", "engine-down.test.yaml"], {
        cwd: dir,
      });
      expect(`${stdout}${stderr}`).toContain("SUCCESS");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
