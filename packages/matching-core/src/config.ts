import { InstrumentState, type TickSlab } from "./constants.ts";

/** One instrument: all prices in integer minor units (paise), all quantities in integer units. */
export interface InstrumentConfig {
  readonly symbol: string;
  /** A single tick size for every price; give this or `tickSlabs`. */
  readonly tickSize?: number;
  /** Tick size by price (e.g. NSE_TICK_SLABS); the first slab starts at 0. */
  readonly tickSlabs?: readonly TickSlab[];
  readonly lotSize: number;
  readonly minQty: number;
  readonly maxQty: number;
  /** Upper bound of price x quantity per order; 0 = no limit. */
  readonly maxOrderValue: number;
  /** Previous close: centre of the price band, first "last trade price", auction tie-break. */
  readonly referencePrice: number;
  /** Static band around the reference price in whole percent (NSE: 2, 5, 10, 20); 0 = no band. */
  readonly bandPercent: number;
  /** Without a band, prices must stay within this many ticks of the reference price. */
  readonly maxTicksFromReference?: number;
  /** State at construction; default CONTINUOUS. */
  readonly initialState?: InstrumentState;
  /** Cancel every live order (reason HALT) when the instrument is halted; default false (the book is kept). */
  readonly cancelOnHalt?: boolean;
}

export interface EngineCapacity {
  /** Hard limit of live orders (resting + parked stops); beyond it submits get CAPACITY_EXCEEDED. */
  readonly maxOrders?: number;
  /** Order slots allocated up front; the store doubles up to maxOrders when needed. */
  readonly initialOrders?: number;
  /** Event slots allocated up front; the buffer doubles when one command needs more. */
  readonly initialEvents?: number;
}

export interface EngineConfig {
  readonly instruments: readonly InstrumentConfig[];
  readonly capacity?: EngineCapacity;
}

export const DEFAULT_MAX_ORDERS = 1 << 21;
export const DEFAULT_INITIAL_ORDERS = 1 << 12;
export const DEFAULT_INITIAL_EVENTS = 1 << 10;
/** Without a band, a price may be at most this many ticks away from the reference price. */
export const DEFAULT_MAX_TICKS_FROM_REFERENCE = 1 << 19;
const MAX_TICK_SPAN = 1 << 26;
const MAX_ORDERS_LIMIT = 1 << 26;
const MAX_INT32 = 0x7fffffff;

