import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, credentials, status } from "@grpc/grpc-js";
import type { NatsConnection } from "@nats-io/transport-node";
import WebSocket from "ws";
import {
  BarInterval,
  Command,
  InstrumentState,
  MarketDataChannel,
  MarketDataClient,
  Side,
  snapshotsBucket,
  type GetBarsResponse,
  type GetSnapshotResponse,
  type GetTradesResponse,
  type ListInstrumentsResponse,
  type SubscribeRequest,
  type SubscribeResponse,
} from "@tradeplane/contracts";
import { NatsServer, prng, retry, unary } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { appendAll, entriesOf, entrySeqs, venueFixture } from "@tradeplane/matching/test-support/venue-fixture";
import { Partition } from "@tradeplane/matching-core/partition";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { openBlobStore } from "@tradeplane/platform";
import { main, type StartedMarketData } from "../../src/main.ts";
import { SNAPSHOT_PREFIX } from "../../src/adapters/state-snapshots.ts";
import type { MarketDataConfig } from "../../src/config.ts";
import { BookMirror } from "@tradeplane/sdk/market-data/book-mirror";
import { ResilientSubscription, type UpdateStream } from "@tradeplane/sdk/market-data/resilient-subscription";
import { richInstrumentSettings, richStream } from "../support/rich-stream.ts";
import { ALL_CHANNELS, eventHeadOf, serviceConfig } from "../support/service-config.ts";

const VENUE = "md";
const SYMBOLS = richInstrumentSettings.map((i) => i.symbol);

function request(overrides: Partial<SubscribeRequest> = {}): SubscribeRequest {
  return {
    instruments: [...SYMBOLS],
    channels: ALL_CHANNELS,
    depth: 500,
    conflationIntervalMs: 0,
    barInterval: BarInterval.SECOND_1,
    fromSequence: undefined,
    ...overrides,
  };
}

function config(overrides: Partial<MarketDataConfig> = {}): MarketDataConfig {
  return serviceConfig(server.url, VENUE, overrides);
}

/** Every update of one subscription, mirrored per instrument. */
class Mirror {
  readonly books = new Map<string, BookMirror>(SYMBOLS.map((s) => [s, new BookMirror()]));
  readonly updates: SubscribeResponse[] = [];
  apply(u: SubscribeResponse): void {
    this.updates.push(u);
    this.books.get(u.instrument)!.apply(u);
  }
  lastSource(): number {
    return this.updates.reduce((m, u) => Math.max(m, u.sourceSequence), 0);
  }
}

let server: NatsServer;
let nc: NatsConnection;
let engine: EngineProcess;
let md: StartedMarketData;
let client: MarketDataClient;
let commands: Command[];
let lastEventSeq = 0;

const eventHead = (): Promise<number> => eventHeadOf(nc, VENUE);

/** Waits until the engine applied every command and `service` applied every event. */
async function settled(service: StartedMarketData, lastCommandSeq: number): Promise<void> {
  await engine.waitForPublished(lastCommandSeq);
  await retry(
    async () => {
      const head = await eventHead();
      if (service.state.position < head) throw new Error(`at ${service.state.position} of ${head}`);
      lastEventSeq = head;
    },
    60_000,
    50,
  );
}

/** The reference: the same commands on the engine's pure partition. */
function reference(cmds: readonly Command[]) {
  const p = Partition.create({ engine: engineConfigOf({ instruments: richInstrumentSettings }) });
  const seqOf = entrySeqs();
  cmds.forEach((c, i) => p.apply(seqOf(i), Command.decode(Command.encode(c).finish()), undefined, false));
  return SYMBOLS.map((symbol, index) => {
    const orders = p.engine.orders(index).filter((o) => !o.parked);
    const book = p.engine.book(index, 10_000);
    return {
      symbol,
      orderBook: {
        bids: orders
          .filter((o) => o.side === Side.BUY)
          .map((o) => ({ orderId: o.orderId, price: o.price, qty: o.shown })),
        asks: orders
          .filter((o) => o.side === Side.SELL)
          .map((o) => ({ orderId: o.orderId, price: o.price, qty: o.shown })),
      },
      levels: {
        bids: book.bids.map((l) => ({ price: l.price, qty: l.qty, orderCount: l.orders })),
        asks: book.asks.map((l) => ({ price: l.price, qty: l.qty, orderCount: l.orders })),
      },
    };
  });
}

