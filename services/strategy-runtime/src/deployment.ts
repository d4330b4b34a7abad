import { parse as parseYaml } from "yaml";
import { strategyDeploymentSpecSchema, type StrategyDeployment } from "@tradeplane/strategy-api";
import {
  buildMultiVenueStrategy,
  buildStrategy,
  type MultiVenueStrategy,
  type ParameterProblem,
} from "@tradeplane/strategies";
import type { Strategy } from "@tradeplane/sdk";

export type DeploymentSpec = StrategyDeployment["spec"];

/** What the runtime runs, or every problem with the spec, each with its field (`spec.<path>`). */
export type DeploymentPlan =
  | {
      readonly ok: true;
      readonly spec: DeploymentSpec;
      readonly name: string;
      /** One venue: a strategy; several (spec.venues): a strategy with a leg per venue. */
      readonly run:
        | { readonly venues: "one"; readonly strategy: Strategy }
        | { readonly venues: "several"; readonly strategy: MultiVenueStrategy };
    }
  | { readonly ok: false; readonly problems: readonly ParameterProblem[] };

/**
 * Reads a StrategyDeployment (the whole manifest, or the spec alone as the operator mounts
 * it) and makes its built-in strategy. Unknown or invalid parameters are refused with the
 * field named, as `tradeplane validate` and the operator refuse them.
 */
export function planDeployment(text: string, fallbackName: string): DeploymentPlan {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, problems: [{ field: "spec", message: `not YAML: ${(err as Error).message}` }] };
  }
  const whole = typeof doc === "object" && doc !== null && "spec" in doc;
  const rawSpec = whole ? (doc as { spec: unknown }).spec : doc;
  const name =
    whole && typeof (doc as { metadata?: { name?: unknown } }).metadata?.name === "string"
      ? (doc as { metadata: { name: string } }).metadata.name
      : fallbackName;
  const parsed = strategyDeploymentSpecSchema.safeParse(rawSpec);
  if (!parsed.success)
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({ field: ["spec", ...i.path].join("."), message: i.message })),
    };
  const spec = parsed.data;
  if (spec.strategy.builtin === undefined)
    return {
      ok: false,
      problems: [
        { field: "spec.strategy.image", message: "an image runs its own strategy; this runtime runs built-ins" },
      ],
    };
  const refused = (problems: readonly ParameterProblem[]): DeploymentPlan => ({
    ok: false,
    problems: problems.map((p) => ({ ...p, field: `spec.strategy.${p.field}` })),
  });
  const parameters = spec.strategy.parameters ?? {};
  if ((spec.venues?.length ?? 0) > 0) {
    const built = buildMultiVenueStrategy(spec.strategy.builtin, parameters, spec.instruments);
    if (!built.ok) return refused(built.problems);
    return { ok: true, spec, name, run: { venues: "several", strategy: built.strategy } };
  }
  const built = buildStrategy(spec.strategy.builtin, parameters, spec.instruments);
  if (!built.ok) return refused(built.problems);
  return { ok: true, spec, name, run: { venues: "one", strategy: built.strategy } };
}

/** A client order id prefix unique per run: the deployment's initials and the start time, base 36. */
export function clientOrderIdPrefix(name: string, startMs: number): string {
  const initials = name.replace(/[^A-Za-z0-9]/g, "").slice(0, 8) || "s";
  return `${initials}-${startMs.toString(36)}-`;
}
