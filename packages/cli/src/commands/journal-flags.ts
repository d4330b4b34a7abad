import { CliError, EXIT } from "../errors.ts";

/**
 * The journal commands' flags, checked before any call: a trading day, a time, an order id.
 * Each refusal names the flag and what it wants.
 */

const DAY = /^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;

/** A trading day "YYYY-MM-DD" that exists. */
export function parseTradingDay(text: string | undefined, flag = "--day"): string {
  if (text === undefined) throw new CliError(EXIT.USAGE, `${flag} is required: a trading day "YYYY-MM-DD"`);
  const m = DAY.exec(text);
  const ok = m !== null && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
  if (!ok) throw new CliError(EXIT.USAGE, `${flag} ${text}: give a trading day "YYYY-MM-DD" that exists`);
  return text;
}

/** An instant as an ISO 8601 time with a zone ("2026-12-03T09:15:00+05:30"), as a protobuf Timestamp. */
export function parseInstant(text: string | undefined, flag: string): { seconds: number; nanos: number } | undefined {
  if (text === undefined) return undefined;
  // A time without a zone would mean this machine's zone: refuse it rather than guess.
  const ms = /(Z|[+-][0-9]{2}:[0-9]{2})$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms))
    throw new CliError(EXIT.USAGE, `${flag} ${text}: give an ISO time with its zone, e.g. 2026-12-03T09:15:00+05:30`);
  return { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1_000_000 };
}

/** An order id: a whole number >= 1. */
export function parseOrderId(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text)))
    throw new CliError(EXIT.USAGE, `order id ${text}: give the venue's order id, a whole number >= 1`);
  return Number(text);
}

/** A row limit: 1..10,000. */
export function parseLimit(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > 10_000)
    throw new CliError(EXIT.USAGE, `--limit ${text}: give a whole number from 1 to 10000`);
  return Number(text);
}
