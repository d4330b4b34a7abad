import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DASHBOARD_DIR, dashboardFile } from "../../scripts/dashboards/dashboards.ts";
import { DASHBOARDS } from "../../scripts/dashboards/panels.ts";

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
});
