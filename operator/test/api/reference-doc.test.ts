import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { describe, expect, it } from "vitest";
import { crdReference } from "../../src/api/v1alpha1/reference-doc.ts";

describe("docs/crd-reference.md", () => {
  it("is what the schema generates (run `npm run docs:crd` after changing the CRD types)", async () => {
    const file = fileURLToPath(new URL("../../../docs/crd-reference.md", import.meta.url));
    const options = (await resolveConfig(file)) ?? {};
    const expected = await format(crdReference(), { ...options, filepath: file });
    expect(readFileSync(file, "utf8")).toBe(expected);
  });
});
