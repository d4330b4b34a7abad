import { z } from "zod";
import { strategyDeploymentSpecSchema } from "./strategy-deployment.ts";
import { tradingVenueSpecSchema } from "./trading-venue.ts";

/**
 * JSON Schema of each resource's spec, derived from the same zod definitions that validate
 * it (descriptions, defaults and bounds included). The CRDs' openAPIV3Schema is generated
 * from these; cross-field rules (unique symbols, tick alignment) are enforced by the
 * validator and the operator, since OpenAPI cannot say them.
 */
export function specJsonSchema(kind: "TradingVenue" | "StrategyDeployment"): Record<string, unknown> {
  const schema = kind === "TradingVenue" ? tradingVenueSpecSchema : strategyDeploymentSpecSchema;
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
