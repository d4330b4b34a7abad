import { parse as parseYaml } from "yaml";
import { strategyDeploymentSpecSchema, type StrategyDeployment } from "@tradeplane/strategy-api";
import {
  buildMultiVenueStrategy,
  buildStrategy,
  type MultiVenueStrategy,
  type ParameterProblem,
} from "@tradeplane/strategies";
import { StrategyModuleError, type Strategy, type StrategyFactory } from "@tradeplane/sdk";

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
 * it) and makes its strategy: a built-in, or with `spec.strategy.image` the user's module that
 * image carries (`userStrategy`, loaded from TP_STRATEGY_MODULE). Unknown or invalid
 * parameters of a built-in are refused with the field named, as `tradeplane validate` and
 * the operator refuse them.
 */
export function planDeployment(text: string, fallbackName: string, userStrategy?: StrategyFactory): DeploymentPlan {
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
  if (spec.strategy.builtin === undefined) return planUserStrategy(spec, name, userStrategy);
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

/** A custom image's strategy: the module it carries, on the deployment's one venue. */
function planUserStrategy(
  spec: DeploymentSpec,
  name: string,
  userStrategy: StrategyFactory | undefined,
): DeploymentPlan {
  const problem = (message: string): DeploymentPlan => ({
    ok: false,
    problems: [{ field: "spec.strategy.image", message }],
  });
  if (userStrategy === undefined)
    return problem(
      "an image runs its own strategy module, and this runtime was given none (the image sets TP_STRATEGY_MODULE)",
    );
  if ((spec.venues?.length ?? 0) > 0)
    return problem("a strategy module of an image runs on one venue; spec.venues names more");
  try {
    const strategy = userStrategy(spec.strategy.parameters ?? {}, spec.instruments);
    return { ok: true, spec, name, run: { venues: "one", strategy } };
  } catch (err) {
    if (err instanceof StrategyModuleError) return problem(err.message);
    return problem(`the strategy module failed to make its strategy: ${(err as Error).message}`);
  }
}
