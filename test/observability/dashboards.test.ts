import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@tradeplane/testkit";
import { DASHBOARD_DIR, dashboardFile } from "../../scripts/dashboards/dashboards.ts";
import { DASHBOARDS } from "../../scripts/dashboards/panels.ts";
import { parseMetricsReference } from "../support/metrics-reference.ts";

/** Every label of each documented metric: its own and its process's constant labels (docs/metrics.md). */
const labelsOf = new Map(
  parseMetricsReference(readFileSync(join(REPO_ROOT, "docs", "metrics.md"), "utf8")).metrics.map((m) => [
    m.name,
    new Set([...m.labels, ...(m.section.constantLabels ?? [])]),
  ]),
);

/** The documented metrics a query reads (a histogram through its _bucket, _sum and _count series). */
const metricsIn = (expr: string) =>
  [...expr.matchAll(/\b[a-z][a-z0-9_]*\b/g)]
    .map((m) => m[0])
    .map((name) => (labelsOf.has(name) ? name : name.replace(/_(?:bucket|sum|count)$/, "")))
    .filter((name) => labelsOf.has(name));

describe("Grafana dashboards", () => {
  it("checked in are what `npm run dashboards` writes (regenerate after editing panels.ts)", () => {
    for (const spec of DASHBOARDS)
      expect(readFileSync(`${DASHBOARD_DIR}${spec.uid}.json`, "utf8"), spec.uid).toBe(dashboardFile(spec));
    expect(readdirSync(DASHBOARD_DIR).sort()).toEqual(DASHBOARDS.map((d) => `${d.uid}.json`).sort());
  });

  it("have unique uids, and every panel a description and at least one query", () => {
    expect(new Set(DASHBOARDS.map((d) => d.uid)).size).toBe(DASHBOARDS.length);
    for (const d of DASHBOARDS)
      for (const row of d.rows)
        for (const p of row.panels) {
          expect(p.description, `${d.uid}: ${p.title}`).not.toBe("");
          expect(p.queries.length, `${d.uid}: ${p.title}`).toBeGreaterThan(0);
        }
  });

  it("filter venue metrics by the $venue variable wherever a dashboard has one", () => {
    for (const d of DASHBOARDS.filter((d) => d.venueFrom !== undefined))
      for (const row of d.rows)
        for (const p of row.panels)
          for (const q of p.queries) expect(q.expr, `${d.uid}: ${p.title}`).toContain('venue=~"$venue"');
  });

  it("have a $venue list wherever their metrics carry `venue`", () => {
    for (const d of DASHBOARDS) {
      const read = d.rows.flatMap((row) => row.panels.flatMap((p) => p.queries.flatMap((q) => metricsIn(q.expr))));
      const withVenue = read.filter((m) => labelsOf.get(m)!.has("venue"));
      if (withVenue.length > 0)
        expect(d.venueFrom, `${d.uid} reads ${withVenue[0]}, which has a venue label`).toBeDefined();
    }
  });

  it("list each further variable from a metric that has its label", () => {
    for (const d of DASHBOARDS)
      for (const x of d.variables ?? [])
        expect([...(labelsOf.get(x.from) ?? [])], `${d.uid}: $${x.name} from ${x.from}`).toContain(x.name);
  });

  it("filter by each further variable wherever the query's metric has its label", () => {
    for (const d of DASHBOARDS)
      for (const row of d.rows)
        for (const p of row.panels)
          for (const q of p.queries) {
            const read = metricsIn(q.expr);
            expect(read.length, `${d.uid}: ${p.title}: reads no documented metric`).toBeGreaterThan(0);
            for (const x of d.variables ?? [])
              if (read.some((m) => labelsOf.get(m)!.has(x.name)))
                expect(q.expr, `${d.uid}: ${p.title}`).toContain(`${x.name}=~"$${x.name}"`);
          }
  });
});
