import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials } from "@grpc/grpc-js";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  BarInterval,
  MarketDataChannel,
  MarketDataClient,
  snapshotsBucket,
  type GetBarsResponse,
  type GetSnapshotResponse,
  type GetTradesResponse,
  type SubscribeResponse,
} from "@tradeplane/contracts";
import { openBlobStore, streamSnapshotName, type BlobStore } from "@tradeplane/platform";
import { NatsServer, retry, unary } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { appendAll, entriesOf, entrySeqs, venueFixture } from "@tradeplane/matching/test-support/venue-fixture";
import { main, type StartedMarketData } from "../../src/main.ts";
import type { MarketDataConfig } from "../../src/config.ts";
import { SNAPSHOT_PREFIX } from "../../src/adapters/state-snapshots.ts";
import { richInstrumentSettings, richStream } from "../support/rich-stream.ts";
import { ALL_CHANNELS, eventHeadOf, serviceConfig } from "../support/service-config.ts";

const VENUE = "mdsnap";
const SYMBOLS = richInstrumentSettings.map((i) => i.symbol);
const EVERY_EVENTS = 1_000;

let server: NatsServer;
let nc: NatsConnection;
let engine: EngineProcess;
let store: BlobStore;
/** The replica that replayed the whole log from its first event (and writes snapshots as it goes). */
let full: StartedMarketData;
let commandCount = 0;
let entryCount = 0;

const nameOf = (seq: number) => streamSnapshotName(SNAPSHOT_PREFIX, seq);

function config(overrides: Partial<MarketDataConfig> = {}): MarketDataConfig {
  return serviceConfig(server.url, VENUE, { snapshotsKept: 3, ...overrides });
}

const eventHead = (): Promise<number> => eventHeadOf(nc, VENUE);

/** Appends the next `count` commands of the rich stream and waits until the engine and every replica applied them. */
async function trade(count: number, seed: number, ...replicas: StartedMarketData[]): Promise<number> {
  const commands = richStream(count, seed, entrySeqs(entryCount + 1), 1_767_225_600_000 + commandCount * 37);
  commandCount += count;
  entryCount += entriesOf(commands).length;
  const { js } = await venueFixture(server.url, VENUE);
  await engine.waitForPublished(await appendAll(js, VENUE, commands));
  const head = await eventHead();
  for (const r of replicas) await caughtUp(r, head);
  return head;
}

async function caughtUp(replica: StartedMarketData, head: number): Promise<void> {
  await replica.follower.caughtUp;
  await retry(
    async () => {
      if (replica.state.position < head) throw new Error(`at ${replica.state.position} of ${head}`);
    },
    60_000,
    20,
  );
}

