import { metadataOf, names, type Component, type VenueModel } from "./venue-model.ts";

/**
 * One ServiceAccount per component, with no token mounted and no role bound: venue pods
 * never call the Kubernetes API; the account exists so that policies can name them.
 */
export function serviceAccount(model: VenueModel, component: Exclude<Component, "venue">) {
  return {
    apiVersion: "v1" as const,
    kind: "ServiceAccount" as const,
    metadata: metadataOf(model, names.serviceAccount(model.name, component), component),
    automountServiceAccountToken: false,
  };
}
