import { describe, expect, it } from "vitest";
import { scanFile } from "./metric-registrations.ts";

const FILE = "services/x/src/adapters/x-metrics.ts";
const shapes = (text: string) => scanFile(FILE, text).metrics.map(({ name, type, labels }) => ({ name, type, labels }));
const problems = (text: string) => scanFile(FILE, text).problems;

describe("scanFile reads prom-client constructors", () => {
  it.each([
    {
      case: "a literal name, with sorted labels",
      text: `import { Counter } from "prom-client";
new Counter({ name: "tp_x_total", help: "h", labelNames: ["outcome", "kind"], registers });`,
      want: [{ name: "tp_x_total", type: "counter", labels: ["kind", "outcome"] }],
    },
    {
      case: "a renamed import and a namespace import",
      text: `import { Gauge as G } from "prom-client";
import * as prom from "prom-client";
new G({ name: "tp_a", help: "h" });
new prom.Histogram({ name: "tp_b_seconds", help: "h", buckets: [1] });`,
      want: [
        { name: "tp_a", type: "gauge", labels: [] },
        { name: "tp_b_seconds", type: "histogram", labels: [] },
      ],
    },
    {
      case: "a name passed to an arrow-function helper, once per call",
      text: `import { Gauge } from "prom-client";
const perAccount = (name: string, help: string) => {
  new Gauge({ name, help, labelNames: ["account"] });
};
perAccount("tp_open", "h");
perAccount("tp_closed", "h");`,
      want: [
        { name: "tp_open", type: "gauge", labels: ["account"] },
        { name: "tp_closed", type: "gauge", labels: ["account"] },
      ],
    },
    {
      case: "a name passed to a function declaration as its second parameter",
      text: `import { Counter } from "prom-client";
function make(registry: unknown, metric: string) { return new Counter({ name: metric, help: "h" }); }
make(r, \`tp_template_total\`);`,
      want: [{ name: "tp_template_total", type: "counter", labels: [] }],
    },
    {
      case: "classes of another module, not prom-client's",
      text: `import { Counter } from "./my-counter.ts";
new Counter({ name: "tp_not_prometheus" });`,
      want: [],
    },
  ])("$case", ({ text, want }) => {
    expect(problems(text)).toEqual([]);
    expect(shapes(text)).toEqual(want);
  });

  it("reads the process registry's service and constant labels", () => {
    const text = `const registry = createMetricsRegistry("matching", { venue: config.venue, partition: "0" });`;
    expect(scanFile(FILE, text).registries).toEqual([
      { service: "matching", labels: ["partition", "venue"], file: FILE, line: 1 },
    ]);
  });

  it("notes which file collects prom-client's default metrics", () => {
    expect(scanFile(FILE, `collectDefaultMetrics({ register: registry });`).defaults).toEqual([FILE]);
  });
});

describe("scanFile reports what it cannot read, with file and line", () => {
  it.each([
    {
      case: "options that are not an object literal",
      text: `import { Gauge } from "prom-client";\nnew Gauge(options);`,
      want: "options are not an object literal",
    },
    {
      case: "labels that are not literal",
      text: `import { Gauge } from "prom-client";\nnew Gauge({ name: "tp_a", help: "h", labelNames: LABELS });`,
      want: "labelNames are not an array of string literals",
    },
    {
      case: "a name from a variable that is no parameter",
      text: `import { Gauge } from "prom-client";\nconst n = "tp_a";\nnew Gauge({ name: n, help: "h" });`,
      want: "not a parameter of a named helper",
    },
    {
      case: "a helper never called",
      text: `import { Gauge } from "prom-client";\nconst g = (name: string) => new Gauge({ name, help: "h" });`,
      want: "never called in this file",
    },
    {
      case: "a helper called with a computed name",
      text: `import { Gauge } from "prom-client";\nconst g = (name: string) => new Gauge({ name, help: "h" });\ng(prefix + "a");`,
      want: "not a literal",
    },
    {
      case: "a metric registered by hand",
      text: `registry.registerMetric(metric);`,
      want: "registerMetric()",
    },
  ])("$case", ({ text, want }) => {
    const found = problems(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(want);
    expect(found[0]).toMatch(new RegExp(`^${FILE}:\\d+: `));
  });
});
