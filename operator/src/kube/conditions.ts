/**
 * Status conditions through one helper (cert-manager's `pkg/api/util/conditions.go`): a
 * condition keeps its lastTransitionTime while its status stays, every condition carries
 * the generation it was computed from, and the result is in a fixed order so that an
 * unchanged status compares equal and is not written. Pure; the clock is passed in.
 */
export type ConditionStatus = "True" | "False" | "Unknown";

export interface ConditionInput {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

export interface Condition extends ConditionInput {
  readonly lastTransitionTime: string;
  readonly observedGeneration: number;
}

export function mergeConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  generation: number,
  now: Date,
): Condition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  return next.map((c) => {
    const old = before.get(c.type);
    const lastTransitionTime = old !== undefined && old.status === c.status ? old.lastTransitionTime : stamp;
    return {
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      lastTransitionTime,
      observedGeneration: generation,
    };
  });
}

export function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
