import { jetstream } from "@nats-io/jetstream";
import {
  eventStreamName,
  InstrumentState,
  snapshotsBucket,
  type Decimal,
  type Instrument,
} from "@tradeplane/contracts";
import {
  connectNats,
  watchNatsHealth,
  createLogger,
  createMetricsRegistry,
  Health,
  initTelemetry,
  tracingSettingsOf,
  openBlobStore,
  runService,
  Shutdown,
  grpcServerSettings,
  startGrpcServer,
  startOpsServer,
  type ServiceContext,
  type StartedService,
  type Telemetry,
} from "@tradeplane/platform";
import { Counter, Gauge } from "prom-client";
import { loadMarketDataConfig, type MarketDataConfig, type MarketDataInstrument } from "./config.ts";
import { MarketState } from "./domain/market-state.ts";
import { EventFollower } from "./adapters/event-follower.ts";
import { Hub } from "./adapters/hub.ts";
import { StateSnapshots } from "./adapters/state-snapshots.ts";
import { marketDataDefinition, marketDataService } from "./adapters/market-data-grpc.ts";
import { startWebSocketFeed } from "./adapters/websocket-feed.ts";
import { registerBookMetrics } from "./adapters/book-metrics.ts";

/** A started market-data service: also where its WebSocket feed listens, and its state (tests). */
export interface StartedMarketData extends StartedService {
  readonly wsPort: number;
  readonly state: MarketState;
  readonly hub: Hub;
  readonly follower: EventFollower;
  readonly snapshots: StateSnapshots;
  readonly telemetry: Telemetry;
}

/** "0.05" -> { mantissa: 5, exponent: -2 }. */
export function decimalOf(text: string): Decimal {
  const [whole = "0", frac = ""] = text.split(".");
  return { mantissa: Number(whole + frac), exponent: -frac.length };
}

function instrumentInfo(i: MarketDataInstrument): Instrument {
  return {
    symbol: i.symbol,
    partition: i.partition,
    description: i.description,
    quoteCurrency: i.quoteCurrency,
    tickSize: decimalOf(i.priceUnit),
    lotSize: decimalOf(i.lotSize),
    notionalExponent: i.notionalExponent,
    notionalPerTickLot: i.notionalPerTickLot,
    tickBands: i.tickBands.map((b) => ({ fromPrice: Math.max(1, b.fromPrice), increment: b.tickSize })),
    qtyIncrement: i.qtyIncrement,
    minQty: i.minQty,
    maxQty: i.maxQty,
    maxOrderNotional: i.maxOrderValue,
    referencePrice: i.referencePrice,
    priceBandBps: i.priceBandPercent * 100,
    state: InstrumentState[i.initialState],
  };
}

/**
 * The market-data process. Stages:
 *  1. config      TP_CONFIG_FILE + TP_* variables, validated once
 *  2. telemetry   logger, metrics, tracer, health
 *  3. NATS        connection
 *  4. read side   load the newest state snapshot that loads (else start empty), follow the
 *                 event stream from the event after it; ready once caught up with the
 *                 stream's head as it was at start; snapshot periodically and at shutdown
 *  5. endpoints   MarketData gRPC (+ health), WebSocket feed, /metrics /healthz /readyz
 *  6. shutdown    reverse order on SIGTERM/SIGINT
 */
