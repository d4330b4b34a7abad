import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@tradeplane/testkit";
import { clientOrderIdPrefix, planDeployment } from "../src/deployment.ts";

const spec = (strategy: string) => `
venueRef: { name: demo }
account: mm-1
strategy: ${strategy}
instruments: [INFY]
`;

describe("planDeployment", () => {
  it("runs the example manifest's market maker", () => {
    const plan = planDeployment(readFileSync(`${REPO_ROOT}/examples/strategy.yaml`, "utf8"), "x");
    expect(plan.ok).toBe(true);
    if (plan.ok) expect(plan.name).toBe("mm-reliance");
  });

  it.each([
    ["an unknown parameter", "{ builtin: market-maker, parameters: { spread: 3 } }", "spec.strategy.parameters.spread"],
    [
      "an invalid parameter",
      "{ builtin: market-maker, parameters: { quoteQty: -1 } }",
      "spec.strategy.parameters.quoteQty",
    ],
    ["an unknown built-in", "{ builtin: grid, parameters: {} }", "spec.strategy.builtin"],
    ["an image (run by its own container)", "{ image: example/strat:1 }", "spec.strategy.image"],
  ])("refuses %s, naming the field", (_name, strategy, field) => {
    const plan = planDeployment(spec(strategy), "x");
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.problems.map((p) => p.field)).toEqual([field]);
  });

  it("takes the spec alone, as the operator mounts it", () => {
    const plan = planDeployment(spec("{ builtin: momentum-taker }"), "fallback");
    expect(plan.ok && plan.name).toBe("fallback");
  });

  it("makes client order id prefixes that fit and differ per start", () => {
    const a = clientOrderIdPrefix("mm-reliance-long-name", 1_767_225_600_000);
    expect(a.length).toBeLessThanOrEqual(24);
    expect(a).not.toBe(clientOrderIdPrefix("mm-reliance-long-name", 1_767_225_600_001));
  });
});
