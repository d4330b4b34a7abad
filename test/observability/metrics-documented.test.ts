import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMetricsRegistry } from "@tradeplane/platform";
import { REPO_ROOT } from "@tradeplane/testkit";
import { createEngineMetrics, registerPublishedMark } from "@tradeplane/matching/adapters/engine-metrics";
import { MarketState } from "@tradeplane/market-data/domain/market-state";
import { FixMetrics } from "@tradeplane/fix-gateway/adapters/fix-metrics";
import { projectorMetrics } from "@tradeplane/journal/adapters/projector-metrics";
import { lagSecondsGauge, queryMetrics } from "@tradeplane/journal/adapters/query-metrics";
import { registerBookMetrics } from "@tradeplane/market-data/adapters/book-metrics";
import { Hub } from "@tradeplane/market-data/adapters/hub";
import { StateSnapshots } from "@tradeplane/market-data/adapters/state-snapshots";
import { KillSwitchConvergence } from "@tradeplane/risk/adapters/kill-switch-convergence";
import { OrderEntryMetrics } from "@tradeplane/risk/adapters/order-entry-metrics";
import { OwnerMetrics } from "@tradeplane/risk/adapters/owner-metrics";
import { registerRiskGauges } from "@tradeplane/risk/adapters/risk-metrics";
import { registerStrategyMetrics } from "@tradeplane/strategy-runtime/adapters/strategy-metrics";
import { createOperatorMetrics } from "@tradeplane/operator/controllers/operator-metrics";
import { DASHBOARDS } from "../../scripts/dashboards/panels.ts";
import { scanMetricSources, type MetricType } from "../support/metric-registrations.ts";
import { parseMetricsReference, type DocumentedMetric } from "../support/metrics-reference.ts";

/**
 * docs/metrics.md against the metrics the processes register. The source is read with the
 * TypeScript parser (support/metric-registrations.ts): every prom-client constructor in the
 * services, the operator and the packages, wherever it sits (market data registers some in
 * main(), which needs NATS). That scan is checked against real registries for every module
 * that can register its metrics without a running service, and prom-client's default
 * metrics come from a real registry. No venue is started: the live check of dashboards and
 * alerts is test/integration/prometheus-queries.test.ts.
 */

const REFERENCE = "docs/metrics.md";
const DEFAULTS_HEADING = "Every process: Node.js and process metrics";
const SOURCE_DIRS = [
  ...["services", "packages"].flatMap((top) =>
    readdirSync(join(REPO_ROOT, top), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `${top}/${d.name}/src`),
  ),
  "operator/src",
];
const RULES = join(REPO_ROOT, "charts", "tradeplane", "files", "prometheus-rules", "tradeplane-alerts.yaml");

const scan = scanMetricSources(REPO_ROOT, SOURCE_DIRS);
const reference = parseMetricsReference(readFileSync(join(REPO_ROOT, REFERENCE), "utf8"));
const documented = new Map<string, DocumentedMetric[]>();
for (const m of reference.metrics) documented.set(m.name, [...(documented.get(m.name) ?? []), m]);

interface Shape {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
}

