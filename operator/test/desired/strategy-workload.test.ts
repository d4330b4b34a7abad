import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseManifests, type StrategyDeployment } from "../../src/api/v1alpha1/index.ts";
import { strategyChildren, strategyDeployment, strategyModel } from "../../src/desired/strategy-workload.ts";
import { upstreamSchemaError } from "../../src/desired/upstream-schemas.ts";

/** Golden files as in venue-children.test.ts: `npx vitest run operator/test/desired -u` rewrites them. */
const RUNTIME = "ghcr.io/tradeplane/strategy-runtime:0.1.0";
const TOKEN = { id: "tok-0001", token: "golden-strategy-token-0123456789" };

const strategyOf = (yaml: string): StrategyDeployment => {
  const s = parseManifests(yaml, "strategy.yaml")[0] as StrategyDeployment;
  return { ...s, metadata: { ...s.metadata, namespace: "markets", uid: "5d2e7c1a-0000-4000-8000-000000000002" } };
};

const BUILTIN = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: mm-reliance }
spec:
  venueRef: { name: demo }
  account: mm-1
  strategy: { builtin: market-maker, parameters: { spreadTicks: 4, size: 10 } }
  instruments: [RELIANCE]
  limits: { maxPosition: 1000, maxOrdersPerSecond: 50 }
`;

const IMAGE_PAUSED = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: arb }
spec:
  venueRef: { name: demo }
  account: arb-7
  strategy: { image: registry.local/arb:2.0.1 }
  instruments: [RELIANCE, INFY]
  paused: true
`;

describe("a strategy's children", () => {
  it.each([
    ["a built-in market maker", "strategy-builtin", BUILTIN],
    ["a paused custom image", "strategy-image-paused", IMAGE_PAUSED],
  ])("match the golden file for %s and pass the upstream schemas", async (_name, file, yaml) => {
    const objects = strategyChildren(strategyModel(strategyOf(yaml), RUNTIME), TOKEN);
    for (const o of objects) expect(upstreamSchemaError(o)).toBeUndefined();
    await expect(objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n")).toMatchFileSnapshot(
      `golden/${file}.yaml`,
    );
  });

  it("run the user's image, scaled to zero while paused", () => {
    const d = strategyDeployment(strategyModel(strategyOf(IMAGE_PAUSED), RUNTIME));
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.template.spec.containers[0]!.image).toBe("registry.local/arb:2.0.1");
  });

  it("have no pods and no token Secret before a token is issued", () => {
    expect(strategyChildren(strategyModel(strategyOf(BUILTIN), RUNTIME), undefined).map((o) => o.kind)).toEqual([
      "ServiceAccount",
      "ConfigMap",
    ]);
  });
});
