export * from "./trading-venue.ts";
export * from "./strategy-deployment.ts";
export * from "./status.ts";
export * from "./manifests.ts";
export * from "./schema.ts";
export * from "./crd.ts";
export type { CelRule } from "./kube-schema.ts";
export { isPositiveDecimal, parseDecimal } from "./decimal.ts";