export async function main(config: Readonly<MarketDataConfig>, context?: ServiceContext): Promise<StartedMarketData> {
  // 2. telemetry
  const logger = createLogger({
    service: "market-data",
    level: config.logLevel,
    base: { venue: config.venue, instance: config.instanceId },
  });
  const registry = createMetricsRegistry("market-data", { venue: config.venue });
  const telemetry = initTelemetry("tradeplane-market-data", tracingSettingsOf(config));
  const health = new Health();
  health.register("nats");
  health.register("events");
  const shutdown = new Shutdown(logger);
  context?.attach(shutdown); // a signal from here on stops what has started
  shutdown.add("telemetry", () => telemetry.shutdown());

  // 3. NATS
  const nc = await connectNats(config, `market-data-${config.venue}-${config.instanceId}`, logger);
  shutdown.add("nats", () => nc.drain());
  health.set("nats", "ok");
  const js = jetstream(nc);

  // 4. read side
  const specs = config.instruments.map((i) => ({
    symbol: i.symbol,
    referencePrice: i.referencePrice,
    notionalPerTickLot: i.notionalPerTickLot,
    initialState: InstrumentState[i.initialState],
  }));
  const retention = { tradesKept: config.tradesKept, barsKept: config.barsKept };
  const eventStream = await (await js.jetstreamManager()).streams.info(eventStreamName(config.venue));
  const snapshots = new StateSnapshots({
    store: await openBlobStore(nc, snapshotsBucket(config.venue)),
    keep: config.snapshotsKept,
    logger,
    registry,
  });
  const loaded = await snapshots.load(
    { created: eventStream.created, firstSeq: eventStream.state.first_seq, lastSeq: eventStream.state.last_seq },
    { specs, retention, historyCapacity: config.historyUpdates },
  );
  if (loaded === undefined && eventStream.state.first_seq > 1)
    logger.warn(
      { firstSeq: eventStream.state.first_seq },
      "replaying an event stream whose first events are gone (retention): the state misses them",
    );
  const state = loaded?.state ?? new MarketState(specs, retention);
  const hub = new Hub({
    state,
    history: loaded?.history,
    historySize: config.historyUpdates,
    maxQueued: config.maxQueuedUpdates,
    fanoutIntervalMs: config.fanoutIntervalMs,
    fanoutDutyWait: config.fanoutDutyWait,
    registry,
  });
  const eventsApplied = new Counter({
    name: "tp_md_events_applied_total",
    help: "Event-stream messages (runs of one command's events about one instrument) applied from the event log",
    registers: [registry],
  });
  const follower = new EventFollower({
    js,
    venue: config.venue,
    state,
    logger,
    onEvent: (at) => {
      eventsApplied.inc();
      hub.received(at);
    },
    onStep: () => snapshots.eventApplied(),
    onBatch: () => hub.batchDone(),
    batchEvents: config.batchEvents,
  });
  // From here an outage makes the service NOT_SERVING until NATS and the follower are back.
  watchNatsHealth({ nc, health, logger, followers: [{ check: "events", reachedEnd: () => follower.reachedEnd() }] });
  new Gauge({
    name: "tp_md_log_position",
    help: "Event-log (stream) sequence of the last event applied",
    registers: [registry],
    collect() {
      this.set(state.position);
    },
  });
  new Gauge({
    name: "tp_md_events_waiting",
    help: "Event-stream messages held until their partition's previous message is applied (stored out of order)",
    registers: [registry],
    collect() {
      this.set(follower.waiting);
    },
  });
  new Gauge({
    name: "tp_md_event_gaps_skipped",
    help: "Partition messages given up on as lost: deleted or aged out of the event stream (should be 0)",
    registers: [registry],
    collect() {
      this.set(follower.gapsSkipped);
    },
  });
  new Gauge({
    name: "tp_md_book_mismatches",
    help: "Book levels where the engine's BookDelta disagreed with the book built from order events (should be 0)",
    registers: [registry],
    collect() {
      this.set(state.mismatches);
    },
  });
  registerBookMetrics(registry, state);
  health.set("events", "starting", "replaying the event log");
  snapshots.start({
    state,
    history: hub.history,
    streamCreated: eventStream.created,
    position: () => follower.safePosition,
    everyEvents: config.snapshotEveryEvents,
    intervalMs: config.snapshotIntervalMs,
  });
  // Registered before the follower's stop, so it runs after it: the last snapshot holds every event applied.
  shutdown.add("snapshot", () => snapshots.stop());
  const startedFrom = state.position;
  await follower.start(eventStream.state.first_seq);
  shutdown.add("events", () => follower.stop());
  void follower.caughtUp.then(() => {
    const seconds = (follower.caughtUpAt - follower.startedAt) / 1000;
    logger.info(
      {
        from: startedFrom,
        position: state.position,
        events: follower.applied,
        seconds,
        eventsPerSecond: Math.round(follower.applied / Math.max(seconds, 1e-3)),
      },
      "caught up with the event log",
    );
    health.set("events", "ok");
  });

  // 5. endpoints
  const instruments = config.instruments.map(instrumentInfo).sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  const grpc = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    ...grpcServerSettings(config),
    health,
    logger,
    services: [
      {
        name: "tradeplane.v1.MarketData",
        definition: marketDataDefinition,
        implementation: marketDataService({
          state,
          hub,
          instruments,
          tracer: telemetry.tracer,
          logger,
          maxInFlight: config.maxInFlightWrites,
          defaultDepth: config.defaultDepth,
        }),
      },
    ],
  });
  shutdown.add("grpc", async () => {
    hub.closeAll();
    await grpc.close();
  });
  const ws = await startWebSocketFeed({
    host: config.wsHost,
    port: config.wsPort,
    state,
    hub,
    logger,
    defaultDepth: config.defaultDepth,
  });
  shutdown.add("websocket", () => ws.close());
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, health, logger });
  shutdown.add("ops", () => ops.close());
  logger.info({ grpcPort: grpc.port, wsPort: ws.port, opsPort: ops.port }, "market data started");
  return {
    shutdown,
    grpcPort: grpc.port,
    opsPort: ops.port,
    wsPort: ws.port,
    state,
    hub,
    follower,
    snapshots,
    telemetry,
  };
}

// 1. config, then run, when started as a program.
if (import.meta.main) runService("market-data", loadMarketDataConfig, main);
