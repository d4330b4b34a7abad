// Prices and quantities between FIX (decimals in the currency and in base units) and the
// venue (integer ticks and lots), by each instrument's reference data from
// MarketData.ListInstruments. Exact: decimal arithmetic in BigInt, never a float.

import type { Instrument } from "@tradeplane/contracts";

/** Why a price or quantity cannot be expressed in the instrument's units. */
export type ConversionProblem = "unknown-instrument" | "off-tick" | "off-lot" | "not-positive" | "too-large";

export type Converted =
  { readonly ok: true; readonly value: number } | { readonly ok: false; readonly problem: ConversionProblem };

const TEN = 10n;
/** Extra decimal places AvgPx gets beyond the tick size. */
const AVG_PX_EXTRA_DIGITS = 4;

function pow10(n: number): bigint {
  return TEN ** BigInt(n);
}

/** value / unit exactly, or undefined when not a whole number. */
function divideExact(m: number, e: number, unitM: number, unitE: number): bigint | undefined {
  if (unitM <= 0) return undefined;
  const low = Math.min(e, unitE);
  const num = BigInt(m) * pow10(e - low);
  const den = BigInt(unitM) * pow10(unitE - low);
  return num % den === 0n ? num / den : undefined;
}

function ok(value: bigint): Converted {
  return value > BigInt(Number.MAX_SAFE_INTEGER)
    ? { ok: false, problem: "too-large" }
    : { ok: true, value: Number(value) };
}

export class InstrumentTable {
  private readonly bySymbol: ReadonlyMap<string, Instrument>;

  constructor(instruments: readonly Instrument[]) {
    this.bySymbol = new Map(instruments.map((i) => [i.symbol, i]));
  }

  get(symbol: string): Instrument | undefined {
    return this.bySymbol.get(symbol);
  }

  /** A price (mantissa x 10^exponent in the currency) in ticks, on the instrument's tick table. */
  toTicks(symbol: string, mantissa: number, exponent: number): Converted {
    const i = this.bySymbol.get(symbol);
    if (i === undefined || i.tickSize === undefined) return { ok: false, problem: "unknown-instrument" };
    if (mantissa <= 0) return { ok: false, problem: "not-positive" };
    const ticks = divideExact(mantissa, exponent, i.tickSize.mantissa, i.tickSize.exponent);
    if (ticks === undefined) return { ok: false, problem: "off-tick" };
    const n = ok(ticks);
    if (!n.ok) return n;
    let increment = 1;
    for (const band of i.tickBands) if (n.value >= band.fromPrice) increment = band.increment;
    return n.value % increment === 0 ? n : { ok: false, problem: "off-tick" };
  }

  /** A quantity in base units as lots, a multiple of the instrument's quantity increment. */
  toLots(symbol: string, mantissa: number, exponent: number): Converted {
    const i = this.bySymbol.get(symbol);
    if (i === undefined || i.lotSize === undefined) return { ok: false, problem: "unknown-instrument" };
    if (mantissa <= 0) return { ok: false, problem: "not-positive" };
    const lots = divideExact(mantissa, exponent, i.lotSize.mantissa, i.lotSize.exponent);
    if (lots === undefined) return { ok: false, problem: "off-lot" };
    const n = ok(lots);
    if (!n.ok) return n;
    return n.value % Math.max(1, i.qtyIncrement) === 0 ? n : { ok: false, problem: "off-lot" };
  }

  /** Ticks as a decimal in the currency: [mantissa, exponent]. */
  price(symbol: string, ticks: number): [number, number] {
    const t = this.bySymbol.get(symbol)?.tickSize;
    return t === undefined ? [ticks, 0] : [ticks * t.mantissa, t.exponent];
  }

  /** Lots as a decimal in base units: [mantissa, exponent]. */
  qty(symbol: string, lots: number): [number, number] {
    const l = this.bySymbol.get(symbol)?.lotSize;
    return l === undefined ? [lots, 0] : [lots * l.mantissa, l.exponent];
  }

  /**
   * The average fill price in the currency: cumNotional / (cumQty x notionalPerTickLot)
   * ticks, rounded half up to four more decimals than the tick size (trailing zeros beyond it dropped); 0 with nothing filled.
   */
  avgPx(symbol: string, cumNotional: number, cumQty: number): [number, number] {
    const i = this.bySymbol.get(symbol);
    if (i === undefined || i.tickSize === undefined || cumQty <= 0) return [0, 0];
    const den = BigInt(cumQty) * BigInt(Math.max(1, i.notionalPerTickLot));
    const num = BigInt(cumNotional) * BigInt(i.tickSize.mantissa) * pow10(AVG_PX_EXTRA_DIGITS);
    let m = (2n * num + den) / (2n * den);
    let exponent = i.tickSize.exponent - AVG_PX_EXTRA_DIGITS;
    // Extra places only where they say something: 1000.5 stays, 1000.000000 is 1000.00.
    while (exponent < i.tickSize.exponent && m % TEN === 0n) {
      m /= TEN;
      exponent++;
    }
    return [Number(m), exponent];
  }
}
