import { describe, expect, it } from "vitest";
import { parseMetricsReference, TABLE_HEADER } from "./metrics-reference.ts";

const page = (...lines: string[]) => lines.join("\n");

describe("parseMetricsReference", () => {
  it("reads sections, their constant labels (across a wrapped line) and their rows", () => {
    const reference = parseMetricsReference(
      page(
        "# Metrics",
        "",
        '## Engine (`service="matching"`)',
        "",
        "Labels on every series: `service`, `venue`,",
        "`partition`. One process per `replica`.",
        "",
        TABLE_HEADER,
        "|---|---|---|---|---|",
        "| `tp_a_total` | counter | `outcome`, `kind` | Commands. | Engine: Commands |",
        "| `tp_b` | gauge | none | A \\| B. | none |",
        "",
        "## Every process",
        "",
        TABLE_HEADER,
        "|---|---|---|---|---|",
        "| `nodejs_x` | histogram | `kind` | GC. | none |",
      ),
    );
    expect(reference.problems).toEqual([]);
    expect(reference.sections.map((s) => [s.service, s.constantLabels])).toEqual([
      ["matching", ["partition", "service", "venue"]],
      [undefined, undefined],
    ]);
    expect(reference.metrics.map((m) => [m.name, m.type, m.labels, m.usedBy, m.section.service, m.line])).toEqual([
      ["tp_a_total", "counter", ["kind", "outcome"], "Engine: Commands", "matching", 10],
      ["tp_b", "gauge", [], "none", "matching", 11],
      ["nodejs_x", "histogram", ["kind"], "none", undefined, 17],
    ]);
  });

  it("reads rows of the metrics tables only", () => {
    const reference = parseMetricsReference(
      page("## A", "", "| field | meaning |", "|---|---|", "| `tp_not_a_row` | text |"),
    );
    expect(reference.metrics).toEqual([]);
    expect(reference.problems).toEqual([]);
  });

  it.each([
    { case: "a missing cell", row: "| `tp_a` | gauge | none | text |", want: "needs 5 cells" },
    {
      case: "two names in the metric cell",
      row: "| `tp_a`, `tp_b` | gauge | none | t | none |",
      want: "one backticked",
    },
    { case: "an unknown type", row: "| `tp_a` | meter | none | t | none |", want: "type meter" },
    { case: "labels without backticks", row: "| `tp_a` | gauge | kind | t | none |", want: "labels must be" },
  ])("reports $case with its line", ({ row, want }) => {
    const { problems } = parseMetricsReference(page("## A", TABLE_HEADER, "|---|---|---|---|---|", row));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^line 4: /);
    expect(problems[0]).toContain(want);
  });
});
