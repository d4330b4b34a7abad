import {
  BarInterval,
  MarketDataChannel,
  type GetBarsRequest,
  type GetSnapshotRequest,
  type GetTradesRequest,
  type SubscribeRequest,
} from "@tradeplane/contracts";
import { intervalSeconds } from "./bars.ts";

/** Limits of the requests, from market_data.proto. */
export const MAX_SUBSCRIBE_INSTRUMENTS = 100;
export const MAX_DEPTH = 500;
export const DEFAULT_DEPTH = 10;
export const MAX_CONFLATION_INTERVAL_MS = 60_000;
export const MAX_TRADES_LIMIT = 1_000;
export const DEFAULT_TRADES_LIMIT = 100;
export const MAX_BARS_LIMIT = 5_000;
export const DEFAULT_BARS_LIMIT = 500;

/** A request field that is wrong, and why. */
export interface Problem {
  readonly field: string;
  readonly message: string;
}

/** A validated subscription. */
export interface Subscription {
  readonly instruments: readonly string[];
  readonly channels: ReadonlySet<MarketDataChannel>;
  readonly depth: number;
  readonly conflationIntervalMs: number;
  readonly barInterval: BarInterval;
  readonly fromSequence: number | undefined;
}

const isChannel = (c: number): c is MarketDataChannel =>
  Number.isInteger(c) && c >= MarketDataChannel.L1 && c <= MarketDataChannel.AUCTION;

function depthOf(depth: number, defaultDepth: number): number | Problem {
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH)
    return { field: "depth", message: `must be 1..${MAX_DEPTH} (0 = ${defaultDepth})` };
  return depth === 0 ? defaultDepth : depth;
}

function instrumentProblem(symbol: string, known: (s: string) => boolean): Problem | undefined {
  if (symbol === "") return { field: "instrument", message: "is required" };
  if (!known(symbol))
    return { field: "instrument", message: `unknown instrument ${JSON.stringify(symbol.slice(0, 40))}` };
  return undefined;
}

/** Checks a SubscribeRequest against the proto's rules and the listed instruments. */
export function validateSubscribe(
  req: SubscribeRequest,
  known: (s: string) => boolean,
  defaultDepth = DEFAULT_DEPTH,
): Subscription | Problem {
  const instruments = [...new Set(req.instruments ?? [])];
  if (instruments.length === 0 || instruments.length > MAX_SUBSCRIBE_INSTRUMENTS)
    return { field: "instruments", message: `give 1..${MAX_SUBSCRIBE_INSTRUMENTS} instrument symbols` };
  for (const s of instruments) {
    const p = instrumentProblem(s, known);
    if (p !== undefined) return { field: "instruments", message: p.message };
  }
  const channels = new Set<MarketDataChannel>();
  for (const c of req.channels ?? []) {
    if (!isChannel(c)) return { field: "channels", message: `unknown channel ${String(c)}` };
    channels.add(c);
  }
  if (channels.size === 0) return { field: "channels", message: "give at least one channel" };
  const depth = depthOf(req.depth, defaultDepth);
  if (typeof depth !== "number") return depth;
  if (
    !Number.isInteger(req.conflationIntervalMs) ||
    req.conflationIntervalMs < 0 ||
    req.conflationIntervalMs > MAX_CONFLATION_INTERVAL_MS
  )
    return { field: "conflation_interval_ms", message: `must be 0..${MAX_CONFLATION_INTERVAL_MS}` };
  const barInterval = req.barInterval === BarInterval.UNSPECIFIED ? BarInterval.MINUTE_1 : req.barInterval;
  if (intervalSeconds(barInterval) === undefined) return { field: "bar_interval", message: "unknown interval" };
  const from = req.fromSequence;
  if (from !== undefined && (!Number.isSafeInteger(from) || from < 0))
    return { field: "from_sequence", message: "must be a safe integer >= 0" };
  return {
    instruments,
    channels,
    depth,
    conflationIntervalMs: req.conflationIntervalMs,
    barInterval,
    fromSequence: from,
  };
}

export function isProblem(x: unknown): x is Problem {
  return typeof x === "object" && x !== null && "field" in x && "message" in x;
}

export function validateSnapshot(
  req: GetSnapshotRequest,
  known: (s: string) => boolean,
  defaultDepth = DEFAULT_DEPTH,
): { instrument: string; depth: number; includeOrders: boolean } | Problem {
  const p = instrumentProblem(req.instrument, known);
  if (p !== undefined) return p;
  const depth = depthOf(req.depth, defaultDepth);
  if (typeof depth !== "number") return depth;
  return { instrument: req.instrument, depth, includeOrders: req.includeOrders };
}

export function validateTrades(
  req: GetTradesRequest,
  known: (s: string) => boolean,
): { instrument: string; fromTradeId: number; limit: number } | Problem {
  const p = instrumentProblem(req.instrument, known);
  if (p !== undefined) return p;
  if (!Number.isInteger(req.limit) || req.limit < 0 || req.limit > MAX_TRADES_LIMIT)
    return { field: "limit", message: `must be 1..${MAX_TRADES_LIMIT} (0 = ${DEFAULT_TRADES_LIMIT})` };
  if (!Number.isSafeInteger(req.fromTradeId) || req.fromTradeId < 0)
    return { field: "from_trade_id", message: "must be a safe integer >= 0" };
  return { instrument: req.instrument, fromTradeId: req.fromTradeId, limit: req.limit || DEFAULT_TRADES_LIMIT };
}

export function validateBars(
  req: GetBarsRequest,
  known: (s: string) => boolean,
): { instrument: string; interval: BarInterval; fromS: number; toS: number; limit: number } | Problem {
  const p = instrumentProblem(req.instrument, known);
  if (p !== undefined) return p;
  if (intervalSeconds(req.interval) === undefined) return { field: "interval", message: "is required" };
  if (!Number.isInteger(req.limit) || req.limit < 0 || req.limit > MAX_BARS_LIMIT)
    return { field: "limit", message: `must be 1..${MAX_BARS_LIMIT} (0 = ${DEFAULT_BARS_LIMIT})` };
  const fromS = req.startTime === undefined ? -Infinity : req.startTime.seconds + (req.startTime.nanos > 0 ? 1 : 0);
  const toS = req.endTime === undefined ? Infinity : req.endTime.seconds + (req.endTime.nanos > 0 ? 1 : 0);
  return { instrument: req.instrument, interval: req.interval, fromS, toS, limit: req.limit || DEFAULT_BARS_LIMIT };
}
