/**
 * Exact decimals for reference data (tick value, lot size) written as strings in a spec.
 * Prices, quantities and money never take this path: they are integers everywhere.
 */
export interface Decimal {
  /** The digits, as an integer. */
  readonly mantissa: bigint;
  /** Power of ten: value = mantissa x 10^exponent; 0 or negative. */
  readonly exponent: number;
}

/** A decimal in plain notation: "0.05", "1", "75". */
export const DECIMAL_PATTERN = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;
/** Most digits of a decimal in a spec: its digits must fit an int64 (CEL checks them so). */
export const DECIMAL_MAX_DIGITS = 18;

/** True for a positive decimal in plain notation ("0.05", "1", "75"), at most 18 digits. */
export function isPositiveDecimal(text: string): boolean {
  if (!DECIMAL_PATTERN.test(text) || text.replace(".", "").length > DECIMAL_MAX_DIGITS) return false;
  return parseDecimal(text).mantissa > 0n;
}

/** "0.050" -> {mantissa: 5n, exponent: -2}. The caller has checked isPositiveDecimal. */
export function parseDecimal(text: string): Decimal {
  const [whole, fraction = ""] = text.split(".");
  let mantissa = BigInt(`${whole}${fraction}`);
  let exponent = -fraction.length;
  while (exponent < 0 && mantissa % 10n === 0n && mantissa !== 0n) {
    mantissa /= 10n;
    exponent++;
  }
  return { mantissa, exponent };
}

/**
 * The integer number of 10^notionalExponent currency units that `a x b` is worth, or
 * undefined when it is not a whole number of them.
 */
export function productInUnits(a: Decimal, b: Decimal, notionalExponent: number): bigint | undefined {
  const mantissa = a.mantissa * b.mantissa;
  const shift = a.exponent + b.exponent - notionalExponent;
  if (shift >= 0) return mantissa * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  return mantissa % divisor === 0n ? mantissa / divisor : undefined;
}
