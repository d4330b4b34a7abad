import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials } from "@grpc/grpc-js";
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CommandBatch,
  commandSeqOf,
  commandSubject,
  EngineEvent,
  EngineEventBatch,
  eventStreamName,
  eventSubjectPartition,
  MarketDataClient,
  RiskAdminClient,
  type BookLevel,
  type Command,
  type GetPositionsResponse,
  type GetSnapshotResponse,
} from "@tradeplane/contracts";
import { provision, venueProvisioningPlan } from "@tradeplane/platform";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { Partition } from "@tradeplane/matching-core/partition";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import {
  commandStream,
  connectTo,
  NatsServer,
  prng,
  retry,
  ServiceProcess,
  testInstrumentSettings,
  unary,
} from "@tradeplane/testkit";
import { OrderProjection } from "@tradeplane/positions/order-projection";
import { wirePositions } from "../../src/adapters/account-reads.ts";
import { auth } from "../service/gateway-fixture.ts";

/**
 * A venue of four partitions, the way Kubernetes runs one: each partition's engine and the
 * risk gateway are separate processes, the instruments are spread over the partitions, and
 * orders go to all of them at once, so the engines publish into the one event stream each at
 * its own pace. Every engine and the gateway are killed and restarted while the orders come
 * in, and so is market data. At the end each partition's events in the stream are exactly those
 * of a pure partition fed the same log (none lost, none stored twice), the gateway's positions
 * are exactly those the events give in command order (none skipped, none applied twice), and
 * market data's books are the engines' books.
 */

const VENUE = "multi";
const PARTITIONS = 4;
const ENTRIES = 1_200;
const ADMIN_TOKEN = "multi-admin-token-0123456789";
const RISK_MAIN = resolve(fileURLToPath(new URL("../../src/main.ts", import.meta.url)));
// Market data, the other reader of the event stream, run as the process it is (never imported).
const MARKET_DATA_MAIN = resolve(fileURLToPath(new URL("../../../market-data/src/main.ts", import.meta.url)));
const DEPTH = 500;
/** Entry sizes taken in turn, as gateways write them (single orders and batches). */
const ENTRY_SIZES = [1, 4, 2, 9, 1, 3, 16, 5];

const symbolOn = (symbol: string, partition: number) => `${symbol}${partition}`;
const instrumentsOf = (partition: number) =>
  testInstrumentSettings.map((i) => ({ ...i, symbol: symbolOn(i.symbol, partition) }));

interface Entry {
  readonly partition: number;
  readonly seq: number;
  readonly commands: Command[];
}

/**
 * The command log: entry k (stream sequence k + 1) goes to a random partition, and each
 * partition's commands are a random order flow over its own instruments whose cancels and
 * replaces name the ids (command sequences) its earlier orders get.
 */
function plan(): Entry[] {
  const rnd = prng(15);
  const slots = Array.from({ length: ENTRIES }, (_, k) => ({
    partition: Math.floor(rnd() * PARTITIONS),
    seq: k + 1,
    size: ENTRY_SIZES[k % ENTRY_SIZES.length]!,
  }));
  const seqsOf = Array.from({ length: PARTITIONS }, (_, p) =>
    slots
      .filter((s) => s.partition === p)
      .flatMap((s) => Array.from({ length: s.size }, (_, i) => commandSeqOf(s.seq, i))),
  );
  const flows = seqsOf.map((seqs, p) =>
    commandStream(seqs.length, 100 + p, (i) => seqs[i]!).map((command) => {
      const body = command.body?.value as { instrument?: string } | undefined;
      if (body?.instrument !== undefined && body.instrument !== "NOPE") body.instrument = symbolOn(body.instrument, p);
      return command;
    }),
  );
  const next = flows.map(() => 0);
  return slots.map((s) => {
    const at = next[s.partition]!;
    next[s.partition] = at + s.size;
    return { partition: s.partition, seq: s.seq, commands: flows[s.partition]!.slice(at, at + s.size) };
  });
}

/** Writes entries in order from one connection (JetStream stores them in that order), checking each lands where planned. */
async function write(js: JetStreamClient, entries: readonly Entry[]): Promise<void> {
  const acks = entries.map(async (e) => {
    const ack = await js.publish(
      commandSubject(VENUE, e.partition),
      CommandBatch.encode({ commands: e.commands }).finish(),
      { timeout: 30_000 },
    );
    if (ack.seq !== e.seq) throw new Error(`entry planned at ${e.seq} stored at ${ack.seq}`);
  });
  await Promise.all(acks);
}

