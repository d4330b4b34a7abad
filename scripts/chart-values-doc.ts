/**
 * The table of the chart's values in charts/tradeplane/README.md, made from values.yaml (its
 * `# --` comments) and values.schema.json, the way helm-docs would, without its binary.
 *
 *   node scripts/chart-values-doc.ts           rewrite the table between the README's markers
 *   node scripts/chart-values-doc.ts --check   fail when the README's table is stale
 *   --chart DIR                                another chart folder (tests use a copy)
 *
 * npm scripts: `npm run chart:docs`, `npm run chart:docs:check`. Both fail, writing nothing,
 * when a key has no description or values.yaml and the schema disagree. This file only reads
 * and writes; the table itself comes from the pure modules in scripts/chart-values/.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { spliceValuesTable, valuesTable } from "./chart-values/markdown.ts";
import { valueRows, type JsonSchema, type ValueProblem } from "./chart-values/rows.ts";

export const CHART_DIR = fileURLToPath(new URL("../charts/tradeplane/", import.meta.url));

export type ChartValuesDoc = {
  readonly readmePath: string;
  /** The README as it is on disk. */
  readonly current: string;
  /** The README with the table as values.yaml and the schema make it. */
  readonly generated: string;
  readonly problems: readonly ValueProblem[];
};

/** Reads the chart's values, schema and README, and what the README should be. */
export function chartValuesDoc(chartDir: string = CHART_DIR): ChartValuesDoc {
  const readmePath = join(chartDir, "README.md");
  const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as JsonSchema;
  const { rows, problems } = valueRows(readFileSync(join(chartDir, "values.yaml"), "utf8"), schema);
  const current = readFileSync(readmePath, "utf8");
  return { readmePath, current, generated: spliceValuesTable(current, valuesTable(rows)), problems };
}

function main(argv: readonly string[]): number {
  const { values } = parseArgs({
    args: [...argv],
    options: { check: { type: "boolean", default: false }, chart: { type: "string" } },
    allowPositionals: false,
  });
  const doc = chartValuesDoc(values.chart ?? CHART_DIR);
  if (doc.problems.length > 0) {
    console.error(`chart:docs: values.yaml and values.schema.json need fixing first:`);
    for (const p of doc.problems) console.error(`  ${p.message}`);
    return 1;
  }
  if (values.check) {
    if (doc.current === doc.generated) return 0;
    console.error(
      `chart:docs: the table of values in ${relative(process.cwd(), doc.readmePath)} is stale: run \`npm run chart:docs\``,
    );
    return 1;
  }
  if (doc.current !== doc.generated) writeFileSync(doc.readmePath, doc.generated);
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`chart:docs: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
