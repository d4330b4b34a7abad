import { describe, expect, it } from "vitest";
import { mergeConditions, type Condition } from "../../src/kube/conditions.ts";
import { canonicalJson } from "../../src/kube/canonical-json.ts";

const t0 = new Date("2026-01-01T00:00:00.123Z");
const t1 = new Date("2026-01-01T00:05:00Z");
const ready = (status: "True" | "False", reason = "AllReady") => ({ type: "Ready", status, reason, message: "m" });

describe("mergeConditions", () => {
  it("stamps a new condition with the time and the generation it was computed from", () => {
    expect(mergeConditions(undefined, [ready("True")], 3, t0)).toEqual([
      { ...ready("True"), lastTransitionTime: "2026-01-01T00:00:00Z", observedGeneration: 3 },
    ]);
  });

  it("keeps lastTransitionTime while the status stays, even when reason or generation change", () => {
    const before = mergeConditions(undefined, [ready("False", "Waiting")], 1, t0);
    const after: Condition[] = mergeConditions(before, [ready("False", "StillWaiting")], 2, t1);
    expect(after[0]).toMatchObject({
      lastTransitionTime: "2026-01-01T00:00:00Z",
      observedGeneration: 2,
      reason: "StillWaiting",
    });
  });

  it("moves lastTransitionTime when the status flips", () => {
    const before = mergeConditions(undefined, [ready("False")], 1, t0);
    expect(mergeConditions(before, [ready("True")], 1, t1)[0]!.lastTransitionTime).toBe("2026-01-01T00:05:00Z");
  });

  it("gives an unchanged input the same text, so the status is not written again", () => {
    const once = mergeConditions(undefined, [ready("True")], 1, t0);
    expect(canonicalJson(mergeConditions(once, [ready("True")], 1, t1))).toBe(canonicalJson(once));
  });
});