/** Thrown by createEngine for a config that fails validation; `issues` lists every problem. */
export class EngineConfigError extends Error {
  override readonly name = "EngineConfigError";
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid engine config: ${issues.join("; ")}`);
    this.issues = issues;
  }
}

/** A validated instrument with its derived price range (band or reference range) in ticks. */
export interface NormalizedInstrument {
  readonly symbol: string;
  readonly slabs: readonly TickSlab[];
  readonly lotSize: number;
  readonly minQty: number;
  readonly maxQty: number;
  readonly maxOrderValue: number;
  readonly referencePrice: number;
  readonly bandPercent: number;
  readonly maxTicksFromReference: number;
  readonly initialState: InstrumentState;
  readonly cancelOnHalt: boolean;
}

export interface NormalizedConfig {
  readonly instruments: readonly NormalizedInstrument[];
  readonly maxOrders: number;
  readonly initialOrders: number;
  readonly initialEvents: number;
}

/** Derived, per instrument: tick index of the lowest and highest allowed price. */
export interface PriceRange {
  readonly loTick: number;
  readonly hiTick: number;
  readonly lowPrice: number;
  readonly highPrice: number;
  readonly refTick: number;
}

const isPosInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isNonNegInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Index of the slab that holds `price` (the last slab whose fromPrice <= price). */
function slabIndex(slabs: readonly TickSlab[], price: number): number {
  let i = slabs.length - 1;
  while (i > 0 && slabs[i]!.fromPrice > price) i--;
  return i;
}

/** Tick index of each slab's first price. */
export function slabTickBases(slabs: readonly TickSlab[]): number[] {
  const bases = [0];
  for (let i = 1; i < slabs.length; i++) {
    const prev = slabs[i - 1]!;
    bases.push(bases[i - 1]! + (slabs[i]!.fromPrice - prev.fromPrice) / prev.tickSize);
  }
  return bases;
}

/** Tick index of a price, or -1 when the price is not on the tick that applies to it. */
export function priceToTick(slabs: readonly TickSlab[], bases: readonly number[], price: number): number {
  const i = slabIndex(slabs, price);
  const s = slabs[i]!;
  const off = price - s.fromPrice;
  if (off % s.tickSize !== 0) return -1;
  return bases[i]! + off / s.tickSize;
}

export function tickToPrice(slabs: readonly TickSlab[], bases: readonly number[], tick: number): number {
  let i = slabs.length - 1;
  while (i > 0 && bases[i]! > tick) i--;
  return slabs[i]!.fromPrice + (tick - bases[i]!) * slabs[i]!.tickSize;
}

function validPriceAtOrAbove(slabs: readonly TickSlab[], x: number): number {
  const s = slabs[slabIndex(slabs, x)]!;
  return s.fromPrice + Math.ceil((x - s.fromPrice) / s.tickSize) * s.tickSize;
}

function validPriceAtOrBelow(slabs: readonly TickSlab[], x: number): number {
  const s = slabs[slabIndex(slabs, x)]!;
  return s.fromPrice + Math.floor((x - s.fromPrice) / s.tickSize) * s.tickSize;
}

export function priceRange(ins: NormalizedInstrument): PriceRange {
  const bases = slabTickBases(ins.slabs);
  const refTick = priceToTick(ins.slabs, bases, ins.referencePrice);
  let loTick: number;
  let hiTick: number;
  if (ins.bandPercent > 0) {
    const low = validPriceAtOrAbove(ins.slabs, Math.ceil((ins.referencePrice * (100 - ins.bandPercent)) / 100));
    const high = validPriceAtOrBelow(ins.slabs, Math.floor((ins.referencePrice * (100 + ins.bandPercent)) / 100));
    loTick = Math.max(1, priceToTick(ins.slabs, bases, low));
    hiTick = priceToTick(ins.slabs, bases, high);
  } else {
    loTick = Math.max(1, refTick - ins.maxTicksFromReference);
    hiTick = refTick + ins.maxTicksFromReference;
  }
  return {
    loTick,
    hiTick,
    lowPrice: tickToPrice(ins.slabs, bases, loTick),
    highPrice: tickToPrice(ins.slabs, bases, hiTick),
    refTick,
  };
}

function validateSlabs(slabs: unknown, at: string, issues: string[]): TickSlab[] | undefined {
  if (!Array.isArray(slabs) || slabs.length === 0) {
    issues.push(`${at}.tickSlabs must be a non-empty array`);
    return undefined;
  }
  const out: TickSlab[] = [];
  for (let i = 0; i < slabs.length; i++) {
    const s = slabs[i] as Partial<TickSlab> | undefined;
    const fromPrice = s?.fromPrice;
    const tickSize = s?.tickSize;
    if (!isNonNegInt(fromPrice) || !isPosInt(tickSize)) {
      issues.push(`${at}.tickSlabs[${i}] needs an integer fromPrice >= 0 and an integer tickSize > 0`);
      return undefined;
    }
    if (i === 0 && fromPrice !== 0) issues.push(`${at}.tickSlabs[0].fromPrice must be 0`);
    if (i > 0) {
      const prev = out[i - 1]!;
      if (fromPrice <= prev.fromPrice) issues.push(`${at}.tickSlabs must have increasing fromPrice`);
      if (fromPrice % tickSize !== 0 || fromPrice % prev.tickSize !== 0)
        issues.push(`${at}.tickSlabs[${i}].fromPrice must be a multiple of its tick and the previous slab's tick`);
    }
    out.push({ fromPrice, tickSize });
  }
  return out;
}

