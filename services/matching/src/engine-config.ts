import { InstrumentState, NSE_TICK_SLABS, type EngineConfig } from "./domain/index.ts";
import type { EngineServiceConfig } from "./config.ts";

/** The matching core's config for the service's instruments (order = instrument index). */
export function engineConfigOf(config: Pick<EngineServiceConfig, "instruments" | "maxOrders">): EngineConfig {
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
