import { parseDecimal } from "@tradeplane/operator/api/v1alpha1";

/**
 * Prices for people: an integer count of price units shown in the currency, exactly
 * (130005 at priceUnit "0.01" is "1,300.05"). Done with integers and strings, never floats.
 */
export function formatPrice(units: number, priceUnit: string): string {
  if (units === 0) return "";
  const { mantissa, exponent } = parseDecimal(priceUnit);
  const scaled = BigInt(units) * mantissa;
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(-exponent + 1, "0");
  const whole = exponent < 0 ? digits.slice(0, exponent) : digits + "0".repeat(exponent);
  const fraction = exponent < 0 ? digits.slice(exponent) : "";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction ? `.${fraction}` : ""}`;
}

/** Money in minor units (paise at exponent -2) shown in the currency. */
export function formatMoney(minorUnits: number, notionalExponent: number): string {
  if (minorUnits === 0) return "0";
  return formatPrice(minorUnits, notionalExponent === 0 ? "1" : `0.${"0".repeat(-notionalExponent - 1)}1`);
}

/** "SIDE_BUY" -> "BUY", for enums printed through ts-proto's toJSON. */
export function enumLabel(json: string, prefix: string): string {
  return json.startsWith(prefix) ? json.slice(prefix.length) : json;
}

/** Engine time as an ISO string (to the microsecond). */
export function formatTime(ts: { seconds: number; nanos: number } | undefined): string {
  if (ts === undefined || (ts.seconds === 0 && ts.nanos === 0)) return "";
  const iso = new Date(ts.seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(Math.floor(ts.nanos / 1000)).padStart(6, "0")}Z`;
}
