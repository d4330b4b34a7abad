/**
 * What a dashboard definition is made of (rows of panels, each one or more PromQL queries,
 * and the template variables that narrow them), and the PromQL helpers the definitions share.
 * The definitions are in panels.ts and its panels-*.ts siblings; dashboards.ts turns them
 * into Grafana JSON.
 */

export type PanelKind = "timeseries" | "stat";

export interface PanelQuery {
  readonly expr: string;
  /** Grafana's legend template, e.g. "{{outcome}}". */
  readonly legend?: string;
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly kind: PanelKind;
  /** Grafana unit id: "ops", "s", "short", "bytes", "percentunit", ... */
  readonly unit: string;
  readonly queries: readonly PanelQuery[];
  /** Where no local venue produces this data (the operator runs only in a cluster). */
  readonly dataOnlyInCluster?: boolean;
}

/**
 * A template variable after `$venue`: the values of one label, offered for the venues chosen.
 * Queries filter by it as `name=~"$name"` wherever their metric has that label.
 */
export interface VariableSpec {
  /** The label it lists, and the variable's name in queries (`$session`). */
  readonly name: string;
  /** What Grafana shows beside the list. */
  readonly label: string;
  /** The metric whose series list the label's values. */
  readonly from: string;
}

export interface DashboardSpec {
  /** File name and Grafana uid. */
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly rows: readonly { readonly title: string; readonly panels: readonly PanelSpec[] }[];
  /** The metric whose `venue` label lists the venues for the `$venue` variable; none where the metrics have no `venue`. */
  readonly venueFrom?: string;
  /** Variables after `$venue`, in the order Grafana shows them. */
  readonly variables?: readonly VariableSpec[];
}

/** A selector of the chosen venues, with further matchers. */
export const V = '{venue=~"$venue"}';
export const v = (matchers: string) => `{venue=~"$venue",${matchers}}`;
export const rate = (metric: string, matchers = "") =>
  `rate(${metric}${matchers === "" ? V : v(matchers)}[$__rate_interval])`;
export const quantile = (q: number, metric: string, by: string, matchers = "") =>
  `histogram_quantile(${q}, sum by (le${by === "" ? "" : `, ${by}`}) (${rate(`${metric}_bucket`, matchers)}))`;

export const ts = (title: string, description: string, unit: string, ...queries: PanelQuery[]): PanelSpec => ({
  title,
  description,
  kind: "timeseries",
  unit,
  queries,
});
export const stat = (title: string, description: string, unit: string, ...queries: PanelQuery[]): PanelSpec => ({
  title,
  description,
  kind: "stat",
  unit,
  queries,
});
