import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@tradeplane/testkit";
import { loadManifests } from "../../src/commands/validate.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-validate-"));

function manifest(parameters: string): string {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: mm }
spec:
  venueRef: { name: demo }
  account: mm-1
  strategy: { builtin: market-maker, parameters: ${parameters} }
  instruments: [INFY]
`,
  );
  return file;
}

describe("validate: StrategyDeployment parameters", () => {
  it("accepts the example strategy", () => {
    expect(loadManifests(join(REPO_ROOT, "examples", "strategy.yaml"))).toHaveLength(1);
  });

  it.each([
    ["an unknown parameter", "{ spread: 4 }", "spec.strategy.parameters.spread: unknown parameter of market-maker"],
    ["an invalid parameter", "{ quoteQty: 0 }", "spec.strategy.parameters.quoteQty:"],
  ])("refuses %s, naming the document and the field", (_name, parameters, message) => {
    const file = manifest(parameters);
    expect(() => loadManifests(file)).toThrow(`${file}: StrategyDeployment mm: ${message}`);
  });
});