/** Each partition's events from pure partitions fed the log, and a projection fed them all in command order. */
function reference(entries: readonly Entry[]) {
  const partitions = Array.from({ length: PARTITIONS }, (_, p) =>
    Partition.create({ engine: engineConfigOf({ instruments: instrumentsOf(p) }) }),
  );
  const events: EngineEvent[][] = partitions.map(() => []);
  const projection = new OrderProjection(() => ({ notionalPerTickLot: 1 }));
  for (const e of entries)
    e.commands.forEach((command, i) => {
      const partition = partitions[e.partition]!;
      partition.apply(commandSeqOf(e.seq, i), command);
      for (const event of partition.wireEvents()) {
        events[e.partition]!.push(event);
        projection.apply(event, e.partition);
      }
    });
  const level = (l: { price: number; qty: number; orders: number }): BookLevel => ({
    price: l.price,
    qty: l.qty,
    orderCount: l.orders,
  });
  const books = new Map(
    partitions.flatMap((partition, p) =>
      instrumentsOf(p).map((i) => {
        const view = partition.engine.book(partition.instrumentIndex(i.symbol), DEPTH);
        return [i.symbol, { bids: view.bids.map(level), asks: view.asks.map(level) }] as const;
      }),
    ),
  );
  return { events, projection, books, lastSeqs: partitions.map((p) => p.lastSeq) };
}

/** What GetPositions answers for a projection: the RiskAdmin adapter's own rendering. */
function positionsOf(projection: OrderProjection): GetPositionsResponse["positions"] {
  return wirePositions({ projection, instruments: new Map() }, projection.positionAccounts().sort(), "");
}

/** Every event of the stream, by the partition of its subject, in stream order. */
async function storedEvents(nc: NatsConnection): Promise<EngineEvent[][]> {
  const info = await (await jetstreamManager(nc)).streams.info(eventStreamName(VENUE));
  const out: EngineEvent[][] = Array.from({ length: PARTITIONS }, () => []);
  const consumer = await retry(() =>
    jetstream(nc).consumers.get(eventStreamName(VENUE), { deliver_policy: DeliverPolicy.All }),
  );
  const messages = await consumer.consume({ max_messages: 4_096 });
  for await (const m of messages) {
    out[eventSubjectPartition(m.subject)!]!.push(...EngineEventBatch.decode(m.data).events);
    if (m.seq >= info.state.last_seq) break;
  }
  await messages.close();
  return out;
}

const encoded = (events: readonly EngineEvent[]) =>
  events.map((e) => Buffer.from(EngineEvent.encode(e).finish()).toString("hex"));

