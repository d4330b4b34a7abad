import type { z } from "zod";
import type { Strategy } from "@tradeplane/sdk";
import { marketMaker, marketMakerParams } from "./market-maker.ts";
import { momentumTaker, momentumTakerParams } from "./momentum-taker.ts";
import { noiseTaker, noiseTakerParams } from "./noise-taker.ts";
import { twap, twapParams } from "./twap.ts";

/** A built-in strategy: its parameter schema and how to make it from valid parameters. */
interface BuiltIn<S extends z.ZodType> {
  readonly params: S;
  /** How many instruments it trades: "one" (TWAP) or "any". */
  readonly instruments: "one" | "any";
  readonly create: (params: z.infer<S>, instruments: readonly string[]) => Strategy;
  readonly description: string;
}

function builtIn<S extends z.ZodType>(b: BuiltIn<S>): BuiltIn<S> {
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

/** A problem with a deployment's strategy, with the field it is about (`parameters.<name>`, `builtin`, `instruments`). */
export interface ParameterProblem {
  readonly field: string;
  readonly message: string;
}

export type BuildResult =
  | { readonly ok: true; readonly strategy: Strategy; readonly params: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly problems: readonly ParameterProblem[] };

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
  const entry = (BUILTIN_STRATEGIES as Record<string, BuiltIn<z.ZodType>>)[builtin];
  if (entry === undefined)
    return {
      ok: false,
      problems: [
        {
          field: "builtin",
          message: `unknown built-in strategy; one of ${Object.keys(BUILTIN_STRATEGIES).join(", ")}`,
        },
      ],
    };
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
  const params = parsed.data as Record<string, unknown>;
  return { ok: true, strategy: entry.create(params, instruments), params: Object.freeze({ ...params }) };
}
