import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { crdReference } from "../../src/api/v1alpha1/reference-doc.ts";

describe("docs/crd-reference.md", () => {
  it("is what the schema generates (run `npm run docs:crd` after changing the CRD types)", () => {
    expect(readFileSync(new URL("../../../docs/crd-reference.md", import.meta.url), "utf8")).toBe(crdReference());
  });
});
