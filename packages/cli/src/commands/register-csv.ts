import { Side, type RegisterTrade } from "@tradeplane/contracts";
import { formatMoney, formatTime } from "../format.ts";

/**
 * The end-of-day trade register as CSV (RFC 4180: comma-separated, CRLF line ends, fields
 * with a comma, quote or line break quoted). Prices in ticks, quantities in lots and values
 * in notional units are integers as the journal holds them; `value` is also given in the
 * currency, exactly.
 */
export const REGISTER_CSV_HEADER = [
  "trading_day",
  "trade_time_utc",
  "command_seq",
  "index",
  "trade_id",
  "instrument",
  "price_ticks",
  "qty_lots",
  "value_units",
  "value",
  "currency",
  "aggressor",
  "buy_account",
  "buy_order_id",
  "sell_account",
  "sell_order_id",
] as const;

function field(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const line = (fields: readonly (string | number)[]) => fields.map(field).join(",") + "\r\n";

export function registerCsvHeader(): string {
  return line(REGISTER_CSV_HEADER);
}

/** One trade's line. */
export function registerCsvLine(
  day: string,
  t: RegisterTrade,
  money: { readonly currency: string; readonly notionalExponent: number },
): string {
  return line([
    day,
    formatTime(t.time),
    t.commandSeq,
    t.index,
    t.tradeId,
    t.instrument,
    t.price,
    t.qty,
    t.value,
    formatMoney(t.value, money.notionalExponent).replaceAll(",", ""),
    money.currency,
    t.aggressorSide === Side.BUY ? "BUY" : "SELL",
    t.buyAccount,
    t.buyOrderId,
    t.sellAccount,
    t.sellOrderId,
  ]);
}
