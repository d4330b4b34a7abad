/**
 * The labels a PromQL query depends on, read with regular expressions: enough for the
 * queries of our own alerts and dashboards (selectors, `by`/`on` lists), which
 * test/integration/monitor-labels.test.ts checks against the labels scraped series carry.
 * Not a PromQL parser: a query it misreads fails that test, naming the query.
 */

export interface QueryLabels {
  /** Each metric the query selects, with the labels its own selector matches on. */
  readonly selectors: readonly { readonly metric: string; readonly labels: readonly string[] }[];
  /** Labels the query groups by, joins on or ignores, anywhere in it. */
  readonly grouping: readonly string[];
}

/** The metrics whose labels we know: Prometheus's `up`, and Tradeplane's own. */
const METRIC = /\b(up|tp_[a-z0-9_]+)\b(\s*\{([^}]*)\})?/g;
const MATCHER = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g;
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

export function labelsOfQuery(expr: string): QueryLabels {
  // Strings first: a matcher's value is no metric and no label ("rejected|invalid").
  const text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const selectors = [...text.matchAll(METRIC)].map((m) => ({
    metric: m[1]!,
    labels: [...(m[3] ?? "").matchAll(MATCHER)].map((l) => l[1]!),
  }));
  const grouping = [...text.matchAll(GROUPING)].flatMap((g) =>
    g[1]!
      .split(",")
      .map((l) => l.trim())
      .filter((l) => l !== ""),
  );
  return { selectors, grouping };
}

/** The labels an alert's annotation names: `{{ $labels.venue }}`. */
export function labelsOfAnnotation(template: string): string[] {
  return [...template.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1]!);
}

/** The labels a Grafana legend names: `{{venue}}`. */
export function labelsOfLegend(legend: string): string[] {
  return [...legend.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1]!);
}
