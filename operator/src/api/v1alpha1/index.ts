export * from "./trading-venue.ts";
export * from "./strategy-deployment.ts";
export * from "./manifests.ts";
export * from "./schema.ts";
export { isPositiveDecimal, parseDecimal } from "./decimal.ts";
export * from "./venue-operations.ts";