/** Validates a config; returns the normalized config and the list of problems (empty when valid). */
export function validateEngineConfig(config: EngineConfig): {
  config: NormalizedConfig | undefined;
  issues: string[];
} {
  const issues: string[] = [];
  const instruments: NormalizedInstrument[] = [];
  const list = (config as Partial<EngineConfig> | undefined)?.instruments;
  if (!Array.isArray(list) || list.length === 0) issues.push("instruments must be a non-empty array");
  else if (list.length > 65_535) issues.push("at most 65535 instruments");
  const symbols = new Set<string>();
  for (let i = 0; Array.isArray(list) && i < list.length; i++) {
    const at = `instruments[${i}]`;
    const c = list[i] as Partial<InstrumentConfig> | undefined;
    if (c === null || typeof c !== "object") {
      issues.push(`${at} must be an object`);
      continue;
    }
    const before = issues.length;
    if (typeof c.symbol !== "string" || c.symbol.length === 0) issues.push(`${at}.symbol must be a non-empty string`);
    else if (symbols.has(c.symbol)) issues.push(`${at}.symbol ${c.symbol} is a duplicate`);
    else symbols.add(c.symbol);
    let slabs: TickSlab[] | undefined;
    if (c.tickSize !== undefined && c.tickSlabs !== undefined)
      issues.push(`${at}: give tickSize or tickSlabs, not both`);
    else if (c.tickSlabs !== undefined) slabs = validateSlabs(c.tickSlabs, at, issues);
    else if (isPosInt(c.tickSize)) slabs = [{ fromPrice: 0, tickSize: c.tickSize }];
    else issues.push(`${at}.tickSize must be an integer > 0 (or give tickSlabs)`);
    if (!isPosInt(c.lotSize) || c.lotSize > MAX_INT32) issues.push(`${at}.lotSize must be an integer in 1..2^31-1`);
    if (!isPosInt(c.minQty)) issues.push(`${at}.minQty must be an integer > 0`);
    if (!isPosInt(c.maxQty) || c.maxQty > MAX_INT32) issues.push(`${at}.maxQty must be an integer in 1..2^31-1`);
    if (isPosInt(c.minQty) && isPosInt(c.maxQty) && c.minQty > c.maxQty) issues.push(`${at}: minQty > maxQty`);
    if (!isNonNegInt(c.maxOrderValue)) issues.push(`${at}.maxOrderValue must be an integer >= 0 (0 = no limit)`);
    if (!isPosInt(c.referencePrice) || c.referencePrice > 2 ** 45)
      issues.push(`${at}.referencePrice must be an integer in 1..2^45`);
    if (!Number.isInteger(c.bandPercent) || c.bandPercent! < 0 || c.bandPercent! > 99)
      issues.push(`${at}.bandPercent must be an integer in 0..99 (0 = no band)`);
    const maxTicks = c.maxTicksFromReference ?? DEFAULT_MAX_TICKS_FROM_REFERENCE;
    if (!isPosInt(maxTicks) || maxTicks > MAX_TICK_SPAN / 2)
      issues.push(`${at}.maxTicksFromReference must be an integer in 1..2^25`);
    const initialState = c.initialState ?? InstrumentState.CONTINUOUS;
    if (!Object.values(InstrumentState).includes(initialState)) issues.push(`${at}.initialState is not a state`);
    if (c.cancelOnHalt !== undefined && typeof c.cancelOnHalt !== "boolean")
      issues.push(`${at}.cancelOnHalt must be a boolean`);
    if (issues.length !== before || slabs === undefined) continue;
    const ins: NormalizedInstrument = {
      symbol: c.symbol!,
      slabs,
      lotSize: c.lotSize!,
      minQty: c.minQty!,
      maxQty: c.maxQty!,
      maxOrderValue: c.maxOrderValue!,
      referencePrice: c.referencePrice!,
      bandPercent: c.bandPercent!,
      maxTicksFromReference: maxTicks,
      initialState,
      cancelOnHalt: c.cancelOnHalt ?? false,
    };
    if (priceToTick(slabs, slabTickBases(slabs), ins.referencePrice) < 0) {
      issues.push(`${at}.referencePrice is not on its tick`);
      continue;
    }
    const range = priceRange(ins);
    if (range.hiTick < range.loTick || range.hiTick - range.loTick + 1 > MAX_TICK_SPAN)
      issues.push(`${at}: the price range must hold 1..2^26 ticks`);
    else if (!Number.isSafeInteger(range.highPrice)) issues.push(`${at}: the price range exceeds 2^53`);
    else instruments.push(ins);
  }
  const cap = (config as Partial<EngineConfig> | undefined)?.capacity ?? {};
  const maxOrders = cap.maxOrders ?? DEFAULT_MAX_ORDERS;
  const initialOrders = Math.min(cap.initialOrders ?? DEFAULT_INITIAL_ORDERS, maxOrders);
  const initialEvents = cap.initialEvents ?? DEFAULT_INITIAL_EVENTS;
  if (!isPosInt(maxOrders) || maxOrders > MAX_ORDERS_LIMIT) issues.push("capacity.maxOrders must be in 1..2^26");
  if (!isPosInt(initialOrders)) issues.push("capacity.initialOrders must be an integer > 0");
  if (!isPosInt(initialEvents) || initialEvents > 1 << 24)
    issues.push("capacity.initialEvents must be an integer in 1..2^24");
  if (issues.length > 0) return { config: undefined, issues };
  return { config: Object.freeze({ instruments, maxOrders, initialOrders, initialEvents }), issues };
}

export function normalizeConfig(config: EngineConfig): NormalizedConfig {
  const { config: normalized, issues } = validateEngineConfig(config);
  if (normalized === undefined) throw new EngineConfigError(issues);
  return normalized;
}
