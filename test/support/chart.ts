import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { helm, REPO_ROOT } from "@tradeplane/testkit";
import type { RenderedObject } from "./upstream-schemas.ts";

export const CHART_DIR = join(REPO_ROOT, "charts", "tradeplane");

/** The chart's example values files (ci/*-values.yaml, chart-testing's convention). */
export const VALUES_FILES = readdirSync(join(CHART_DIR, "ci"))
  .filter((f) => f.endsWith("-values.yaml"))
  .sort();

export function valuesFile(name: string): string {
  return join(CHART_DIR, "ci", name);
}

/** Parses a multi-document YAML stream into its non-empty documents. */
export function parseObjects(text: string): RenderedObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as RenderedObject | null)
    .filter((o): o is RenderedObject => o !== null);
}

/** `helm template` of the chart as release `tp` in `namespace`, with values files and --set pairs. */
export async function render(
  options: { values?: readonly string[]; set?: readonly string[]; namespace?: string } = {},
): Promise<RenderedObject[]> {
  const args = ["template", "tp", CHART_DIR, "--namespace", options.namespace ?? "tradeplane-system"];
  for (const f of options.values ?? []) args.push("--values", f);
  for (const s of options.set ?? []) args.push("--set", s);
  return parseObjects(await helm(args));
}