/** The value of a metric sample (first one whose labels contain `labels`). */
async function metric(replica: StartedMarketData, name: string, labels = ""): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${replica.opsPort}/metrics`)).text();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] === name && (m[2] ?? "").includes(labels)) return Number(m[3]);
  }
  return undefined;
}

async function storedSeqs(): Promise<number[]> {
  return (await store.list(SNAPSHOT_PREFIX)).map((n) => Number(n.slice(SNAPSHOT_PREFIX.length))).sort((a, b) => b - a);
}

/** Waits until `replica` has no snapshot due or being written, and the bucket holds the newest three. */
async function snapshotsSettled(replica: StartedMarketData): Promise<number[]> {
  return retry(async () => {
    const seqs = await storedSeqs();
    const last = replica.snapshots.lastSeq;
    if (replica.state.position - last >= EVERY_EVENTS || seqs[0] !== last || seqs.length !== 3)
      throw new Error(`snapshots ${seqs.join()} at ${replica.state.position}, last written ${last}`);
    return seqs;
  });
}

/** Every update a subscription gets until it has been quiet for a while (no events flow meanwhile). */
async function subscription(client: MarketDataClient, fromSequence: number | undefined): Promise<SubscribeResponse[]> {
  const call = client.subscribe({
    instruments: SYMBOLS,
    channels: ALL_CHANNELS,
    depth: 500,
    conflationIntervalMs: 0,
    barInterval: BarInterval.SECOND_1,
    fromSequence,
  });
  const got: SubscribeResponse[] = [];
  await new Promise<void>((resolve, reject) => {
    let quiet = setTimeout(resolve, 2_000);
    call.on("data", (u: SubscribeResponse) => {
      got.push(u);
      clearTimeout(quiet);
      quiet = setTimeout(resolve, 750);
    });
    // CANCELLED (1) is our own cancel after the quiet period.
    call.on("error", (err: Error & { code?: number }) => (err.code === 1 ? resolve() : reject(err)));
  });
  call.cancel();
  return got;
}

/** Everything a client can ask a replica: GetSnapshot with orders, GetTrades, GetBars, and the sequences of each channel. */
async function served(replica: StartedMarketData, resumeFrom: number) {
  const client = new MarketDataClient(`127.0.0.1:${replica.grpcPort}`, credentials.createInsecure());
  try {
    const perInstrument = [];
    for (const instrument of SYMBOLS) {
      const m = replica.state.instruments.get(instrument)!;
      perInstrument.push({
        snapshot: await unary<GetSnapshotResponse>((cb) =>
          client.getSnapshot({ instrument, depth: 500, includeOrders: true }, cb),
        ),
        trades: await unary<GetTradesResponse>((cb) =>
          client.getTrades({ instrument, fromTradeId: 1, limit: 1_000 }, cb),
        ),
        bars: await Promise.all(
          [BarInterval.SECOND_1, BarInterval.MINUTE_1, BarInterval.HOUR_1].map((interval) =>
            unary<GetBarsResponse>((cb) => client.getBars({ instrument, interval, limit: 0 }, cb)),
          ),
        ),
        sequences: Object.fromEntries(m.seq),
        barSequences: Object.fromEntries(m.barSeq),
      });
    }
    return {
      perInstrument,
      // A new subscriber's first updates: every channel's current state and sequence.
      fresh: await subscription(client, undefined),
      // A client resuming from an earlier position: the L3/TRADES/STATE updates after it, from the history.
      resumed: await subscription(client, resumeFrom),
    };
  } finally {
    client.close();
  }
}

describe("market-data state snapshots against the real engine and a real nats-server", () => {
  let head = 0;
  /** A position before every snapshot, for clients that resume across a replica's restart. */
  const resumeFrom = 700;

  beforeAll(async () => {
    server = await NatsServer.start();
    const venue = await venueFixture(server.url, VENUE);
    nc = venue.nc;
    store = await openBlobStore(nc, snapshotsBucket(VENUE));
    engine = new EngineProcess({
      natsUrl: server.url,
      venue: VENUE,
      instanceId: "engine",
      instruments: richInstrumentSettings,
      env: { TP_LOG_LEVEL: "warn" },
    });
    await engine.start();
    full = await main(config({ instanceId: "md-full", snapshotEveryEvents: EVERY_EVENTS, snapshotIntervalMs: 0 }));
    // Rounds of more than EVERY_EVENTS event messages each: each one calls for a snapshot at least
    // (one written while events arrive may take the place of a second in the same round).
    for (let round = 1; round <= 3; round++) {
      const before = head;
      head = await trade(4_000, 30 + round, full);
      expect(head - before).toBeGreaterThan(EVERY_EVENTS);
      await retry(async () => {
        if (full.snapshots.lastSeq === 0 || head - full.snapshots.lastSeq >= EVERY_EVENTS)
          throw new Error(`no snapshot of round ${round} yet`);
      });
    }
  });

  afterAll(async () => {
    await full?.shutdown.run();
    await EngineProcess.killAll();
    await nc?.close();
    await server?.dispose();
  });

  it("writes a snapshot every N events as md-<stream seq>, keeps the newest few, and reports size and duration", async () => {
    const seqs = await snapshotsSettled(full);
    expect(await metric(full, "tp_md_snapshots_written_total")).toBeGreaterThanOrEqual(3);
    for (const seq of seqs) expect(seq).toBeLessThanOrEqual(head);
    expect(seqs[0]! - seqs[1]!).toBeGreaterThanOrEqual(EVERY_EVENTS);
    expect(await metric(full, "tp_md_snapshot_seq")).toBe(seqs[0]);
    expect(await metric(full, "tp_md_snapshot_loaded_seq")).toBe(0);
    expect(await metric(full, "tp_md_snapshot_bytes")).toBeGreaterThan(1_000);
    expect(await metric(full, "tp_md_snapshot_duration_seconds_count", 'op="encode"')).toBeGreaterThanOrEqual(3);
    expect(await metric(full, "tp_md_snapshot_duration_seconds_count", 'op="write"')).toBeGreaterThanOrEqual(3);
    expect(await metric(full, "tp_md_snapshot_write_failures_total")).toBe(0);
  });

  it("a replica started after a snapshot loads it, replays only the rest, and serves what the full replay serves", async () => {
    // A few more events, fewer than EVERY_EVENTS: the newest snapshot is behind the stream's end.
    head = await trade(100, 40, full);
    const [newest] = await snapshotsSettled(full);
    expect(newest).toBeLessThan(head);
    const late = await main(config({ instanceId: "md-late" }));
    try {
      await caughtUp(late, head);
      expect(await metric(late, "tp_md_snapshot_loaded_seq")).toBe(newest);
      expect(await metric(late, "tp_md_events_applied_total")).toBe(head - newest!);
      expect(await metric(late, "tp_md_snapshot_load_failures_total")).toBe(0);
      expect(await metric(late, "tp_md_snapshot_duration_seconds_count", 'op="load"')).toBe(1);
      expect(late.state.mismatches).toBe(0);
      const want = await served(full, resumeFrom);
      const got = await served(late, resumeFrom);
      expect(got.perInstrument).toEqual(want.perInstrument);
      expect(got.fresh).toEqual(want.fresh);
      expect(got.resumed).toEqual(want.resumed);
      // The resume really replayed history from before the snapshot.
      expect(got.resumed.filter((u) => u.channel === MarketDataChannel.L3).length).toBeGreaterThan(100);
      expect(got.resumed.find((u) => u.channel === MarketDataChannel.TRADES)!.sourceSequence).toBeLessThan(newest!);
    } finally {
      await late.shutdown.run();
    }
    // Its shutdown wrote a snapshot at the stream's end; older ones beyond three were deleted.
    const after = await storedSeqs();
    expect(after[0]).toBe(head);
    expect(after.length).toBe(3);
  });

  it("passes over a corrupt snapshot and one past the stream's end for the newest that loads", async () => {
    const [newest, older] = await storedSeqs();
    expect(newest).toBe(head);
    // The newest, with one byte changed; a copy of a good one named past the end of the stream.
    const bytes = (await store.get(nameOf(newest!)))!;
    await store.put(nameOf(head + 1_000), bytes);
    const spoiled = bytes.slice();
    spoiled[Math.floor(spoiled.length / 2)]! ^= 0x01;
    await store.put(nameOf(newest!), spoiled);
    const replica = await main(config({ instanceId: "md-fallback" }));
    try {
      await caughtUp(replica, head);
      expect(await metric(replica, "tp_md_snapshot_load_failures_total")).toBe(2);
      expect(await metric(replica, "tp_md_snapshot_loaded_seq")).toBe(older);
      expect(await metric(replica, "tp_md_events_applied_total")).toBe(head - older!);
      expect((await served(replica, resumeFrom)).perInstrument).toEqual((await served(full, resumeFrom)).perInstrument);
    } finally {
      await replica.shutdown.run();
    }
    await store.delete(nameOf(head + 1_000));
  });

  it("replays the whole stream when no snapshot loads", async () => {
    const names = await store.list(SNAPSHOT_PREFIX);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) await store.put(name, new TextEncoder().encode("not a snapshot"));
    const replica = await main(config({ instanceId: "md-replay" }));
    try {
      await caughtUp(replica, head);
      expect(await metric(replica, "tp_md_snapshot_load_failures_total")).toBe(names.length);
      expect(await metric(replica, "tp_md_snapshot_loaded_seq")).toBe(0);
      expect(await metric(replica, "tp_md_events_applied_total")).toBe(head);
      expect((await served(replica, resumeFrom)).perInstrument).toEqual((await served(full, resumeFrom)).perInstrument);
    } finally {
      await replica.shutdown.run();
    }
  });
});
