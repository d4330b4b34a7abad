import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { StrategyModuleError, type Strategy } from "@tradeplane/sdk";
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
    ["an image when the runtime was given no strategy module", "{ image: example/strat:1 }", "spec.strategy.image"],
  ])("refuses %s, naming the field", (_name, strategy, field) => {
    const plan = planDeployment(spec(strategy), "x");
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.problems.map((p) => p.field)).toEqual([field]);
  });

  describe("an image's strategy module", () => {
    const quoting: Strategy = { onBook: () => undefined };
    it("runs it with the spec's parameters and instruments", () => {
      let given: unknown;
      const plan = planDeployment(
        spec("{ image: example/strat:1, parameters: { price: 7 } }"),
        "x",
        (params, instruments) => {
          given = { params, instruments };
          return quoting;
        },
      );
      expect(plan.ok && plan.run).toEqual({ venues: "one", strategy: quoting });
      expect(given).toEqual({ params: { price: 7 }, instruments: ["INFY"] });
    });
    it.each([
      [
        "that throws",
        () => {
          throw new Error("parameter price: missing");
        },
        /failed to make its strategy: parameter price/,
      ],
      [
        "that returns no strategy",
        () => {
          throw new StrategyModuleError("not-a-strategy", "m.ts returned null");
        },
        /m\.ts returned null/,
      ],
    ])("refuses a module %s, naming spec.strategy.image", (_name, factory, message) => {
      const plan = planDeployment(spec("{ image: example/strat:1 }"), "x", factory);
      expect(plan.ok).toBe(false);
      if (!plan.ok) {
        expect(plan.problems[0]!.field).toBe("spec.strategy.image");
        expect(plan.problems[0]!.message).toMatch(message);
      }
    });
    it("refuses one across several venues", () => {
      const plan = planDeployment(
        `${spec("{ image: example/strat:1 }")}venues: [{ venueRef: { name: bse }, account: mm-2 }]\n`,
        "x",
        () => quoting,
      );
      expect(!plan.ok && plan.problems[0]!.message).toMatch(/one venue/);
    });
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