/** What a real registry holds, as name, type and sorted label names. */
function shapesOf(registry: Registry): Shape[] {
  return registry
    .getMetricsAsArray()
    .map((m) => ({
      name: m.name,
      // prom-client sets `type` to "counter", "gauge", ... (its typings say an enum).
      type: String(m.type) as MetricType,
      // Declared on every metric, missing from MetricObject's typings.
      labels: [...((m as { labelNames?: readonly string[] }).labelNames ?? [])].sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The folder a metric's process is built from: services/<name> or operator. */
const processDir = (file: string) =>
  file.startsWith("operator/") ? "operator" : file.split("/").slice(0, 2).join("/");
const serviceOf = new Map(scan.registries.map((r) => [processDir(r.file), r.service]));

/** Every metric a process exposes, with where it comes from and the section it belongs in. */
interface Exposed extends Shape {
  readonly origin: string;
  /** The `service` of the section it must be documented in; undefined: the default metrics' section. */
  readonly service: string | undefined;
}

const exposed: Exposed[] = [
  ...scan.metrics.map((m) => ({
    name: m.name,
    type: m.type,
    labels: m.labels,
    origin: `${m.file}:${m.line}`,
    service: serviceOf.get(processDir(m.file)),
  })),
  ...shapesOf(createMetricsRegistry("metrics-reference")).map((m) => ({
    ...m,
    origin: "prom-client's default metrics (packages/platform/src/metrics.ts)",
    service: undefined,
  })),
];
const exposedNames = new Map(exposed.map((m) => [m.name, m]));

/** For the registry cases: a dependency that only collect() reads, which getMetricsAsArray never runs. */
const readAtScrapeOnly = <T>(): T => ({}) as T;

/**
 * Every source file that registers metrics, registered on a fresh registry the way its process
 * does, without starting anything. A file that cannot be is in SOURCE_ONLY, with the reason.
 */
const REGISTRY_CASES: readonly { file: string; register: (registry: Registry) => void }[] = [
  {
    file: "services/matching/src/adapters/engine-metrics.ts",
    register: (registry) => {
      createEngineMetrics(registry);
      registerPublishedMark(registry, () => ({ cmdSeq: 0, index: 0 }));
    },
  },
  {
    file: "services/risk/src/adapters/order-entry-metrics.ts",
    register: (registry) => new OrderEntryMetrics(registry),
  },
  {
    file: "services/risk/src/adapters/risk-metrics.ts",
    register: (registry) =>
      registerRiskGauges({
        registry,
        accounts: readAtScrapeOnly(),
        projection: readAtScrapeOnly(),
        follower: readAtScrapeOnly(),
        listedInstruments: 0,
      }),
  },
  {
    file: "services/risk/src/adapters/owner-metrics.ts",
    register: (registry) => new OwnerMetrics(registry, () => []),
  },
  {
    file: "services/risk/src/adapters/kill-switch-convergence.ts",
    register: (registry) =>
      new KillSwitchConvergence({
        switches: () => [],
        blocks: () => [],
        partitions: [],
        write: () => Promise.resolve(),
        graceMs: 0,
        logger: readAtScrapeOnly(),
        registry,
      }),
  },
  {
    file: "services/market-data/src/adapters/book-metrics.ts",
    register: (registry) => registerBookMetrics(registry, readAtScrapeOnly()),
  },
  {
    file: "services/market-data/src/adapters/hub.ts",
    register: (registry) =>
      new Hub({
        state: new MarketState([], { tradesKept: 1, barsKept: 1 }),
        historySize: 1,
        maxQueued: 1,
        fanoutIntervalMs: 0,
        registry,
      }),
  },
  {
    file: "services/market-data/src/adapters/state-snapshots.ts",
    register: (registry) =>
      new StateSnapshots({ store: readAtScrapeOnly(), keep: 1, logger: readAtScrapeOnly(), registry }),
  },
  {
    file: "services/fix-gateway/src/adapters/fix-metrics.ts",
    register: (registry) => new FixMetrics(registry).watchFlow(readAtScrapeOnly()),
  },
  {
    file: "services/journal/src/adapters/projector-metrics.ts",
    register: (registry) => projectorMetrics(registry).follow(readAtScrapeOnly(), readAtScrapeOnly(), "venue"),
  },
  {
    file: "services/journal/src/adapters/query-metrics.ts",
    register: (registry) => {
      queryMetrics(registry);
      lagSecondsGauge(registry, () => 0, readAtScrapeOnly(), "venue");
    },
  },
  {
    file: "services/strategy-runtime/src/adapters/strategy-metrics.ts",
    register: (registry) => registerStrategyMetrics(registry, [], []),
  },
  {
    file: "operator/src/controllers/operator-metrics.ts",
    register: (registry) => createOperatorMetrics(registry),
  },
];

const SOURCE_ONLY: Readonly<Record<string, string>> = {
  "services/market-data/src/main.ts": "registers its log gauges inside main(), after connecting to NATS",
};

interface Rule {
  readonly alert: string;
  readonly expr: string;
}
const rules = (parse(readFileSync(RULES, "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

/** Whether PromQL reads `metric` (a histogram through its _bucket, _sum and _count series). */
const reads = (expr: string, metric: string) => new RegExp(`\\b${metric}(?:_bucket|_sum|_count)?\\b`).test(expr);

/** Every template variable of the dashboards, by name: `$venue`, `$session`, ... */
const VARIABLES = [
  ...new Set(
    DASHBOARDS.flatMap((d) => [
      ...(d.venueFrom !== undefined ? ["venue"] : []),
      ...(d.variables ?? []).map((x) => x.name),
    ]),
  ),
];

/** The panels ("Engine: Command lag"), variable lists (venue: ["Engine"]) and alerts that read a metric. */
function usesOf(metric: string): { panels: string[]; lists: Map<string, string[]>; alerts: string[] } {
  const panels: string[] = [];
  const lists = new Map<string, string[]>(VARIABLES.map((name) => [name, []]));
  for (const d of DASHBOARDS) {
    const dashboard = d.title.replace(/^Tradeplane \/ /, "");
    if (d.venueFrom === metric) lists.get("venue")!.push(dashboard);
    for (const x of d.variables ?? []) if (x.from === metric) lists.get(x.name)!.push(dashboard);
    for (const row of d.rows)
      for (const p of row.panels)
        if (p.queries.some((q) => reads(q.expr, metric))) panels.push(`${dashboard}: ${p.title}`);
  }
  return { panels, lists, alerts: rules.filter((r) => reads(r.expr, metric)).map((r) => r.alert) };
}

describe(`${REFERENCE} follows its format`, () => {
  it("every metrics row has a name, a type, labels and two texts", () => {
    expect(reference.problems, `${REFERENCE}:\n${reference.problems.join("\n")}`).toEqual([]);
    expect(reference.metrics.length).toBeGreaterThan(0);
  });

  it("every row says what the metric counts and where it is used (or none)", () => {
    for (const m of reference.metrics) {
      expect(m.meaning, `${REFERENCE}:${m.line} ${m.name}`).not.toBe("");
      expect(m.usedBy, `${REFERENCE}:${m.line} ${m.name}`).not.toBe("");
    }
  });

  it("names each metric once", () => {
    const twice = [...documented].filter(([, rows]) => rows.length > 1);
    expect(
      twice.map(([name, rows]) => `${name} at lines ${rows.map((r) => r.line).join(", ")}`),
      `${REFERENCE} documents these more than once`,
    ).toEqual([]);
  });
});

describe("the source scan", () => {
  it("reads every prom-client metric constructor in the source", () => {
    expect(scan.problems, scan.problems.join("\n")).toEqual([]);
    expect(scan.metrics.length).toBeGreaterThan(0);
  });

  it("finds prom-client's default metrics only where the process registry is made", () => {
    expect(scan.defaults).toEqual(["packages/platform/src/metrics.ts"]);
  });

  it("finds one registry per process and metrics only in processes (a package's would need a section of its own)", () => {
    const dirs = scan.registries.map((r) => processDir(r.file));
    expect(new Set(dirs).size, `registries made in ${dirs.join(", ")}`).toBe(dirs.length);
    const homeless = scan.metrics.filter((m) => !serviceOf.has(processDir(m.file)));
    expect(
      homeless.map((m) => `${m.name} (${m.file}:${m.line})`),
      "registered outside a process that makes a registry",
    ).toEqual([]);
  });

  it("is checked against a registry for every file that registers metrics, or says why not", () => {
    const files = [...new Set(scan.metrics.map((m) => m.file))].sort();
    const covered = [...REGISTRY_CASES.map((c) => c.file), ...Object.keys(SOURCE_ONLY)].sort();
    expect(covered, "add the file to REGISTRY_CASES (or to SOURCE_ONLY with the reason)").toEqual(files);
  });

  it.each(REGISTRY_CASES)("reads $file as its real registry holds it", ({ file, register }) => {
    const registry = new Registry();
    register(registry);
    const scanned = scan.metrics
      .filter((m) => m.file === file)
      .map(({ name, type, labels }) => ({ name, type, labels }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(scanned, `the scan of ${file}`).toEqual(shapesOf(registry));
  });
});

describe(`every metric a process registers is in ${REFERENCE}`, () => {
  it.each(exposed.map((m) => [`${m.name} (${m.origin})`, m] as const))("%s", (_, metric) => {
    const rows = documented.get(metric.name) ?? [];
    expect(rows.length, `${metric.name}, registered at ${metric.origin}, is missing from ${REFERENCE}`).toBeGreaterThan(
      0,
    );
    const row = rows[0]!;
    const at = `${metric.name} (${REFERENCE}:${row.line}; registered at ${metric.origin})`;
    expect(row.type, `${at}: type`).toBe(metric.type);
    expect(row.labels, `${at}: labels`).toEqual(metric.labels);
    if (metric.service === undefined) expect(row.section.heading, `${at}: section`).toBe(DEFAULTS_HEADING);
    else expect(row.section.service, `${at}: the section of service="${metric.service}"`).toBe(metric.service);
  });
});

describe(`every metric ${REFERENCE} names is registered`, () => {
  it.each(reference.metrics)("$name (line $line)", (row) => {
    expect(
      exposedNames.has(row.name),
      `${REFERENCE}:${row.line} documents ${row.name}, which no process registers (renamed or removed?)`,
    ).toBe(true);
  });
});

describe(`each process's constant labels are as ${REFERENCE} says`, () => {
  it.each(scan.registries)("$service ($file:$line)", (registry) => {
    const section = reference.sections.find((s) => s.service === registry.service);
    expect(section, `${REFERENCE} has no section whose heading names service="${registry.service}"`).toBeDefined();
    expect(
      section!.constantLabels,
      `${REFERENCE}:${section!.line}: "Labels on every series:" of ${registry.service}`,
    ).toEqual(["service", ...registry.labels].sort());
  });

  it("has a section for no process that does not exist", () => {
    const services = new Set(scan.registries.map((r) => r.service));
    const unknown = reference.sections.filter((s) => s.service !== undefined && !services.has(s.service));
    expect(unknown.map((s) => `${REFERENCE}:${s.line} ${s.heading}`)).toEqual([]);
  });
});

describe(`${REFERENCE} names the panels and alerts that read each metric`, () => {
  it.each(reference.metrics)("$name (line $line)", (row) => {
    const { panels, lists, alerts } = usesOf(row.name);
    const at = `${REFERENCE}:${row.line} ${row.name}, "dashboards and alerts"`;
    for (const panel of panels) expect(row.usedBy, `${at} misses the panel "${panel}"`).toContain(panel);
    for (const alert of alerts) expect(row.usedBy, `${at} misses the alert ${alert}`).toContain(alert);
    const named = [...row.usedBy.matchAll(/\bTradeplane[A-Z]\w+/g)].map((m) => m[0]);
    expect(
      named.filter((a) => !alerts.includes(a)),
      `${at} names alerts that do not read it`,
    ).toEqual([]);
    for (const [name, dashboards] of lists)
      expect(
        row.usedBy.includes(`\`$${name}\``),
        `${at}: fills the $${name} list of ${dashboards.join(", ") || "none"}`,
      ).toBe(dashboards.length > 0);
    const listed = [...lists.values()].some((dashboards) => dashboards.length > 0);
    if (panels.length === 0 && alerts.length === 0 && !listed) expect(row.usedBy, at).toBe("none");
  });
});

describe("help texts say what the metric counts where its name does not", () => {
  // Prometheus shows the help text beside the value: where the unit or the moment differs from
  // what the name suggests, the help must say it as the reference does.
  const helps = new Map<string, string>();
  for (const { register } of REGISTRY_CASES) {
    const registry = new Registry();
    register(registry);
    for (const m of registry.getMetricsAsArray()) helps.set(m.name, m.help);
  }

  it.each([
    ["tp_engine_command_lag", "counts command-log entries, not commands", /command-log entries/i, /^Commands/],
    [
      "tp_risk_events_applied_since_start",
      "counts messages applied, not received",
      /applied to the projection/,
      /received|taken/,
    ],
    ["tp_md_snapshot_duration_seconds", "no longer makes event application wait", /still applied/, /waits/],
  ])("%s %s", (name, _what, says, doesNotSay) => {
    const help = helps.get(name);
    expect(help, `${name} is registered by none of REGISTRY_CASES`).toBeDefined();
    expect(help).toMatch(says);
    expect(help).not.toMatch(doesNotSay);
  });
});

describe("every tp_* metric the docs name exists", () => {
  const docs = [
    "README.md",
    ...readdirSync(join(REPO_ROOT, "docs"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ].sort();
  // A whole name: not part of a longer word, not a prefix (`tp_strategy_*`), not a bucket (`tp_<venue>_leases`).
  const NAME = /(?<![\w<])tp_[a-z0-9_]*[a-z0-9](?![\w*<])/g;
  it.each(docs)("%s", (doc) => {
    const text = readFileSync(join(REPO_ROOT, doc), "utf8");
    const unknown = [...new Set(text.match(NAME) ?? [])].filter((name) => {
      const base = name.replace(/_(?:bucket|sum|count)$/, "");
      const metric = exposedNames.get(name) ?? exposedNames.get(base);
      return metric === undefined || (metric.name !== name && metric.type !== "histogram" && metric.type !== "summary");
    });
    expect(unknown, `${doc} names metrics that no process registers`).toEqual([]);
  });
});
