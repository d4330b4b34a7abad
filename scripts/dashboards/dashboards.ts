/**
 * Grafana dashboard JSON from the definitions in panels.ts. Run as a script it writes
 * charts/tradeplane/dashboards/<uid>.json (`npm run dashboards`); a test fails when the
 * checked-in files differ from what this produces.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DashboardSpec, PanelSpec } from "./dashboard-spec.ts";
import { DASHBOARDS } from "./panels.ts";

export const DASHBOARD_DIR = fileURLToPath(new URL("../../charts/tradeplane/dashboards/", import.meta.url));

const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;
const WIDTH = 24;
const PANEL_WIDTH = { timeseries: 8, stat: 6 } as const;
const PANEL_HEIGHT = { timeseries: 8, stat: 4 } as const;

function panelJson(panel: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  return {
    id,
    type: panel.kind,
    title: panel.title,
    description: panel.description,
    datasource: DATASOURCE,
    gridPos: { h: PANEL_HEIGHT[panel.kind], w: PANEL_WIDTH[panel.kind], x, y },
    fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
    options:
      panel.kind === "stat"
        ? { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "value" }
        : { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    targets: panel.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend ?? "__auto",
    })),
  };
}

/** A multi-value variable listing a label's values (All by default), refreshed with the time range. */
function labelVariable(name: string, label: string, series: string): Record<string, unknown> {
  const query = `label_values(${series}, ${name})`;
  return {
    name,
    type: "query",
    label,
    datasource: DATASOURCE,
    query: { query, refId: name },
    definition: query,
    includeAll: true,
    multi: true,
    current: { text: "All", value: "$__all" },
    refresh: 2,
    hide: 0,
  };
}

export function dashboardJson(spec: DashboardSpec): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({ id: id++, type: "row", title: row.title, collapsed: false, gridPos: { h: 1, w: WIDTH, x: 0, y } });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.panels) {
      const w = PANEL_WIDTH[panel.kind];
      if (x + w > WIDTH) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panelJson(panel, id++, x, y));
      x += w;
      rowHeight = Math.max(rowHeight, PANEL_HEIGHT[panel.kind]);
    }
    y += rowHeight;
  }
  const variables: Record<string, unknown>[] = [
    { name: "datasource", type: "datasource", query: "prometheus", label: "Data source", hide: 0 },
  ];
  if (spec.venueFrom !== undefined) variables.push(labelVariable("venue", "Venue", spec.venueFrom));
  // Each further list shows only the values of the venues chosen above it.
  const ofVenues = spec.venueFrom !== undefined ? '{venue=~"$venue"}' : "";
  for (const x of spec.variables ?? []) variables.push(labelVariable(x.name, x.label, `${x.from}${ofVenues}`));
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ["tradeplane"],
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: "10s",
    time: { from: "now-1h", to: "now" },
    timezone: "browser",
    templating: { list: variables },
    panels,
  };
}

/** The file text of a dashboard: stable key order, two-space indent, a final newline. */
export function dashboardFile(spec: DashboardSpec): string {
  return `${JSON.stringify(dashboardJson(spec), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const spec of DASHBOARDS) writeFileSync(`${DASHBOARD_DIR}${spec.uid}.json`, dashboardFile(spec));
  console.log(`wrote ${DASHBOARDS.length} dashboards into ${DASHBOARD_DIR}`);
}