describe("a venue of four partitions with engines, gateway and market data restarted under load", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  const engines: EngineProcess[] = [];
  let gateway: ServiceProcess;
  let marketData: ServiceProcess;
  const entries = plan();
  const expected = reference(entries);

  const engineOf = (p: number) =>
    new EngineProcess({
      natsUrl: server.url,
      venue: VENUE,
      partition: p,
      instanceId: `engine-${p}`,
      instruments: instrumentsOf(p),
      env: { TP_LOG_LEVEL: "warn", TP_SNAPSHOT_EVERY_COMMANDS: "700" },
    });
  const gatewayProcess = () =>
    new ServiceProcess({
      main: RISK_MAIN,
      config: {
        venue: VENUE,
        instanceId: "gw",
        instruments: Array.from({ length: PARTITIONS }, (_, p) =>
          instrumentsOf(p).map((i) => ({ symbol: i.symbol, partition: p, referencePrice: i.referencePrice })),
        ).flat(),
      },
      env: {
        TP_NATS_URL: server.url,
        TP_ADMIN_TOKENS_RISK_OFFICER: ADMIN_TOKEN,
        TP_SNAPSHOT_INTERVAL_MS: "300",
        TP_LOG_LEVEL: "warn",
      },
    });
  const marketDataProcess = () =>
    new ServiceProcess({
      main: MARKET_DATA_MAIN,
      config: {
        venue: VENUE,
        instanceId: "md",
        instruments: Array.from({ length: PARTITIONS }, (_, p) =>
          instrumentsOf(p).map((i) => ({
            symbol: i.symbol,
            partition: p,
            referencePrice: i.referencePrice,
            priceBandPercent: i.bandPercent,
            maxQty: i.maxQty,
            tickBands: [{ fromPrice: 0, tickSize: 1 }],
          })),
        ).flat(),
      },
      env: {
        TP_NATS_URL: server.url,
        TP_WS_PORT: "0",
        TP_WS_HOST: "127.0.0.1",
        TP_SNAPSHOT_EVERY_EVENTS: "2000",
        TP_LOG_LEVEL: "warn",
      },
    });
  const restartMarketData = async (signal: NodeJS.Signals) => {
    await marketData.signal(signal);
    marketData = marketDataProcess();
    await marketData.start();
  };
  const restartEngine = async (p: number, signal: NodeJS.Signals) => {
    await engines[p]!.signal(signal);
    engines[p] = engineOf(p);
    await engines[p].start();
  };
  const restartGateway = async (signal: NodeJS.Signals) => {
    await gateway.signal(signal);
    gateway = gatewayProcess();
    await gateway.start();
  };

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connectTo(server.url);
    await provision(nc, venueProvisioningPlan({ venue: VENUE }));
    for (let p = 0; p < PARTITIONS; p++) {
      engines.push(engineOf(p));
      await engines[p]!.start();
    }
    gateway = gatewayProcess();
    await gateway.start();
    marketData = marketDataProcess();
    await marketData.start();
  }, 120_000);

  afterAll(async () => {
    await ServiceProcess.killAll();
    await nc?.close();
    await server?.dispose();
  });

  it("spreads the orders over every partition, interleaved in the log", () => {
    const perPartition = expected.events.map((e) => e.length);
    expect(perPartition.every((n) => n > 1_000)).toBe(true);
  });

  it("publishes each partition's events exactly once; the gateway applies each exactly once and market data builds the engines' books", async () => {
    const js = jetstream(nc);
    const third = Math.floor(ENTRIES / 3);
    await write(js, entries.slice(0, third));
    // While the second third comes in: two engines killed, one stopped, the gateway stopped.
    const second = write(js, entries.slice(third, 2 * third));
    await restartEngine(0, "SIGKILL");
    await restartGateway("SIGTERM");
    await restartMarketData("SIGKILL");
    await restartEngine(1, "SIGTERM");
    await restartEngine(2, "SIGKILL");
    await second;
    const last = write(js, entries.slice(2 * third));
    await restartEngine(3, "SIGKILL");
    await restartGateway("SIGKILL");
    await restartMarketData("SIGTERM");
    await last;

    for (let p = 0; p < PARTITIONS; p++) await engines[p]!.waitForPublished(expected.lastSeqs[p]!, 120_000);
    const streamEnd = (await (await jetstreamManager(nc)).streams.info(eventStreamName(VENUE))).state.last_seq;

    const stored = await storedEvents(nc);
    for (let p = 0; p < PARTITIONS; p++) expect(encoded(stored[p]!)).toEqual(encoded(expected.events[p]!));

    const admin = new RiskAdminClient(`127.0.0.1:${gateway.grpcPort}`, credentials.createInsecure());
    try {
      let answer: GetPositionsResponse;
      const deadline = Date.now() + 60_000;
      for (;;) {
        answer = await unary<GetPositionsResponse>((cb) =>
          admin.getPositions({ account: "", instrument: "" }, auth(ADMIN_TOKEN), cb),
        );
        if (answer.asOfSourceSequence >= streamEnd || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(answer.asOfSourceSequence).toBe(streamEnd);
      expect(answer.positions).toEqual(positionsOf(expected.projection));
    } finally {
      admin.close();
    }

    // Market data's books, built from the same events after its own restarts, equal the engines'.
    const md = new MarketDataClient(`127.0.0.1:${marketData.grpcPort}`, credentials.createInsecure());
    try {
      const snapshot = (instrument: string) =>
        unary<GetSnapshotResponse>((cb) => md.getSnapshot({ instrument, depth: DEPTH, includeOrders: false }, cb));
      const symbols = [...expected.books.keys()];
      expect([...expected.books.values()].every((b) => b.bids.length + b.asks.length > 0)).toBe(true);
      const deadline = Date.now() + 60_000;
      while ((await snapshot(symbols[0]!)).sourceSequence < streamEnd && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      for (const symbol of symbols) {
        const snap = await snapshot(symbol);
        expect(snap.sourceSequence, symbol).toBe(streamEnd);
        expect({ bids: snap.book!.bids, asks: snap.book!.asks }, symbol).toEqual(expected.books.get(symbol));
      }
    } finally {
      md.close();
    }
  }, 300_000);
});
