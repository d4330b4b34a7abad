import { InstrumentState, type Instrument } from "@tradeplane/contracts";
import { InstrumentTable } from "../../src/domain/instruments.ts";

/** INFY: tick 0.05, lot 1, quantity in multiples of 1; BTC: tick 0.5 (bands), lot 0.001. */
export const TEST_INSTRUMENTS: Instrument[] = [
  instrument("INFY", { mantissa: 5, exponent: -2 }, { mantissa: 1, exponent: 0 }, 5, []),
  instrument("BTC", { mantissa: 5, exponent: -1 }, { mantissa: 1, exponent: -3 }, 1, [
    { fromPrice: 1, increment: 1 },
    { fromPrice: 10_000, increment: 10 },
  ]),
];

export const instruments = new InstrumentTable(TEST_INSTRUMENTS);

function instrument(
  symbol: string,
  tickSize: Instrument["tickSize"],
  lotSize: Instrument["lotSize"],
  notionalPerTickLot: number,
  tickBands: Instrument["tickBands"],
): Instrument {
  return {
    symbol,
    partition: 0,
    description: "",
    quoteCurrency: "USD",
    tickSize,
    lotSize,
    notionalExponent: -2,
    notionalPerTickLot,
    tickBands,
    qtyIncrement: 1,
    minQty: 1,
    maxQty: 0,
    maxOrderNotional: 0,
    referencePrice: 1000,
    priceBandBps: 0,
    state: InstrumentState.CONTINUOUS,
  };
}
