import { hostname } from "node:os";
import { z } from "zod";
import {
  env,
  loadConfig,
  natsConfigSchema,
  serviceEndpointsSchema,
  type LoadConfigOptions,
} from "@tradeplane/platform";
import { isInstrumentSymbol, isVenueName } from "@tradeplane/contracts";

export const DEFAULT_GRPC_PORT = 50071;
export const DEFAULT_OPS_PORT = 9466;
export const DEFAULT_WS_PORT = 8081;
/** L2 levels per side when a request says 0. */
export const DEFAULT_DEPTH_LEVELS = 10;
/** L3/TRADES/STATE updates queued per subscriber before it is cut off as too slow. */
export const DEFAULT_MAX_QUEUED_UPDATES = 10_000;
/** Event-channel updates kept for resumes (Subscribe with from_sequence), venue-wide. */
export const DEFAULT_HISTORY_UPDATES = 200_000;
/** Events applied before the updates they produced are sent (and other work gets a turn). */
export const DEFAULT_BATCH_EVENTS = 512;
/** Shortest time between two fan-out rounds; 0 = one round per batch of events. */
export const DEFAULT_FANOUT_INTERVAL_MS = 0;
/** Updates per gRPC subscriber handed to the transport and not yet written out. */
export const DEFAULT_MAX_IN_FLIGHT_WRITES = 4;
/** After a fan-out round that took t, the next waits until t x this has passed. */
export const DEFAULT_FANOUT_DUTY_WAIT = 1;
/** Trades kept per instrument for GetTrades. */
export const DEFAULT_TRADES_KEPT = 10_000;
/** Closed bars kept per instrument and interval for GetBars. */
export const DEFAULT_BARS_KEPT = 2_000;
/**
 * Events applied between two state snapshots (0 = not by count). Encoding one pauses event
 * application (about 0.3 s for a large state), so not too often: at 20,000 events/s this is
 * one every 50 s, and a replay of at most this many events (about 20 s) at start.
 */
export const DEFAULT_SNAPSHOT_EVERY_EVENTS = 1_000_000;
/** Longest time in ms between two state snapshots while events arrive (0 = not by time). */
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 60_000;
/** State snapshots kept in the venue's snapshots bucket (of every replica together). */
export const DEFAULT_SNAPSHOTS_KEPT = 3;

/** A decimal in plain notation, e.g. "0.05". */
const decimalText = z.string().regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'must be a decimal such as "0.05"');

/** What market data serves of each instrument (ListInstruments) and needs to build its state. */
export const marketDataInstrumentSchema = z.object({
  symbol: z.string().refine(isInstrumentSymbol, "must be 1..32 characters of [A-Za-z0-9_-]"),
  partition: z.number().int().min(0).max(1023).default(0),
  description: z.string().max(200).default(""),
  quoteCurrency: z.string().default(""),
  /** Value of price 1 in the quote currency per lot (the Instrument's tick_size). */
  priceUnit: decimalText.default("0.01"),
  /** Base units in one lot. */
  lotSize: decimalText.default("1"),
  notionalExponent: z.number().int().min(-18).max(0).default(-2),
  /** Notional units of one lot at price 1. */
  notionalPerTickLot: z.number().int().min(1).default(1),
  tickBands: z.array(z.object({ fromPrice: z.number().int().min(0), tickSize: z.number().int().min(1) })).default([]),
  qtyIncrement: z.number().int().min(1).default(1),
  minQty: z.number().int().min(1).default(1),
  maxQty: z.number().int().min(0).default(0),
  maxOrderValue: z.number().int().min(0).default(0),
  referencePrice: z.number().int().min(1),
  priceBandPercent: z.number().int().min(0).max(100).default(0),
  /** The engine's state of the instrument on a fresh log (the engine announces changes only). */
  initialState: z.enum(["PRE_OPEN", "CONTINUOUS", "HALTED", "CLOSED"]).default("CONTINUOUS"),
});

export type MarketDataInstrument = z.infer<typeof marketDataInstrumentSchema>;

export const marketDataConfigSchema = z.object({
  ...natsConfigSchema,
  venue: z.string().refine(isVenueName, "must be a lowercase DNS label starting with a letter"),
  instanceId: z.string().min(1).default(hostname()),
  instruments: z.array(marketDataInstrumentSchema).min(1),
  wsHost: z.string().default("0.0.0.0"),
  /** WebSocket JSON feed; 0 picks a free port. */
  wsPort: env.int(0, 65_535).default(DEFAULT_WS_PORT),
  defaultDepth: env.int(1, 500).default(DEFAULT_DEPTH_LEVELS),
  maxQueuedUpdates: env.int(16, 10_000_000).default(DEFAULT_MAX_QUEUED_UPDATES),
  batchEvents: env.int(1, 65_536).default(DEFAULT_BATCH_EVENTS),
  /**
   * Pacing of the fan-out: updates of L1/L2/BARS/STATS/AUCTION produced within this interval
   * are merged before they go out (a server-wide conflation floor that bounds the update rate
   * per subscriber when many subscribers share a busy instrument).
   */
  fanoutIntervalMs: env.int(0, 1_000).default(DEFAULT_FANOUT_INTERVAL_MS),
  /**
   * After a fan-out round that took t, wait at least t x this before the next one, so writing
   * to subscribers never starves applying the log (1 = at most half the time on fan-out).
   */
  fanoutDutyWait: z.coerce.number().min(0).max(100).default(DEFAULT_FANOUT_DUTY_WAIT),
  maxInFlightWrites: env.int(1, 1_024).default(DEFAULT_MAX_IN_FLIGHT_WRITES),
  historyUpdates: env.int(1, 100_000_000).default(DEFAULT_HISTORY_UPDATES),
  tradesKept: env.int(1, 10_000_000).default(DEFAULT_TRADES_KEPT),
  barsKept: env.int(1, 10_000_000).default(DEFAULT_BARS_KEPT),
  /**
   * State snapshots (`md-<stream seq>` in the venue's snapshots bucket): one after this many
   * events, one when this many ms passed with events since the last, one at shutdown. A
   * replica starts from the newest that loads and replays only the events after it.
   */
  snapshotEveryEvents: env.int(0, 1_000_000_000).default(DEFAULT_SNAPSHOT_EVERY_EVENTS),
  snapshotIntervalMs: env.int(0, 86_400_000).default(DEFAULT_SNAPSHOT_INTERVAL_MS),
  snapshotsKept: env.int(1, 100).default(DEFAULT_SNAPSHOTS_KEPT),
  ...serviceEndpointsSchema({ grpcPort: DEFAULT_GRPC_PORT, opsPort: DEFAULT_OPS_PORT }),
});

export type MarketDataConfig = z.infer<typeof marketDataConfigSchema>;

/** Reads the market-data service's config (TP_CONFIG_FILE + TP_* variables), validated and frozen. */
export function loadMarketDataConfig(options: LoadConfigOptions = {}): Readonly<MarketDataConfig> {
  return loadConfig(marketDataConfigSchema, { what: "market-data configuration", ...options });
}
