import { parseAllDocuments } from "yaml";
import type { z } from "zod";
import { ConfigError, issuesFromZod, type ValidationIssue } from "@tradeplane/platform";
import { strategyDeploymentSchema, type StrategyDeployment } from "./strategy-deployment.ts";
import { API_VERSION, tradingVenueSchema, type TradingVenue } from "./trading-venue.ts";

export type Manifest = TradingVenue | StrategyDeployment;

const SCHEMAS: Record<string, z.ZodType> = {
  TradingVenue: tradingVenueSchema,
  StrategyDeployment: strategyDeploymentSchema,
};

/**
 * Every Tradeplane resource in a YAML text (one or more documents), validated. Errors name
 * the source, the document and the field (`venue.yaml: spec.instruments[2].tickSize: ...`).
 */
export function parseManifests(text: string, source: string): Manifest[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const out: Manifest[] = [];
  const issues: ValidationIssue[] = [];
  docs.forEach((doc, n) => {
    const where = docs.length > 1 ? `${source}#${n + 1}` : source;
    if (doc.errors.length > 0) {
      issues.push({ path: where, message: `is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}` });
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    issues.push(...validateManifest(value, out).map((i) => ({ path: `${where}: ${i.path}`, message: i.message })));
  });
  if (issues.length > 0) throw new ConfigError(issues.map((i) => `${i.path}: ${i.message}`).join("\n"), issues);
  if (out.length === 0) throw new ConfigError(`${source}: holds no resource`);
  return out;
}

function validateManifest(value: unknown, out: Manifest[]): ValidationIssue[] {
  if (typeof value !== "object" || Array.isArray(value) || value === null)
    return [{ path: "(root)", message: "must be a mapping with apiVersion, kind, metadata and spec" }];
  const { apiVersion, kind } = value as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion !== API_VERSION) return [{ path: "apiVersion", message: `must be ${API_VERSION}` }];
  const schema = typeof kind === "string" ? SCHEMAS[kind] : undefined;
  if (schema === undefined)
    return [{ path: "kind", message: `must be one of ${Object.keys(SCHEMAS).join(", ")} (got ${String(kind)})` }];
  const result = schema.safeParse(value);
  if (!result.success) return issuesFromZod(result.error);
  out.push(result.data as Manifest);
  return [];
}

/** The single TradingVenue of a manifest file (local mode runs one venue). */
export function venueFrom(manifests: readonly Manifest[], source: string): TradingVenue {
  const venues = manifests.filter((m): m is TradingVenue => m.kind === "TradingVenue");
  if (venues.length !== 1)
    throw new ConfigError(`${source}: must hold exactly one TradingVenue (found ${venues.length})`);
  return venues[0]!;
}
