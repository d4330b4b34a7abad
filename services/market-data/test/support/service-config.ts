import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { eventStreamName, MarketDataChannel } from "@tradeplane/contracts";
import type { MarketDataConfig } from "../../src/config.ts";
import { richInstrumentSettings } from "./rich-stream.ts";

/** A market-data config for tests: the rich stream's instruments, free ports, silent logs, in-memory traces. */
export function serviceConfig(
  natsUrl: string,
  venue: string,
  overrides: Partial<MarketDataConfig> = {},
): MarketDataConfig {
  return {
    natsUrl: [natsUrl],
    venue,
    instanceId: "md-test",
    instruments: richInstrumentSettings.map((i) => ({
      symbol: i.symbol,
      partition: 0,
      description: `${i.symbol} test`,
      quoteCurrency: "INR",
      priceUnit: "0.01",
      lotSize: "1",
      notionalExponent: -2,
      notionalPerTickLot: 1,
      tickBands: [{ fromPrice: 0, tickSize: 1 }],
      qtyIncrement: 1,
      minQty: 1,
      maxQty: 1_000_000,
      maxOrderValue: 0,
      referencePrice: i.referencePrice,
      priceBandPercent: i.bandPercent,
      initialState: i.initialState,
    })),
    wsHost: "127.0.0.1",
    wsPort: 0,
    defaultDepth: 10,
    maxQueuedUpdates: 10_000,
    batchEvents: 512,
    fanoutIntervalMs: 0,
    fanoutDutyWait: 1,
    maxInFlightWrites: 4,
    historyUpdates: 200_000,
    tradesKept: 10_000,
    barsKept: 1_000,
    snapshotEveryEvents: 0,
    snapshotIntervalMs: 0,
    snapshotsKept: 3,
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    opsHost: "127.0.0.1",
    opsPort: 0,
    logLevel: "silent",
    tracing: "memory",
    ...overrides,
  };
}

/** Every channel, for subscriptions that want all of them. */
export const ALL_CHANNELS = [
  MarketDataChannel.L1,
  MarketDataChannel.L2,
  MarketDataChannel.L3,
  MarketDataChannel.TRADES,
  MarketDataChannel.BARS,
  MarketDataChannel.STATS,
  MarketDataChannel.STATE,
  MarketDataChannel.AUCTION,
];

/** The sequence of the last message in the venue's event stream. */
export async function eventHeadOf(nc: NatsConnection, venue: string): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(eventStreamName(venue))).state.last_seq;
}
