import { isPositiveDecimal, parseDecimal } from "@tradeplane/operator/api/v1alpha1";
import { CliError, EXIT } from "./errors.ts";

/**
 * A price typed by a person: in the currency ("1300.05") when the instrument's price unit
 * is known, converted exactly to price units (130005 at 0.01); an integer of price units
 * otherwise. A price between two units is refused, never rounded.
 */
export function parsePrice(text: string, priceUnit: string | undefined, flag = "--price"): number {
  const plain = text.replace(/,/g, "");
  if (priceUnit === undefined) {
    if (!/^[1-9][0-9]*$/.test(plain))
      throw new CliError(EXIT.USAGE, `${flag} ${text}: give the price as a whole number of price units`);
    return Number(plain);
  }
  if (!isPositiveDecimal(plain)) throw new CliError(EXIT.USAGE, `${flag} ${text}: not a positive price`);
  const price = parseDecimal(plain);
  const unit = parseDecimal(priceUnit);
  // price / unit must be a whole number: compare at a common exponent.
  const exp = Math.min(price.exponent, unit.exponent);
  const p = price.mantissa * 10n ** BigInt(price.exponent - exp);
  const u = unit.mantissa * 10n ** BigInt(unit.exponent - exp);
  if (p % u !== 0n) throw new CliError(EXIT.USAGE, `${flag} ${text}: not a multiple of the price unit ${priceUnit}`);
  const units = p / u;
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) throw new CliError(EXIT.USAGE, `${flag} ${text}: too large`);
  return Number(units);
}

/** A whole positive number for a flag such as --qty. */
export function parseCount(text: string, flag: string, min = 1): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text)))
    throw new CliError(EXIT.USAGE, `${flag} ${text}: give a whole number >= ${min}`);
  return Number(text);
}
