import { describe, expect, it } from "vitest";
import {
  descriptionOf,
  typeOf,
  valueRows,
  ValuesYamlError,
  type JsonSchema,
  type ValueRow,
} from "../../../scripts/chart-values/rows.ts";

/** values.yaml text from lines, so indentation in the cases below is the file's. */
const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;

const object = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: "object",
  additionalProperties: false,
  properties,
  required,
});
const STRING: JsonSchema = { type: "string" };

describe("descriptionOf", () => {
  it.each<[string, string | null | undefined, string]>([
    ["takes the text after `--`", " -- Name of the Lease.", "Name of the Lease."],
    ["joins the lines that follow it", " -- Keep the CRDs\n on uninstall.", "Keep the CRDs on uninstall."],
    ["keeps a bare `#` line as a space", " -- One.\n \n Two.", "One. Two."],
    ["leaves out a heading above it", " Values of the chart.\n\n -- Overrides the name.", "Overrides the name."],
    ["ends at a blank line", " -- Scrapes.\n Often.\n\n Unrelated note.", "Scrapes. Often."],
    ["takes the last of two descriptions", " -- Old.\n\n -- New.", "New."],
    ["reads a bare `--` line as an empty first line", " --\n Text below.", "Text below."],
    ["is empty for a comment without `--`", " The operator image.", ""],
    ["is empty for a flag that starts with --", " --set works too", ""],
    ["is empty without a comment", undefined, ""],
    ["is empty for a null comment", null, ""],
  ])("%s", (_name, comment, expected) => {
    expect(descriptionOf(comment)).toBe(expected);
  });
});

describe("typeOf", () => {
  it.each<[string, JsonSchema, string]>([
    ["a plain type", { type: "boolean" }, "boolean"],
    ["an enum as its values", { type: "string", enum: ["error", "warn"] }, '"error", "warn"'],
    ["an integer range", { type: "integer", minimum: 1, maximum: 10 }, "integer (1..10)"],
    ["an integer floor", { type: "integer", minimum: 1 }, "integer (>= 1)"],
    ["an integer ceiling", { type: "integer", maximum: 9 }, "integer (<= 9)"],
    ["a list of its items' type", { type: "array", items: STRING }, "list of string"],
    ["a list without items", { type: "array" }, "list of any"],
    ["a map of its values' type", { type: "object", additionalProperties: STRING }, "map of string"],
    ["a closed object", { type: "object", additionalProperties: false }, "object"],
    ["no type", {}, "any"],
  ])("gives %s", (_name, schema, expected) => {
    expect(typeOf(schema)).toBe(expected);
  });
});

describe("valueRows", () => {
  const value = (key: string, type: string, def: string, description: string): ValueRow => ({
    kind: "value",
    key,
    type,
    default: def,
    description,
  });
  const group = (key: string, description: string): ValueRow => ({
    kind: "group",
    key,
    type: "object",
    default: undefined,
    description,
  });

  it.each<[string, string, JsonSchema, ValueRow[]]>([
    [
      "describes the first key below the file's header",
      yaml("# Values of a chart.", "", "# -- Overrides the name.", 'nameOverride: ""'),
      object({ nameOverride: STRING }),
      [value("nameOverride", "string", '""', "Overrides the name.")],
    ],
    [
      "describes a group and its keys, the first of which yaml files under the group's map",
      yaml("# -- The CRDs.", "crds:", "  # -- Install them.", "  enabled: true", "  # -- Keep them.", "  keep: false"),
      object({ crds: object({ enabled: { type: "boolean" }, keep: { type: "boolean" } }) }),
      [
        group("crds", "The CRDs."),
        value("crds.enabled", "boolean", "true", "Install them."),
        value("crds.keep", "boolean", "false", "Keep them."),
      ],
    ],
    [
      "gives a free-form map one row with its whole default",
      yaml("# -- Resources.", "resources:", "  limits:", "    memory: 512Mi"),
      object({ resources: { type: "object" } }),
      [value("resources", "object", '{"limits":{"memory":"512Mi"}}', "Resources.")],
    ],
    [
      "gives a list its default in JSON",
      yaml("# -- NATS URLs.", "urls:", "  - nats://nats:4222"),
      object({ urls: { type: "array", items: STRING } }),
      [value("urls", "list of string", '["nats://nats:4222"]', "NATS URLs.")],
    ],
    [
      "gives a key without a value the default null",
      yaml("# -- Nothing yet.", "later:"),
      object({ later: STRING }),
      [value("later", "string", "null", "Nothing yet.")],
    ],
    [
      "lists an optional schema property that values.yaml leaves out after its siblings",
      yaml("# -- A.", "a: 1"),
      object({ b: { type: "string", description: "Set only to override" }, a: { type: "integer" } }, ["a"]),
      [
        value("a", "integer", "1", "A."),
        { kind: "optional", key: "b", type: "string", default: undefined, description: "Set only to override" },
      ],
    ],
  ])("%s", (_name, text, schema, rows) => {
    expect(valueRows(text, schema)).toEqual({ rows, problems: [] });
  });

  it.each<[string, string, JsonSchema, [string, string][]]>([
    [
      "a key without a `# --` comment",
      yaml("# The operator image.", "image:", "  tag: x"),
      object({ image: object({ tag: STRING }) }),
      [
        ["image", "no-description"],
        ["image.tag", "no-description"],
      ],
    ],
    ["a key the schema does not know", yaml("# -- R.", "replicas: 2"), object({}), [["replicas", "not-in-schema"]]],
    [
      "a required property that values.yaml leaves out",
      yaml("# -- A.", "a: 1"),
      object({ a: { type: "integer" }, b: { type: "string", description: "B" } }, ["a", "b"]),
      [["b", "required-without-default"]],
    ],
    [
      "an optional property left out of values.yaml without a description in the schema",
      yaml("# -- A.", "a: 1"),
      object({ a: { type: "integer" }, b: { type: "string" } }),
      [["b", "optional-without-description"]],
    ],
  ])("reports %s", (_name, text, schema, expected) => {
    expect(valueRows(text, schema).problems.map((p) => [p.key, p.reason])).toEqual(expected);
  });

  it("names the key and the fix in each problem", () => {
    const { problems } = valueRows(yaml("a: 1"), object({ a: { type: "integer" } }));
    expect(problems).toEqual([
      {
        key: "a",
        reason: "no-description",
        message: "a has no description: put a `# -- ...` comment above it in values.yaml",
      },
    ]);
  });

  it.each([
    ["does not parse", "a: [1\n"],
    ["is a list", "- 1\n"],
  ])("refuses values.yaml that %s", (_name, text) => {
    expect(() => valueRows(text, object({}))).toThrow(ValuesYamlError);
  });

  it("has no rows for an empty values.yaml", () => {
    expect(valueRows("", object({}))).toEqual({ rows: [], problems: [] });
  });
});
