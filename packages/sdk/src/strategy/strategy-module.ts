import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Strategy } from "./strategy.ts";

/** The callbacks of the SDK's `Strategy` interface: a strategy has at least one, each a function. */
export const STRATEGY_CALLBACKS = ["onStart", "onBook", "onTrade", "onExecutionReport", "onTimer", "onStop"] as const;

/** A user's strategy module that does not load or does not export a strategy; `reason` says which. */
export class StrategyModuleError extends Error {
  override readonly name = "StrategyModuleError";
  readonly reason: "unloadable" | "no-factory" | "not-a-strategy";
  constructor(reason: StrategyModuleError["reason"], message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export type StrategyFactory = (params: Readonly<Record<string, unknown>>, instruments: readonly string[]) => Strategy;

/**
 * Checks that `value` is a `Strategy`: an object whose known callbacks are functions, with
 * at least one of them (a strategy that reacts to nothing is a mistake, not a strategy).
 */
export function asStrategy(value: unknown, what: string): Strategy {
  if (typeof value !== "object" || value === null)
    throw new StrategyModuleError(
      "not-a-strategy",
      `${what} returned ${value === null ? "null" : typeof value}, not a Strategy object`,
    );
  const v = value as Record<string, unknown>;
  const wrong = STRATEGY_CALLBACKS.filter((k) => v[k] !== undefined && typeof v[k] !== "function");
  if (wrong.length > 0)
    throw new StrategyModuleError("not-a-strategy", `${what}: ${wrong.join(", ")} must be functions`);
  if (!STRATEGY_CALLBACKS.some((k) => typeof v[k] === "function"))
    throw new StrategyModuleError(
      "not-a-strategy",
      `${what} has none of the Strategy callbacks (${STRATEGY_CALLBACKS.join(", ")})`,
    );
  return value as Strategy;
}

/**
 * Loads a user's strategy module: it exports `strategy(params, instruments)` returning a
 * `Strategy` (the form of examples/strategies), or a `Strategy` object as `default`.
 * Node runs TypeScript modules directly (type stripping), so `.ts` files load as they are.
 */
export async function loadStrategyModule(file: string): Promise<StrategyFactory> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new StrategyModuleError("unloadable", `${file}: cannot load it: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.strategy === "function") {
    const factory = mod.strategy as (p: unknown, i: readonly string[]) => unknown;
    return (params, instruments) => asStrategy(factory(params, instruments), `${file}: strategy(params, instruments)`);
  }
  if (mod.default !== undefined) {
    const s = asStrategy(mod.default, `${file}: its default export`);
    return () => s;
  }
  throw new StrategyModuleError(
    "no-factory",
    `${file}: exports no strategy: export function strategy(params, instruments) returning a Strategy (see examples/strategies), or a Strategy as default`,
  );
}