function wsClient(port: number, msg: object): Promise<{ ws: WebSocket; received: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const received: Record<string, unknown>[] = [];
    ws.on("message", (data) => received.push(JSON.parse(data.toString()) as Record<string, unknown>));
    ws.on("open", () => {
      ws.send(JSON.stringify(msg));
      resolve({ ws, received });
    });
    ws.on("error", reject);
  });
}

describe("market data against the real engine and a real nats-server", () => {
  const streams: ResilientSubscription[] = [];
  const plain = new Mirror();
  const conflated = new Mirror();
  const gapped = new Mirror();
  let gapStream: ResilientSubscription;
  let gapDropped = 0;
  let ws: { ws: WebSocket; received: Record<string, unknown>[] };

  beforeAll(async () => {
    server = await NatsServer.start();
    const venue = await venueFixture(server.url, VENUE);
    nc = venue.nc;
    engine = new EngineProcess({
      natsUrl: server.url,
      venue: VENUE,
      instanceId: "engine",
      instruments: richInstrumentSettings,
      env: { TP_LOG_LEVEL: "warn" },
    });
    await engine.start();
    md = await main(config());
    await md.follower.caughtUp;
    client = new MarketDataClient(`127.0.0.1:${md.grpcPort}`, credentials.createInsecure());
    const open = (req: SubscribeRequest) => client.subscribe(req) as unknown as UpdateStream;
    // A plain subscriber, a conflating one, and one whose transport loses an L3 update.
    for (const [mirror, req] of [
      [plain, request()],
      [conflated, request({ conflationIntervalMs: 25 })],
    ] as const) {
      const s = new ResilientSubscription({ open, request: req, onUpdate: (u) => mirror.apply(u) });
      s.start();
      streams.push(s);
    }
    gapStream = new ResilientSubscription({
      open: (req) => {
        const call = client.subscribe(req);
        if (gapDropped > 0) return call as unknown as UpdateStream;
        // The first stream drops its 20th L3 update on the way to the helper.
        let l3 = 0;
        const listeners: ((u: SubscribeResponse) => void)[] = [];
        call.on("data", (u: SubscribeResponse) => {
          if (u.channel === MarketDataChannel.L3 && ++l3 === 20) {
            gapDropped++;
            return;
          }
          for (const l of listeners) l(u);
        });
        return {
          on: (event: string, listener: never) => {
            if (event === "data") listeners.push(listener);
            else call.on(event, listener);
          },
          cancel: () => call.cancel(),
        } as UpdateStream;
      },
      request: request({ channels: [MarketDataChannel.L3, MarketDataChannel.TRADES] }),
      onUpdate: (u) => gapped.apply(u),
    });
    gapStream.start();
    streams.push(gapStream);
    ws = await wsClient(md.wsPort, {
      type: "subscribe",
      id: "w1",
      instruments: SYMBOLS,
      channels: ["L2", "MARKET_DATA_CHANNEL_L3", "TRADES"],
      depth: 500,
    });
    // Let the subscriptions open before the flow starts.
    await retry(async () => {
      if (md.hub.subscriberCount < 4) throw new Error("subscribers not open yet");
    });
    commands = richStream(4_000, 11, entrySeqs());
    const last = await appendAll(venue.js, VENUE, commands);
    await settled(md, last);
    // The service has applied the last event; its updates are still on their way to this
    // test's subscribers (gRPC and WebSocket buffers, the conflation tick), which took more
    // than a fixed 200 ms on a loaded machine. Wait until every subscriber shows the final
    // books; the tests then compare everything they received.
    await retry(
      async () => {
        for (const symbol of SYMBOLS) {
          const snap = await unary<GetSnapshotResponse>((cb) =>
            client.getSnapshot({ instrument: symbol, depth: 500, includeOrders: true }, cb),
          );
          const levels = { bids: snap.book!.bids, asks: snap.book!.asks };
          for (const [name, m] of [
            ["plain", plain],
            ["conflated", conflated],
          ] as const)
            if (!isDeepStrictEqual(m.books.get(symbol)!.levels(), levels)) throw new Error(`${name} ${symbol} behind`);
          if (!isDeepStrictEqual(gapped.books.get(symbol)!.orderBook(), snap.orderBook))
            throw new Error(`gapped ${symbol} behind`);
        }
        const wsLast = ws.received.at(-1) as { sourceSequence?: number } | undefined;
        if ((wsLast?.sourceSequence ?? 0) < plain.lastSource()) throw new Error("websocket behind");
      },
      60_000,
      100,
    );
  });

  afterAll(async () => {
    for (const s of streams) s.stop();
    ws?.ws.close();
    client?.close();
    await md?.shutdown.run();
    await EngineProcess.killAll();
    await nc?.close();
    await server?.dispose();
  });

  it("serves the engine's own book: GetSnapshot levels and orders equal the pure partition's after the stream", async () => {
    expect(md.state.mismatches).toBe(0);
    for (const ref of reference(commands)) {
      const snap = await unary<GetSnapshotResponse>((cb) =>
        client.getSnapshot({ instrument: ref.symbol, depth: 500, includeOrders: true }, cb),
      );
      expect(snap.sourceSequence).toBe(lastEventSeq);
      expect({ bids: snap.book!.bids, asks: snap.book!.asks }).toEqual({
        bids: ref.levels.bids.slice(0, 500),
        asks: ref.levels.asks.slice(0, 500),
      });
      expect(snap.orderBook).toEqual(ref.orderBook);
    }
    // Snapshot requests are traced.
    const spans = md.telemetry.memory!.getFinishedSpans().filter((s) => s.name === "market-data.GetSnapshot");
    expect(spans.map((s) => s.attributes.instrument)).toEqual(expect.arrayContaining(SYMBOLS));
  });

  it("a conflating client's final state equals a non-conflating client's, and both equal the snapshot", async () => {
    for (const symbol of SYMBOLS) {
      const snap = await unary<GetSnapshotResponse>((cb) =>
        client.getSnapshot({ instrument: symbol, depth: 500, includeOrders: true }, cb),
      );
      const p = plain.books.get(symbol)!;
      const c = conflated.books.get(symbol)!;
      expect(p.levels()).toEqual({ bids: snap.book!.bids, asks: snap.book!.asks });
      expect(c.levels()).toEqual(p.levels());
      expect(p.orderBook()).toEqual(snap.orderBook);
      expect(c.orderBook()).toEqual(p.orderBook());
      for (const kind of ["topOfBook", "stats", "status"])
        expect(c.latest.get(kind)?.update, `${symbol} ${kind}`).toEqual(p.latest.get(kind)?.update);
      expect(p.latest.get("stats")?.update).toEqual({ $case: "stats", value: snap.stats });
    }
    // The conflating client got no more L2 updates than the plain one.
    const l2 = (m: Mirror) => m.updates.filter((u) => u.channel === MarketDataChannel.L2).length;
    expect(l2(conflated)).toBeLessThanOrEqual(l2(plain));
  });

  it("L3, TRADES and STATE sequences have no gaps, from 1 per instrument and channel", () => {
    for (const symbol of SYMBOLS)
      for (const channel of [MarketDataChannel.L3, MarketDataChannel.TRADES, MarketDataChannel.STATE]) {
        const seqs = plain.updates
          .filter((u) => u.instrument === symbol && u.channel === channel)
          .map((u) => u.sequence);
        expect(seqs.length).toBeGreaterThan(1);
        // The first is the snapshot (current sequence when subscribing), then +1 each.
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
      }
    expect(streams[0]!.gaps + streams[0]!.resubscribes).toBe(0);
    // source_sequence only grows along one subscription's event channels.
    const sources = plain.updates
      .filter((u) => u.channel === MarketDataChannel.L3 || u.channel === MarketDataChannel.TRADES)
      .map((u) => u.sourceSequence);
    for (let i = 1; i < sources.length; i++) expect(sources[i]).toBeGreaterThanOrEqual(sources[i - 1]!);
  });

  it("a gap forced in transit is detected, and the helper recovers by resuming from the last source sequence", async () => {
    expect(gapDropped).toBe(1);
    expect(gapStream.gaps).toBe(1);
    expect(gapStream.resubscribes).toBe(1);
    // The resume replayed from history: one L3 snapshot per instrument in total (the first stream's).
    const snapshots = gapped.updates.filter((u) => u.update?.$case === "orderBookSnapshot").length;
    expect(snapshots).toBe(SYMBOLS.length);
    for (const symbol of SYMBOLS)
      expect(gapped.books.get(symbol)!.orderBook()).toEqual(plain.books.get(symbol)!.orderBook());
    const trades = (m: Mirror) =>
      m.updates.filter((u) => u.channel === MarketDataChannel.TRADES).map((u) => u.sequence);
    expect(trades(gapped)).toEqual(trades(plain));
  });

  it("the WebSocket feed carries the same books and sequences as JSON", async () => {
    const updates = ws.received.filter((m) => m.type === "update");
    expect(ws.received[0]).toEqual({ type: "subscribed", id: "w1" });
    const seqs = updates
      .filter((m) => m.instrument === "INFY" && m.channel === "MARKET_DATA_CHANNEL_TRADES")
      .map((m) => m.sequence);
    const grpcSeqs = plain.updates
      .filter((u) => u.instrument === "INFY" && u.channel === MarketDataChannel.TRADES)
      .map((u) => u.sequence);
    expect(seqs).toEqual(grpcSeqs);
    // Mirror the JSON L2 stream and compare with the gRPC one.
    const levels = new Map<string, { price: number; qty: number; orderCount: number }>();
    for (const m of updates) {
      if (m.instrument !== "INFY") continue;
      const snap = m.bookSnapshot as { bids?: { price: number }[]; asks?: { price: number }[] } | undefined;
      if (snap !== undefined) {
        levels.clear();
        for (const l of snap.bids ?? []) levels.set(`B${l.price}`, l as never);
        for (const l of snap.asks ?? []) levels.set(`S${l.price}`, l as never);
      }
      const upd = m.bookUpdate as
        { changes?: { side: string; price: number; qty?: number; orderCount?: number }[] } | undefined;
      for (const c of upd?.changes ?? []) {
        const key = `${c.side === "SIDE_BUY" ? "B" : "S"}${c.price}`;
        if (!c.qty) levels.delete(key);
        else levels.set(key, { price: c.price, qty: c.qty, orderCount: c.orderCount ?? 0 });
      }
    }
    const grpc = plain.books.get("INFY")!.levels();
    expect(
      [...levels.entries()]
        .filter(([k]) => k.startsWith("B"))
        .map(([, l]) => l)
        .sort((a, b) => b.price - a.price),
    ).toEqual(grpc.bids);
    expect(
      [...levels.entries()]
        .filter(([k]) => k.startsWith("S"))
        .map(([, l]) => l)
        .sort((a, b) => a.price - b.price),
    ).toEqual(grpc.asks);
  });

  it("bad WebSocket messages get an error and the connection keeps serving", async () => {
    const c = await wsClient(md.wsPort, { type: "subscribe", instruments: ["NOPE"], channels: ["L1"] });
    c.ws.send("{not json");
    c.ws.send(JSON.stringify({ type: "subscribe", id: 2, instruments: ["INFY"], channels: ["L1"] }));
    await retry(async () => {
      if (!c.received.some((m) => m.type === "update")) throw new Error("no update yet");
    });
    const errors = c.received.filter((m) => m.type === "error");
    expect(errors.map((e) => e.code)).toEqual(["INVALID_ARGUMENT", "INVALID_ARGUMENT"]);
    expect(String(errors[0]!.message)).toContain("unknown instrument");
    expect(c.received.find((m) => m.type === "update")).toMatchObject({
      id: 2,
      instrument: "INFY",
      channel: "MARKET_DATA_CHANNEL_L1",
    });
    c.ws.close();
  });

  it.each([
    { name: "an unknown symbol", req: request({ instruments: ["NOPE"] }), text: "unknown instrument" },
    { name: "no channels", req: request({ channels: [] }), text: "channels" },
    { name: "depth out of range", req: request({ depth: 501 }), text: "depth" },
    { name: "an unknown channel", req: request({ channels: [42 as MarketDataChannel] }), text: "channel" },
  ])("Subscribe with $name fails with INVALID_ARGUMENT", async ({ req, text }) => {
    const err = await new Promise<{ code: number; details: string }>((resolve) => {
      const call = client.subscribe(req);
      call.on("data", () => undefined);
      call.on("error", (e: { code: number; details: string }) => resolve(e));
    });
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain(text);
  });

  it("garbage bytes get INVALID_ARGUMENT on every method, and the service keeps serving", async () => {
    const raw = new Client(`127.0.0.1:${md.grpcPort}`, credentials.createInsecure());
    const rnd = prng(5);
    const codes = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const bytes = Buffer.from([
        0xff,
        0xff,
        0xff,
        ...Array.from({ length: 8 + Math.floor(rnd() * 32) }, () => Math.floor(rnd() * 256)),
      ]);
      const method = ["Subscribe", "GetSnapshot", "GetTrades", "GetBars"][i % 4]!;
      codes.add(
        await new Promise<number>((resolve) => {
          if (method === "Subscribe") {
            const call = raw.makeServerStreamRequest(
              `/tradeplane.v1.MarketData/${method}`,
              (b: Buffer) => b,
              (b: Buffer) => b,
              bytes,
            );
            call.on("data", () => undefined);
            call.on("error", (e: { code: number }) => resolve(e.code));
            call.on("end", () => resolve(status.OK));
          } else
            raw.makeUnaryRequest(
              `/tradeplane.v1.MarketData/${method}`,
              (b: Buffer) => b,
              (b: Buffer) => b,
              bytes,
              (err) => resolve(err === null ? status.OK : (err as { code: number }).code),
            );
        }),
      );
    }
    raw.close();
    expect([...codes]).toEqual([status.INVALID_ARGUMENT]);
    const res = await unary<ListInstrumentsResponse>((cb) => client.listInstruments({}, cb));
    expect(res.instruments.map((i) => i.symbol)).toEqual(["INFY", "TCS"]);
  });

  it.each([
    {
      name: "GetSnapshot of an unknown symbol",
      call: (cb: never) => client.getSnapshot({ instrument: "NOPE", depth: 0, includeOrders: false }, cb),
    },
    {
      name: "GetSnapshot deeper than 500",
      call: (cb: never) => client.getSnapshot({ instrument: "INFY", depth: 501, includeOrders: false }, cb),
    },
    {
      name: "GetTrades over 1000",
      call: (cb: never) => client.getTrades({ instrument: "INFY", fromTradeId: 0, limit: 1001 }, cb),
    },
    {
      name: "GetBars without an interval",
      call: (cb: never) => client.getBars({ instrument: "INFY", interval: BarInterval.UNSPECIFIED, limit: 0 }, cb),
    },
  ])("$name fails with INVALID_ARGUMENT", async ({ call }) => {
    await expect(unary((cb) => call(cb as never))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it("GetTrades, GetBars and ListInstruments answer from the same state", async () => {
    const trades = await unary<GetTradesResponse>((cb) =>
      client.getTrades({ instrument: "INFY", fromTradeId: 0, limit: 5 }, cb),
    );
    const grpcTrades = plain.updates
      .filter((u) => u.instrument === "INFY" && u.update?.$case === "trade")
      .map((u) => u.update!.value);
    expect(trades.trades).toEqual(grpcTrades.slice(-5));
    const from = await unary<GetTradesResponse>((cb) =>
      client.getTrades({ instrument: "INFY", fromTradeId: 3, limit: 2 }, cb),
    );
    expect(from.trades.map((t) => t.tradeId)).toEqual([3, 4]);
    const bars = await unary<GetBarsResponse>((cb) =>
      client.getBars({ instrument: "INFY", interval: BarInterval.SECOND_1, limit: 0 }, cb),
    );
    expect(bars.bars.length).toBeGreaterThan(10);
    const volume = bars.bars.reduce((s, b) => s + b.volume, 0);
    const snap = await unary<GetSnapshotResponse>((cb) =>
      client.getSnapshot({ instrument: "INFY", depth: 1, includeOrders: false }, cb),
    );
    // Every trade is in a 1 s bar (none aged out at this length) and in the session's volume since the last open.
    expect(volume).toBe(grpcTrades.reduce((s, t) => s + (t as { qty: number }).qty, 0));
    expect(snap.stats!.volume).toBeLessThanOrEqual(volume);
    for (const b of bars.bars.slice(0, -1)) expect(b.closed).toBe(true);
    const list = await unary<ListInstrumentsResponse>((cb) => client.listInstruments({}, cb));
    expect(list.instruments[0]).toMatchObject({
      symbol: "INFY",
      tickSize: { mantissa: 1, exponent: -2 },
      referencePrice: 100_000,
      priceBandBps: 1_000,
    });
    expect(Object.values(InstrumentState)).toContain(list.instruments[0]!.state);
  });

  it("a slow consumer is cut off with RESOURCE_EXHAUSTED while another subscriber gets every update", async () => {
    const slowMd = await main(config({ instanceId: "md-slow", maxQueuedUpdates: 1_000, batchEvents: 256 }));
    const child = spawn(
      process.execPath,
      [
        "--disable-warning=ExperimentalWarning",
        fileURLToPath(new URL("../support/slow-subscriber.ts", import.meta.url)),
        String(slowMd.grpcPort),
        ...SYMBOLS,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await slowMd.follower.caughtUp;
      const c = new MarketDataClient(`127.0.0.1:${slowMd.grpcPort}`, credentials.createInsecure());
      const fast = new Mirror();
      const s = new ResilientSubscription({
        open: (req) => c.subscribe(req) as unknown as UpdateStream,
        request: request({ channels: [MarketDataChannel.L3, MarketDataChannel.TRADES] }),
        onUpdate: (u) => fast.apply(u),
      });
      s.start();
      await retry(async () => {
        if (!output.includes("open") || slowMd.hub.subscriberCount < 2) throw new Error("not subscribed");
      });
      // The slow subscriber's process stops reading altogether.
      child.kill("SIGSTOP");
      const more = richStream(8_000, 12, entrySeqs(entriesOf(commands).length + 1), 1_767_226_000_000);
      const { js } = await venueFixture(server.url, VENUE);
      const last = await appendAll(js, VENUE, more);
      commands.push(...more);
      await settled(slowMd, last);
      await retry(async () => {
        if (slowMd.hub.slowDisconnects < 1) throw new Error("not cut off yet");
      });
      child.kill("SIGCONT");
      const status_ = await retry(async () => {
        const line = output.split("\n").find((l) => l.startsWith("{"));
        if (line === undefined) throw new Error("no status yet");
        return JSON.parse(line) as { code: number; details: string };
      });
      expect(status_.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(status_.details).toContain("too slowly");
      expect(slowMd.hub.slowDisconnects).toBe(1);
      // The other subscriber was not affected: no gap, no cut-off, and the whole book.
      const snap = await unary<GetSnapshotResponse>((cb) =>
        c.getSnapshot({ instrument: "TCS", depth: 1, includeOrders: true }, cb),
      );
      await retry(async () => {
        expect(fast.books.get("TCS")!.orderBook()).toEqual(snap.orderBook);
      });
      expect(s.gaps + s.resubscribes).toBe(0);
      s.stop();
      c.close();
    } finally {
      child.kill("SIGKILL");
      await slowMd.shutdown.run();
    }
  });

  it("a replica started late catches up from the log alone and serves the same snapshot; metrics are exposed", async () => {
    // The log alone: no state snapshot (the replicas above wrote theirs at shutdown).
    const store = await openBlobStore(nc, snapshotsBucket(VENUE));
    for (const name of await store.list(SNAPSHOT_PREFIX)) await store.delete(name);
    const late = await main(config({ instanceId: "md-late" }));
    try {
      await late.follower.caughtUp;
      const head = await eventHead();
      await retry(async () => {
        if (late.state.position < head) throw new Error("behind");
      });
      const c = new MarketDataClient(`127.0.0.1:${late.grpcPort}`, credentials.createInsecure());
      for (const symbol of SYMBOLS) {
        const a = await unary<GetSnapshotResponse>((cb) =>
          client.getSnapshot({ instrument: symbol, depth: 50, includeOrders: true }, cb),
        );
        const b = await unary<GetSnapshotResponse>((cb) =>
          c.getSnapshot({ instrument: symbol, depth: 50, includeOrders: true }, cb),
        );
        expect(b).toEqual(a);
      }
      c.close();
      const metrics = await (await fetch(`http://127.0.0.1:${md.opsPort}/metrics`)).text();
      for (const name of [
        "tp_md_subscribers",
        "tp_md_updates_sent_total",
        "tp_md_queue_depth",
        "tp_md_conflations_total",
        "tp_md_slow_consumer_disconnects_total",
        "tp_md_event_to_send_seconds_bucket",
      ])
        expect(metrics).toContain(name);
      expect(metrics).toMatch(/^tp_md_book_mismatches\{[^}]*\} 0$/m);
      const lateMetrics = await (await fetch(`http://127.0.0.1:${late.opsPort}/metrics`)).text();
      expect(lateMetrics).toMatch(/^tp_md_snapshot_loaded_seq\{[^}]*\} 0$/m);
      expect((await fetch(`http://127.0.0.1:${late.opsPort}/readyz`)).status).toBe(200);
    } finally {
      await late.shutdown.run();
    }
  });
});
