import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  crdFileName,
  crdYaml,
  customResourceDefinition,
  KINDS,
  structuralSchema,
  type JsonSchema,
} from "../../src/api/v1alpha1/index.ts";

const crdsDir = new URL("../../../manifests/crds/", import.meta.url);

/** Every node of a schema with its path. */
function* nodes(schema: JsonSchema, path: string): Generator<[string, JsonSchema]> {
  yield [path, schema];
  for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>))
    yield* nodes(prop, `${path}.${name}`);
  if (schema.items !== undefined) yield* nodes(schema.items as JsonSchema, `${path}[]`);
  if (typeof schema.additionalProperties === "object")
    yield* nodes(schema.additionalProperties as JsonSchema, `${path}[*]`);
}

function versionOf(kind: (typeof KINDS)[number]) {
  const crd = customResourceDefinition(kind) as {
    spec: { names: Record<string, unknown>; versions: { schema: { openAPIV3Schema: JsonSchema } }[] };
  };
  return { names: crd.spec.names, schema: crd.spec.versions[0]!.schema.openAPIV3Schema };
}

describe("manifests/crds", () => {
  it.each(KINDS)("holds the %s CRD as generated (run `npm run crds` after changing the types)", (kind) => {
    expect(readFileSync(new URL(crdFileName(kind), crdsDir), "utf8")).toBe(crdYaml(kind));
  });

  it("holds nothing else", () => {
    expect(readdirSync(crdsDir).sort()).toEqual(KINDS.map(crdFileName).sort());
  });

  it.each(KINDS)("gives every field of %s a description and one type (a structural schema)", (kind) => {
    const { schema } = versionOf(kind);
    for (const part of ["spec", "status"]) {
      for (const [path, node] of nodes((schema.properties as Record<string, JsonSchema>)[part]!, part)) {
        expect(node.description, path).toEqual(expect.any(String));
        if (node["x-kubernetes-int-or-string"] !== true) expect(node.type, path).toEqual(expect.any(String));
        for (const banned of ["anyOf", "oneOf", "const", "additionalProperties"])
          if (banned !== "additionalProperties" || node.additionalProperties === false)
            expect(node[banned], `${path}.${banned}`).toBeUndefined();
        if (node.type === "number") throw new Error(`${path} is a float: money and counts are integers`);
      }
    }
  });

  it("names the resources as kubectl users expect", () => {
    expect(versionOf("TradingVenue").names).toMatchObject({
      plural: "tradingvenues",
      shortNames: ["venue", "venues"],
      categories: ["tradeplane"],
    });
    expect(versionOf("StrategyDeployment").names).toMatchObject({ shortNames: ["strat", "strats"] });
  });
});

describe("structuralSchema", () => {
  const convert = (schema: z.ZodType) => structuralSchema(z.toJSONSchema(schema, { io: "input" }), "x");

  it.each([
    ["a union of different types", z.object({ a: z.union([z.string(), z.array(z.string())]).describe("a") })],
    ["a field without a description", z.object({ a: z.string() })],
  ])("refuses %s, naming the path", (_name, schema) => {
    expect(() => convert(schema)).toThrow(/^x\.a/);
  });

  it("turns literals into enums and gives integers their width", () => {
    const schema = z
      .object({
        replicas: z.union([z.literal(1), z.literal(3)]).describe("r"),
        small: z.number().int().min(0).max(100).describe("s"),
        big: z.number().int().min(0).describe("b"),
      })
      .strict();
    expect(convert(schema)).toEqual({
      type: "object",
      required: ["replicas", "small", "big"],
      properties: {
        replicas: { description: "r", type: "integer", format: "int32", enum: [1, 3] },
        small: { description: "s", type: "integer", format: "int32", minimum: 0, maximum: 100 },
        big: { description: "b", type: "integer", format: "int64", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      },
    });
  });
});
