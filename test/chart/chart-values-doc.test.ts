import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { format, resolveConfig } from "prettier";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "@tradeplane/testkit";
import { chartValuesDoc } from "../../scripts/chart-values-doc.ts";
import { VALUES_END, VALUES_START } from "../../scripts/chart-values/markdown.ts";
import type { JsonSchema } from "../../scripts/chart-values/rows.ts";
import { CHART_DIR } from "../support/chart.ts";

/**
 * The table of values in charts/tradeplane/README.md: what `npm run chart:docs` makes of the
 * current values.yaml and values.schema.json, every key described, every schema property in
 * it, and text that Prettier leaves alone. The pure parts are tested in test/scripts/chart-values.
 */

const SCRIPT = join(REPO_ROOT, "scripts", "chart-values-doc.ts");

function run(args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 99, output: stdout + stderr }),
    );
  });
}

/** Dotted paths of every property of values.schema.json, through the objects it spells out. */
function schemaPaths(schema: JsonSchema, path: string[] = []): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, prop]) => [
    [...path, name].join("."),
    ...schemaPaths(prop, [...path, name]),
  ]);
}

describe("the chart's table of values", () => {
  const doc = chartValuesDoc();

  it("is what values.yaml and values.schema.json make (run `npm run chart:docs` after changing either)", () => {
    expect(doc.current, "the README's table is stale: run `npm run chart:docs`").toBe(doc.generated);
  });

  it("has a `# --` description for every key of values.yaml, and no key the schema lacks", () => {
    expect(doc.problems.map((p) => p.message)).toEqual([]);
  });

  it("has a row for every property of values.schema.json", () => {
    const schema = JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8")) as JsonSchema;
    const keys = new Set(doc.generated.match(/^\| `[^`]+`/gm)?.map((cell) => cell.slice(3, -1)));
    expect(schemaPaths(schema).filter((path) => !keys.has(path))).toEqual([]);
  });

  it("sits between the markers, once", () => {
    expect(doc.current.split(VALUES_START)).toHaveLength(2);
    expect(doc.current.split(VALUES_END)).toHaveLength(2);
  });

  it("is Markdown that Prettier leaves as it is", async () => {
    const options = await resolveConfig(doc.readmePath);
    expect(await format(doc.generated, { ...options, parser: "markdown" })).toBe(doc.generated);
  });
});

describe("scripts/chart-values-doc.ts", () => {
  const copy = mkdtempSync(join(tmpdir(), "tp-chart-values-"));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it("passes --check on the repository's chart", async () => {
    expect(await run(["--check"])).toEqual({ code: 0, output: "" });
  });

  it("fails --check on a stale README, naming the fix, and rewrites the table without it", async () => {
    for (const f of ["values.yaml", "values.schema.json", "README.md"]) cpSync(join(CHART_DIR, f), join(copy, f));
    const values = readFileSync(join(copy, "values.yaml"), "utf8");
    writeFileSync(join(copy, "values.yaml"), values.replace("  replicas: 2\n", "  replicas: 3\n"));

    const stale = await run(["--check", "--chart", copy]);
    expect(stale.code).toBe(1);
    expect(stale.output).toContain("is stale: run `npm run chart:docs`");

    expect(await run(["--chart", copy])).toEqual({ code: 0, output: "" });
    expect(readFileSync(join(copy, "README.md"), "utf8")).toMatch(/^\| `operator\.replicas` +\| [^|]+\| `3` +\|/m);
    expect(await run(["--check", "--chart", copy])).toEqual({ code: 0, output: "" });
  });

  it("refuses, writing nothing, a values.yaml with a key that has no description", async () => {
    for (const f of ["values.yaml", "values.schema.json", "README.md"]) cpSync(join(CHART_DIR, f), join(copy, f));
    const values = readFileSync(join(copy, "values.yaml"), "utf8");
    writeFileSync(join(copy, "values.yaml"), values.replace(/ *# -- Operator replicas:.*\n/, ""));
    const before = readFileSync(join(copy, "README.md"), "utf8");

    const out = await run(["--chart", copy]);
    expect(out.code).toBe(1);
    expect(out.output).toContain("operator.replicas has no description");
    expect(readFileSync(join(copy, "README.md"), "utf8")).toBe(before);
  });
});
