import type { MetricType } from "./metric-registrations.ts";

/** One row of a metrics table in docs/metrics.md. */
export interface DocumentedMetric {
  readonly name: string;
  readonly type: MetricType;
  /** Label names, sorted ("none" is the empty list). */
  readonly labels: readonly string[];
  readonly meaning: string;
  /** The "dashboards and alerts" cell as written. */
  readonly usedBy: string;
  readonly section: ReferenceSection;
  readonly line: number;
}

/** A `##` section: one process (its heading names `service="..."`), or the shared default metrics. */
export interface ReferenceSection {
  readonly heading: string;
  /** The `service` label value the heading names; undefined for a section of no one process. */
  readonly service: string | undefined;
  /** The names on the section's "Labels on every series:" line; undefined without one. */
  readonly constantLabels: readonly string[] | undefined;
  readonly line: number;
}

export interface MetricsReference {
  readonly sections: readonly ReferenceSection[];
  readonly metrics: readonly DocumentedMetric[];
  /** Rows and lines that do not follow the page's format, each with its line number. */
  readonly problems: readonly string[];
}

export const TABLE_HEADER = "| metric | type | labels | what it counts | dashboards and alerts |";
const TYPES: readonly string[] = ["counter", "gauge", "histogram", "summary"];
const CONSTANT_LABELS = "Labels on every series:";

/** The backticked words of a piece of Markdown. */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

/** Splits a table row into its cells (a `\|` inside a cell is text, not a border). */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/**
 * Reads docs/metrics.md: its `##` sections and the rows of every table with TABLE_HEADER.
 * A section's constant labels are the code spans of its "Labels on every series:" paragraph.
 */
export function parseMetricsReference(markdown: string): MetricsReference {
  const sections: ReferenceSection[] = [];
  const metrics: DocumentedMetric[] = [];
  const problems: string[] = [];
  const lines = markdown.split("\n");
  let section: ReferenceSection | undefined;
  let inTable = false;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const line = i + 1;
    if (text.startsWith("## ")) {
      section = {
        heading: text.slice(3).trim(),
        service: /`service="([^"]+)"`/.exec(text)?.[1],
        constantLabels: undefined,
        line,
      };
      sections.push(section);
      inTable = false;
      continue;
    }
    if (text.startsWith(CONSTANT_LABELS) && section !== undefined) {
      // The paragraph's first sentence, which may wrap onto the next lines.
      const endOfSentence = /\.(?:\s|$)/;
      let paragraph = text;
      for (let j = i + 1; j < lines.length && lines[j]!.trim() !== "" && !endOfSentence.test(paragraph); j++)
        paragraph += ` ${lines[j]}`;
      const sentence = paragraph.slice(CONSTANT_LABELS.length).split(endOfSentence)[0]!;
      section = { ...section, constantLabels: codeSpans(sentence).sort() };
      sections[sections.length - 1] = section;
      continue;
    }
    if (text === TABLE_HEADER) {
      inTable = true;
      continue;
    }
    if (!text.startsWith("|")) {
      inTable = false;
      continue;
    }
    if (!inTable || /^\|[-|]+\|$/.test(text)) continue;
    const row = cells(text);
    if (row.length !== 5) {
      problems.push(`line ${line}: a metrics row needs 5 cells, this one has ${row.length}`);
      continue;
    }
    const [nameCell, typeCell, labelsCell, meaning, usedBy] = row as [string, string, string, string, string];
    const name = /^`([a-z_][a-z0-9_]*)`$/.exec(nameCell)?.[1];
    if (name === undefined) problems.push(`line ${line}: the metric cell must be one backticked name, not ${nameCell}`);
    if (!TYPES.includes(typeCell)) problems.push(`line ${line}: type ${typeCell} is not one of ${TYPES.join(", ")}`);
    const labels = labelsCell === "none" ? [] : codeSpans(labelsCell);
    if (labelsCell !== "none" && labels.length === 0)
      problems.push(`line ${line}: labels must be backticked names or "none", not ${labelsCell}`);
    if (section === undefined) problems.push(`line ${line}: a metrics table before the first section`);
    if (name === undefined || !TYPES.includes(typeCell) || section === undefined) continue;
    metrics.push({
      name,
      type: typeCell as MetricType,
      labels: labels.sort(),
      meaning,
      usedBy,
      section,
      line,
    });
  }
  return { sections, metrics, problems };
}
