/**
 * Kubernetes extensions of OpenAPI that the CRD schema carries, attached to the zod
 * definitions with `.meta()` so that each rule sits beside the field it guards and
 * z.toJSONSchema passes it through to the generated CRD (crd.ts).
 */

/** One CEL rule the API server evaluates on create and update (`x-kubernetes-validations`). */
export interface CelRule {
  /** CEL over `self` (and `oldSelf` for a transition rule, which runs on updates only). */
  readonly rule: string;
  /** What the user reads when the rule fails. */
  readonly message: string;
  /** Where the API server reports the failure, relative to the field the rule is on. */
  readonly fieldPath?: string;
  readonly reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

export function validations(...rules: CelRule[]): { "x-kubernetes-validations": CelRule[] } {
  return { "x-kubernetes-validations": rules };
}

/** A list whose items are unique by `keys`, merged item by item by server-side apply. */
export function listMap(...keys: string[]): Record<string, unknown> {
  return { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": keys };
}

/** A list of unique scalars. */
export const LIST_SET = { "x-kubernetes-list-type": "set" } as const;

/** A field that must never change once set. */
export function immutable(what: string, why: string): { "x-kubernetes-validations": CelRule[] } {
  return validations({ rule: "self == oldSelf", message: `${what} is immutable: ${why}` });
}
