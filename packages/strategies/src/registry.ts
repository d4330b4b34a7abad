import type { z } from "zod";
import type { Strategy } from "@tradeplane/sdk";
import { marketMaker, marketMakerParams } from "./market-maker.ts";
import { momentumTaker, momentumTakerParams } from "./momentum-taker.ts";
import { noiseTaker, noiseTakerParams } from "./noise-taker.ts";
import { orderRouter, orderRouterParams, type MultiVenueStrategy } from "./order-router.ts";
import { twap, twapParams } from "./twap.ts";

/** A built-in strategy: its parameter schema and how to make it from valid parameters. */
interface BuiltIn<S extends z.ZodType, T = Strategy> {
  readonly params: S;
  /** How many instruments it trades: "one" (TWAP) or "any". */
  readonly instruments: "one" | "any";
  readonly create: (params: z.infer<S>, instruments: readonly string[]) => T;
  readonly description: string;
}

function builtIn<S extends z.ZodType, T = Strategy>(b: BuiltIn<S, T>): BuiltIn<S, T> {
  return b;
}

export const BUILTIN_STRATEGIES = {
  "market-maker": builtIn({
    params: marketMakerParams,
    instruments: "any",
    create: marketMaker,
    description:
      "two-sided quotes around the mid or a reference price, skewed by inventory, within a maximum inventory",
  }),
  twap: builtIn({
    params: twapParams,
    instruments: "one",
    create: twap,
    description: "a parent order sliced over a time window, with a limit price and a participation cap",
  }),
  "momentum-taker": builtIn({
    params: momentumTakerParams,
    instruments: "any",
    create: momentumTaker,
    description: "takes liquidity in the direction of recent trades (for demos)",
  }),
  "noise-taker": builtIn({
    params: noiseTakerParams,
    instruments: "any",
    create: noiseTaker,
    description:
      "seeded random immediate-or-cancel orders at the best opposite price, within a position bound (for demos)",
  }),
} as const;

export type BuiltInName = keyof typeof BUILTIN_STRATEGIES;

/** Built-in strategies that trade on several venues at once (a StrategyDeployment with spec.venues). */
export const MULTI_VENUE_STRATEGIES = {
  "smart-order-router": builtIn<typeof orderRouterParams, MultiVenueStrategy>({
    params: orderRouterParams,
    instruments: "one",
    create: orderRouter,
    description:
      "a parent order routed across venues by displayed price and depth, never beyond its limit, skipping halted venues, with a best-execution report",
  }),
} as const;

const ALL_NAMES = [...Object.keys(BUILTIN_STRATEGIES), ...Object.keys(MULTI_VENUE_STRATEGIES)];

/** A problem with a deployment's strategy, with the field it is about (`parameters.<name>`, `builtin`, `instruments`). */
export interface ParameterProblem {
  readonly field: string;
  readonly message: string;
}

export type BuildResult =
  | { readonly ok: true; readonly strategy: Strategy; readonly params: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly problems: readonly ParameterProblem[] };

/** The parameters of `entry` checked, each problem with its field. */
function parse<T>(
  entry: BuiltIn<z.ZodType, T>,
  builtin: string,
  parameters: Readonly<Record<string, unknown>>,
  instruments: readonly string[],
): { ok: true; params: Record<string, unknown> } | { ok: false; problems: ParameterProblem[] } {
  const problems: ParameterProblem[] = [];
  if (entry.instruments === "one" && instruments.length !== 1)
    problems.push({ field: "instruments", message: `${builtin} trades exactly one instrument` });
  const parsed = entry.params.safeParse(parameters);
  if (!parsed.success)
    for (const issue of parsed.error.issues) {
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [issue.path.join(".")];
      for (const key of keys)
        problems.push({
          field: `parameters.${key}`,
          message: issue.code === "unrecognized_keys" ? `unknown parameter of ${builtin}` : issue.message,
        });
    }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, params: parsed.data as Record<string, unknown> };
}

const unknown = (): ParameterProblem => ({
  field: "builtin",
  message: `unknown built-in strategy; one of ${ALL_NAMES.join(", ")}`,
});

/**
 * Checks a built-in strategy's name, parameters and instruments and makes the strategy.
 * Unknown or invalid parameters are refused with the field named, so `tradeplane
 * validate`, local mode and the operator all say the same thing.
 */
export function buildStrategy(
  builtin: string,
  parameters: Readonly<Record<string, unknown>>,
  instruments: readonly string[],
): BuildResult {
  if (builtin in MULTI_VENUE_STRATEGIES)
    return {
      ok: false,
      problems: [{ field: "builtin", message: `${builtin} trades on several venues: name the others in spec.venues` }],
    };
  const entry = (BUILTIN_STRATEGIES as Record<string, BuiltIn<z.ZodType>>)[builtin];
  if (entry === undefined) return { ok: false, problems: [unknown()] };
  const r = parse(entry, builtin, parameters, instruments);
  if (!r.ok) return r;
  return { ok: true, strategy: entry.create(r.params, instruments), params: Object.freeze({ ...r.params }) };
}

export type MultiVenueBuildResult =
  | { readonly ok: true; readonly strategy: MultiVenueStrategy; readonly params: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly problems: readonly ParameterProblem[] };

/** As `buildStrategy`, for a strategy that trades on several venues (spec.venues given). */
export function buildMultiVenueStrategy(
  builtin: string,
  parameters: Readonly<Record<string, unknown>>,
  instruments: readonly string[],
): MultiVenueBuildResult {
  const entry = (MULTI_VENUE_STRATEGIES as Record<string, BuiltIn<z.ZodType, MultiVenueStrategy>>)[builtin];
  if (entry === undefined)
    return {
      ok: false,
      problems: [
        builtin in BUILTIN_STRATEGIES
          ? {
              field: "builtin",
              message: `${builtin} trades on one venue; spec.venues is for ${Object.keys(MULTI_VENUE_STRATEGIES).join(", ")}`,
            }
          : unknown(),
      ],
    };
  const r = parse(entry, builtin, parameters, instruments);
  if (!r.ok) return r;
  return { ok: true, strategy: entry.create(r.params, instruments), params: Object.freeze({ ...r.params }) };
}

/** The problems of a deployment's built-in strategy, for one venue or (`severalVenues`) more. */
export function strategyProblemsOf(
  builtin: string,
  parameters: Readonly<Record<string, unknown>>,
  instruments: readonly string[],
  severalVenues: boolean,
): readonly ParameterProblem[] {
  const r = severalVenues
    ? buildMultiVenueStrategy(builtin, parameters, instruments)
    : buildStrategy(builtin, parameters, instruments);
  return r.ok ? [] : r.problems;
}
