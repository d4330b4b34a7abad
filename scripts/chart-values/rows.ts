import { isMap, isScalar, parseDocument, type Document, type Pair, type YAMLMap } from "yaml";

/**
 * The chart's values as rows of a reference table: each key of values.yaml that
 * values.schema.json knows, with its type from the schema, its default from values.yaml and
 * its description from the `# --` comment above it (helm-docs' convention, so the file reads
 * the same to people who know that tool). Pure: text and a parsed schema in, rows out.
 */

/** The part of JSON Schema (draft 7) that values.schema.json uses and the table shows. */
export type JsonSchema = {
  type?: string;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
};

/**
 * `value`: a key with a default in values.yaml (a scalar, a list, or a free-form map such as
 * `resources`, whose keys are Kubernetes' and not rows of their own).
 * `group`: a map whose keys the schema lists; its keys are rows of their own.
 * `optional`: a schema property that values.yaml leaves out, so it has no default.
 */
export type ValueRowKind = "value" | "group" | "optional";

export type ValueRow = {
  readonly kind: ValueRowKind;
  /** Dotted path, as `--set` takes it. */
  readonly key: string;
  readonly type: string;
  /** The default as compact JSON; undefined for groups and optional values. */
  readonly default: string | undefined;
  readonly description: string;
};

export type ValueProblemReason =
  "no-description" | "not-in-schema" | "required-without-default" | "optional-without-description";

export type ValueProblem = { readonly key: string; readonly reason: ValueProblemReason; readonly message: string };

export type ValueRows = { readonly rows: readonly ValueRow[]; readonly problems: readonly ValueProblem[] };

/** values.yaml that does not parse: nothing else can be said about it. */
export class ValuesYamlError extends Error {
  override readonly name = "ValuesYamlError";
}

/** Matches the comment line that starts a description: `# -- text` (yaml strips the `#`). */
const DESCRIPTION_START = /^\s*--(\s|$)/;

/**
 * The description in a comment block: from its last line that starts with `--` to the end of
 * the block or the first blank line, joined into one line. Lines before it (a section
 * heading, the file's header) are not part of it; a block without `--` describes nothing.
 */
export function descriptionOf(comment: string | null | undefined): string {
  const lines = (comment ?? "").split("\n");
  const start = lines.findLastIndex((line) => DESCRIPTION_START.test(line));
  if (start < 0) return "";
  // yaml keeps a blank line inside a comment block as "" and a bare `#` line as " ".
  const rest = lines.slice(start + 1);
  const end = rest.indexOf("");
  return [lines[start]!.replace(DESCRIPTION_START, ""), ...(end < 0 ? rest : rest.slice(0, end))]
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
}

/** The type column: JSON Schema's type, with enums, integer ranges and element types spelt out. */
export function typeOf(schema: JsonSchema): string {
  if (schema.enum !== undefined) return schema.enum.map((v) => JSON.stringify(v)).join(", ");
  const type = schema.type ?? "any";
  if (type === "integer" || type === "number") {
    if (schema.minimum !== undefined && schema.maximum !== undefined)
      return `${type} (${schema.minimum}..${schema.maximum})`;
    if (schema.minimum !== undefined) return `${type} (>= ${schema.minimum})`;
    if (schema.maximum !== undefined) return `${type} (<= ${schema.maximum})`;
  }
  if (type === "array") return `list of ${schema.items === undefined ? "any" : typeOf(schema.items)}`;
  if (type === "object" && typeof schema.additionalProperties === "object")
    return `map of ${typeOf(schema.additionalProperties)}`;
  return type;
}

/**
 * yaml gives the comment above a map's first key to the map, not to the key (the key's
 * parent pair then has it as its value's comment): take it from there for the first pair.
 */
function commentAbove(map: YAMLMap, index: number): string | null | undefined {
  const key = map.items[index]!.key;
  const own = isScalar(key) ? key.commentBefore : undefined;
  return own ?? (index === 0 ? map.commentBefore : undefined);
}

function keyName(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function walk(doc: Document, map: YAMLMap, schema: JsonSchema, path: readonly string[], out: Output): void {
  const present = new Set<string>();
  map.items.forEach((pair, index) => {
    const name = keyName(pair);
    const key = [...path, name].join(".");
    present.add(name);
    const prop = schema.properties?.[name];
    if (prop === undefined) {
      out.problems.push({
        key,
        reason: "not-in-schema",
        message: `${key} is in values.yaml but not in values.schema.json: add it to the schema`,
      });
      return;
    }
    const description = descriptionOf(commentAbove(map, index));
    if (description === "")
      out.problems.push({
        key,
        reason: "no-description",
        message: `${key} has no description: put a \`# -- ...\` comment above it in values.yaml`,
      });
    const group = prop.properties !== undefined && isMap(pair.value);
    out.rows.push({
      kind: group ? "group" : "value",
      key,
      type: typeOf(prop),
      default: group ? undefined : JSON.stringify(toJs(doc, pair) ?? null),
      description,
    });
    if (group) walk(doc, pair.value as YAMLMap, prop, [...path, name], out);
  });
  // What the schema allows but values.yaml leaves out: documented from the schema, so a
  // reader of the table still finds it, and only when it is optional (else Helm refuses).
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    if (present.has(name)) continue;
    const key = [...path, name].join(".");
    if (required.has(name))
      out.problems.push({
        key,
        reason: "required-without-default",
        message: `${key} is required by values.schema.json but missing from values.yaml: give it a default`,
      });
    else if ((prop.description ?? "").trim() === "")
      out.problems.push({
        key,
        reason: "optional-without-description",
        message: `${key} is optional and not in values.yaml: give it a description in values.schema.json`,
      });
    out.rows.push({
      kind: "optional",
      key,
      type: typeOf(prop),
      default: undefined,
      description: prop.description ?? "",
    });
  }
}

function toJs(doc: Document, pair: Pair): unknown {
  const value = pair.value as { toJS?: (doc: Document) => unknown } | null;
  return value !== null && typeof value.toJS === "function" ? value.toJS(doc) : value;
}

type Output = { rows: ValueRow[]; problems: ValueProblem[] };

/** The rows of values.yaml (its text) under values.schema.json (parsed), in the file's order. */
export function valueRows(valuesYaml: string, schema: JsonSchema): ValueRows {
  const doc = parseDocument(valuesYaml);
  if (doc.errors.length > 0)
    throw new ValuesYamlError(`values.yaml does not parse: ${doc.errors.map((e) => e.message).join("; ")}`);
  const out: Output = { rows: [], problems: [] };
  if (isMap(doc.contents)) walk(doc, doc.contents, schema, [], out);
  else if (doc.contents !== null) throw new ValuesYamlError("values.yaml is not a map of values");
  return out;
}
