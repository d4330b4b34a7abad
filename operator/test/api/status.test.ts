import { describe, expect, it } from "vitest";
import { strategyDeploymentStatusSchema, tradingVenueStatusSchema } from "../../src/api/v1alpha1/index.ts";

const ready = {
  type: "Ready",
  status: "True",
  observedGeneration: 3,
  lastTransitionTime: "2026-01-02T03:04:05Z",
  reason: "AllComponentsReady",
  message: "engine, risk and market data are ready",
};

describe("status types", () => {
  it("accept what the operator writes for a venue", () => {
    const status = {
      phase: "Running",
      observedGeneration: 3,
      conditions: [ready, { ...ready, type: "CpuPinned", status: "False", reason: "NotExclusive" }],
      partitions: [{ partition: 0, appliedSequence: 9_007_199_254_740_991, ready: true, cpusAllowed: "2-3" }],
      partitionsReady: "1/1",
      lastCommandSequence: 42,
    };
    expect(tradingVenueStatusSchema.parse(status)).toEqual(status);
  });

  it("accept a strategy's position and a loss", () => {
    const status = {
      phase: "Paused",
      positions: [{ symbol: "ABC", position: -150, realisedPnl: -2_500, unrealisedPnl: 1_300 }],
      grossPosition: 150,
      pnl: { realised: -2_500, unrealised: 1_300, total: -1_200 },
    };
    expect(strategyDeploymentStatusSchema.parse(status)).toEqual(status);
  });

  it.each([
    ["a reason with spaces", { conditions: [{ ...ready, reason: "all ready" }] }, "conditions.0.reason"],
    [
      "a status other than True, False, Unknown",
      { conditions: [{ ...ready, status: "Maybe" }] },
      "conditions.0.status",
    ],
    [
      "a time that is not RFC 3339",
      { conditions: [{ ...ready, lastTransitionTime: "yesterday" }] },
      "conditions.0.lastTransitionTime",
    ],
    ["a sequence that is not an integer", { lastCommandSequence: 4.5 }, "lastCommandSequence"],
    ["an unknown phase", { phase: "Sleeping" }, "phase"],
  ])("refuse %s", (_name, status, path) => {
    const result = tradingVenueStatusSchema.safeParse(status);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toContain(path);
  });

  it("refuse fractional money", () => {
    expect(strategyDeploymentStatusSchema.safeParse({ pnl: { total: 0.5 } }).success).toBe(false);
  });
});
