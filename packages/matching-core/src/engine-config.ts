import { InstrumentState, NSE_TICK_SLABS, type EngineConfig, type TickSlab } from "./index.ts";

/**
 * One instrument as a venue's spec and the engine service's config file give it: tick
 * slabs by name or by value, the state by name. Defaults are applied by whoever parsed it.
 */
export interface InstrumentSettings {
  readonly symbol: string;
  readonly tickSize?: number | undefined;
  readonly tickSlabs?: "NSE" | readonly TickSlab[] | undefined;
  readonly lotSize: number;
  readonly minQty: number;
  readonly maxQty: number;
  readonly maxOrderValue: number;
  readonly referencePrice: number;
  readonly bandPercent: number;
  readonly initialState: keyof typeof InstrumentState;
  readonly cancelOnHalt: boolean;
}

/** The matching core's config for a partition's instruments (order = instrument index). */
export function engineConfigOf(config: {
  readonly instruments: readonly InstrumentSettings[];
  readonly maxOrders?: number | undefined;
}): EngineConfig {
  return {
    instruments: config.instruments.map((i) => ({
      symbol: i.symbol,
      ...(i.tickSlabs === "NSE"
        ? { tickSlabs: NSE_TICK_SLABS }
        : i.tickSlabs !== undefined
          ? { tickSlabs: i.tickSlabs }
          : { tickSize: i.tickSize ?? 1 }),
      lotSize: i.lotSize,
      minQty: i.minQty,
      maxQty: i.maxQty,
      maxOrderValue: i.maxOrderValue,
      referencePrice: i.referencePrice,
      bandPercent: i.bandPercent,
      initialState: InstrumentState[i.initialState],
      cancelOnHalt: i.cancelOnHalt,
    })),
    ...(config.maxOrders !== undefined ? { capacity: { maxOrders: config.maxOrders } } : {}),
  };
}
