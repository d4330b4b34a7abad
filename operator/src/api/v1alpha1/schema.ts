import { z } from "zod";
import { strategyDeploymentStatusSchema, tradingVenueStatusSchema } from "./status.ts";
import { strategyDeploymentSpecSchema } from "./strategy-deployment.ts";
import { tradingVenueSpecSchema } from "./trading-venue.ts";

/**
 * The structural OpenAPI v3 schema (what a CRD must carry) of each resource's spec and
 * status, derived from the same zod definitions that validate them: descriptions, defaults,
 * bounds, list types and CEL rules included. Rules that zod checks in code (refinements)
 * reach the API server as the CEL rules written beside them.
 */

export type ResourceKind = "TradingVenue" | "StrategyDeployment";
export type JsonSchema = Record<string, unknown>;

const SCHEMAS = {
  TradingVenue: { spec: tradingVenueSpecSchema, status: tradingVenueStatusSchema },
  StrategyDeployment: { spec: strategyDeploymentSpecSchema, status: strategyDeploymentStatusSchema },
} as const;

export function specJsonSchema(kind: ResourceKind): JsonSchema {
  return structuralSchema(z.toJSONSchema(SCHEMAS[kind].spec, { io: "input", unrepresentable: "throw" }), "spec");
}

export function statusJsonSchema(kind: ResourceKind): JsonSchema {
  return structuralSchema(z.toJSONSchema(SCHEMAS[kind].status, { io: "input", unrepresentable: "throw" }), "status");
}

const INT32 = 2 ** 31;

/** Keys passed through unchanged, in the order the generated schema lists them. */
const KEPT = [
  "description",
  "type",
  "format",
  "default",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "enum",
  "minItems",
  "maxItems",
  "maxProperties",
  "x-kubernetes-validations",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-int-or-string",
  "x-kubernetes-preserve-unknown-fields",
  "required",
  "properties",
  "additionalProperties",
  "items",
];

/**
 * Turns the JSON Schema that zod writes into a structural schema the API server accepts:
 * every node has one type; `additionalProperties: false` goes (the API server prunes unknown
 * fields, and kubectl's strict field validation refuses them); `const` and unions of
 * literals become `enum`; integers get their format. Anything else that is not structural
 * (a union of different types, a field without a description) throws, naming the path.
 */
export function structuralSchema(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = {};
  if (node.anyOf !== undefined) Object.assign(out, unionOf(node, path));
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema" || key === "propertyNames" || key === "anyOf") continue;
    if (key === "additionalProperties") {
      if (value !== false) out.additionalProperties = structuralSchema(value as JsonSchema, `${path}[*]`);
    } else if (key === "const") out.enum = [value];
    else if (key === "properties") {
      const props: Record<string, JsonSchema> = {};
      for (const [name, prop] of Object.entries(value as Record<string, JsonSchema>)) {
        if (typeof prop.description !== "string") throw new Error(`${path}.${name} has no description`);
        props[name] = structuralSchema(prop, `${path}.${name}`);
      }
      out.properties = props;
    } else if (key === "items") out.items = structuralSchema(value as JsonSchema, `${path}[]`);
    else if (KEPT.includes(key)) out[key] = value;
    else throw new Error(`${path}: ${key} is not supported in a CRD schema`);
  }
  if (out.type === "integer") out.format = isInt32(out) ? "int32" : "int64";
  // zod's date-time pattern is redundant with the format, which the API server checks.
  if (out.format === "date-time") delete out.pattern;
  if (out["x-kubernetes-int-or-string"] === true) delete out.type;
  else if (typeof out.type !== "string") throw new Error(`${path} has no single type`);
  const rank = (key: string) => KEPT.indexOf(key);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => rank(a) - rank(b)));
}

function unionOf(node: JsonSchema, path: string): JsonSchema {
  if (node["x-kubernetes-int-or-string"] === true) return {};
  const branches = node.anyOf as JsonSchema[];
  if (branches.every((b) => b.const !== undefined)) {
    const values = branches.map((b) => b.const);
    const type = values.every((v) => Number.isInteger(v))
      ? "integer"
      : values.every((v) => typeof v === "string")
        ? "string"
        : undefined;
    if (type !== undefined) return { type, enum: values };
  }
  throw new Error(`${path}: a union of different types is not structural; use optional fields and a CEL rule`);
}

function isInt32(s: JsonSchema): boolean {
  if (Array.isArray(s.enum)) return s.enum.every((v) => typeof v === "number" && v >= -INT32 && v < INT32);
  const min = typeof s.minimum === "number" ? s.minimum : -Infinity;
  const max = typeof s.maximum === "number" ? s.maximum : Infinity;
  return min >= -INT32 && max < INT32;
}
