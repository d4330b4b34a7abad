/**
 * Risk limits as the checks read them: every limit is a number, with `Infinity` for
 * "no limit", already merged from venue defaults, account limits and per-instrument
 * overrides (most specific wins) by `effectiveLimits`.
 */
export interface Limits {
  /** Largest order quantity in lots. */
  readonly maxOrderQty: number;
  /** Largest order notional in minor currency units. */
  readonly maxOrderNotional: number;
  /** Furthest a limit price may sit from the reference (last, else reference) price, in basis points. */
  readonly priceCollarBps: number;
  /** Largest absolute position in lots, long or short, counting open orders. */
  readonly maxPosition: number;
  /** Largest gross open exposure (notional of open orders, both sides) in minor units. */
  readonly creditLimit: number;
  /** Most orders (new orders and replaces) in any one second, over a sliding window. */
  readonly maxOrdersPerSecond: number;
  /** Instruments the account may not trade. */
  readonly restricted: ReadonlySet<string>;
}

/** Optional limits as stored: absent = inherit from the next less specific level. */
export interface LimitOverrides {
  readonly maxOrderQty?: number | undefined;
  readonly maxOrderNotional?: number | undefined;
  readonly priceCollarBps?: number | undefined;
  readonly maxPosition?: number | undefined;
  readonly creditLimit?: number | undefined;
  readonly maxOrdersPerSecond?: number | undefined;
  readonly restrictedInstruments?: readonly string[] | undefined;
}

export const NO_LIMITS: Limits = Object.freeze({
  maxOrderQty: Infinity,
  maxOrderNotional: Infinity,
  priceCollarBps: Infinity,
  maxPosition: Infinity,
  creditLimit: Infinity,
  maxOrdersPerSecond: Infinity,
  restricted: new Set<string>(),
});

/** Merges layers from least to most specific; restricted instruments accumulate. */
export function effectiveLimits(...layers: readonly (LimitOverrides | undefined)[]): Limits {
  let out: {
    -readonly [K in keyof Limits]: Limits[K];
  } = { ...NO_LIMITS, restricted: new Set<string>() };
  const restricted = new Set<string>();
  for (const layer of layers) {
    if (layer === undefined) continue;
    out = {
      maxOrderQty: layer.maxOrderQty ?? out.maxOrderQty,
      maxOrderNotional: layer.maxOrderNotional ?? out.maxOrderNotional,
      priceCollarBps: layer.priceCollarBps ?? out.priceCollarBps,
      maxPosition: layer.maxPosition ?? out.maxPosition,
      creditLimit: layer.creditLimit ?? out.creditLimit,
      maxOrdersPerSecond: layer.maxOrdersPerSecond ?? out.maxOrdersPerSecond,
      restricted,
    };
    for (const symbol of layer.restrictedInstruments ?? []) restricted.add(symbol);
  }
  return out;
}
