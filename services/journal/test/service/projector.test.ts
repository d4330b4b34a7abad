import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EngineEvent,
  EngineEventBatch,
  eventStreamName,
  eventSubject,
  type EngineEvent as Event,
} from "@tradeplane/contracts";
import { createLogger } from "@tradeplane/platform";
import { connectTo, NatsServer, PostgresServer, retry } from "@tradeplane/testkit";
import { EventProjector } from "../../src/adapters/event-projector.ts";
import { migrate, readMigrations } from "../../src/adapters/migrations.ts";
import { openPgStore } from "../../src/adapters/pg-store.ts";
import { openPgliteStore } from "../../src/adapters/pglite-store.ts";
import type { SqlExecutor, SqlStore } from "../../src/adapters/sql-store.ts";
import { readPosition } from "../../src/adapters/journal-writer.ts";
import { recompute } from "./recompute.ts";
import { lastStreamSeq, publishVenueEvents } from "./venue-events.ts";

/**
 * The projector against a real nats-server and both stores the journal runs on: a real
 * PostgreSQL server and embedded PGlite. The events come from the real pure matching core.
 */

const logger = createLogger({ service: "journal-test", level: "silent" });
const PROJECTOR = "journal";

let nats: NatsServer;
let nc: NatsConnection;
let postgres: PostgresServer;
let databases = 0;

beforeAll(async () => {
  [nats, postgres] = await Promise.all([NatsServer.start(), PostgresServer.start({ durable: false })]);
  nc = await connectTo(nats.url);
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await Promise.all([nats?.dispose(), postgres?.dispose()]);
});

/** A fresh, migrated database of each kind. */
const stores: [string, () => Promise<SqlStore>][] = [
  [
    "PostgreSQL",
    async () => {
      const name = `journal_${++databases}`;
      const admin = new pg.Client({ connectionString: postgres.url() });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      return openPgStore(postgres.url(name));
    },
  ],
  ["PGlite", () => openPgliteStore(undefined)],
];

async function migrated(open: () => Promise<SqlStore>): Promise<SqlStore> {
  const store = await open();
  await migrate(store, await readMigrations());
  return store;
}

function projector(
  store: SqlStore,
  venue: string,
  extra: Partial<ConstructorParameters<typeof EventProjector>[0]> = {},
) {
  return new EventProjector({ js: jetstream(nc), venue, store, logger, name: PROJECTOR, batchMessages: 64, ...extra });
}

async function waitForPosition(store: SqlStore, seq: number): Promise<void> {
  await retry(
    async () => {
      const at = await readPosition(store, PROJECTOR);
      if (at < seq) throw new Error(`projector at ${at}, stream at ${seq}`);
    },
    60_000,
    50,
  );
}

/** The tables, in the shape recompute() gives. */
async function tables(db: SqlExecutor) {
  const trades = await db.query<{
    c: number;
    i: number;
    instrument: string;
    price: number;
    qty: number;
    m: number;
    t: number;
  }>("SELECT command_seq c, idx i, instrument, price, qty, maker_order_id m, taker_order_id t FROM trades");
  const positions = await db.query<{
    account: string;
    instrument: string;
    net_qty: number;
    bought_qty: number;
    sold_qty: number;
    bought_value: number;
    sold_value: number;
  }>("SELECT * FROM positions ORDER BY account, instrument");
  const orders = await db.query<{
    order_id: number;
    status: string;
    leaves_qty: number;
    price: number;
    qty: number;
    account: string;
  }>("SELECT order_id, status, leaves_qty, price, qty, account FROM orders ORDER BY order_id");
  const [{ n: orderEvents }] = (await db.query<{ n: number }>("SELECT count(*)::int8 n FROM order_events")) as [
    { n: number },
  ];
  const [{ n: executions }] = (await db.query<{ n: number }>("SELECT count(*)::int8 n FROM executions")) as [
    { n: number },
  ];
  return {
    trades: trades.map((t) => `${t.c}/${t.i} ${t.instrument} ${t.price}x${t.qty} ${t.m}<-${t.t}`).sort(),
    orderEvents,
    executions,
    positions: positions
      .map((p) => ({
        key: `${p.account}/${p.instrument}`,
        net: p.net_qty,
        bought: p.bought_qty,
        sold: p.sold_qty,
        boughtValue: p.bought_value,
        soldValue: p.sold_value,
      }))
      .sort((a, b) => (a.key < b.key ? -1 : 1)),
    orders: orders.map((o) => ({
      id: o.order_id,
      status: o.status,
      leaves: o.leaves_qty,
      price: o.price,
      qty: o.qty,
      account: o.account,
    })),
  };
}

function expectProjectionOf(actual: Awaited<ReturnType<typeof tables>>, events: readonly Event[]): void {
  const expected = recompute(events);
  expect(actual.trades).toEqual(expected.trades);
  expect(actual.executions).toBe(expected.trades.length * 2);
  expect(actual.orderEvents).toBe(expected.orderEvents);
  expect(actual.positions).toEqual(expected.positions);
  expect(actual.orders).toEqual(expected.orders);
}

let venues = 0;
const nextVenue = () => `jv${++venues}`;

describe.each(stores)("the projector on %s", (_kind, open) => {
  it("projects interleaved partitions into tables equal to a recomputation from the events", async () => {
    const venue = nextVenue();
    const events = await publishVenueEvents(nc, venue, { entries: 600, partitions: 3, seed: 7 });
    expect(events.some((e) => e.body?.$case === "trade")).toBe(true);
    const store = await migrated(open);
    const p = projector(store, venue);
    await p.start();
    await waitForPosition(store, await lastStreamSeq(nc, eventStreamName(venue)));
    await p.stop();
    expectProjectionOf(await tables(store), events);
    expect(await store.query("SELECT * FROM dead_letters")).toEqual([]);
    await store.close();
  }, 120_000);

  it("resumes after dying between its writes and its commit, and again after a restart, with no duplicates and no gaps", async () => {
    const venue = nextVenue();
    const events = await publishVenueEvents(nc, venue, { entries: 600, partitions: 2, seed: 11 });
    const last = await lastStreamSeq(nc, eventStreamName(venue));
    const store = await migrated(open);
    let batches = 0;
    let crashes = 0;
    let restarted: EventProjector | undefined;
    // Every third batch dies after its rows are written and before the commit, once.
    const first = projector(store, venue, {
      batchMessages: 16,
      beforeCommit: async () => {
        if (++batches % 3 === 0 && crashes < 5) {
          crashes++;
          throw new Error("crash between the writes and the commit");
        }
      },
    });
    await first.start();
    await waitForPosition(store, Math.floor(last / 2));
    await first.stop();
    expect(crashes).toBeGreaterThan(0);
    expect(first.failures).toBe(crashes);
    // A new process: it knows only what the database holds.
    restarted = projector(store, venue, { batchMessages: 16 });
    await restarted.start();
    await waitForPosition(store, last);
    await restarted.stop();
    const once = await tables(store);
    expectProjectionOf(once, events);

    // A replay of the whole stream (the position reset) writes nothing twice.
    await store.query("UPDATE projector_position SET stream_seq = 0");
    restarted = projector(store, venue, { batchMessages: 50 });
    await restarted.start();
    await waitForPosition(store, last);
    await restarted.stop();
    expect(await tables(store)).toEqual(once);
    await store.close();
  }, 120_000);

  it("puts malformed messages and events in dead_letters with the reason and goes on", async () => {
    const venue = nextVenue();
    const events = await publishVenueEvents(nc, venue, { entries: 40, partitions: 1, seed: 3 });
    const js = jetstream(nc);
    const good = events.find((e) => e.body?.$case === "accepted")!;
    const bad: [string, Uint8Array][] = [
      [eventSubject(venue, 0, "INFY0"), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])],
      [eventSubject(venue, 0, "INFY0"), EngineEventBatch.encode({ events: [] }).finish()],
      [
        eventSubject(venue, 0, "INFY0"),
        EngineEventBatch.encode({ events: [{ ...good, commandSeq: 999_999, body: undefined }] }).finish(),
      ],
      [
        eventSubject(venue, 0, "INFY0"),
        EngineEventBatch.encode({
          events: [
            EngineEvent.fromPartial({ ...good, commandSeq: 999_998, index: 0 }),
            { ...good, commandSeq: 0, index: 1 },
          ],
        }).finish(),
      ],
    ];
    for (const [subject, data] of bad) await js.publish(subject, data);
    // A good message after the bad ones.
    const later = EngineEvent.fromPartial({ ...good, commandSeq: 999_997, index: 0 });
    await js.publish(eventSubject(venue, 0, "INFY0"), EngineEventBatch.encode({ events: [later] }).finish());
    const store = await migrated(open);
    const p = projector(store, venue);
    await p.start();
    await waitForPosition(store, await lastStreamSeq(nc, eventStreamName(venue)));
    await p.stop();
    const letters = await store.query<{ position: number; reason: string; detail: string; data: Uint8Array | null }>(
      "SELECT position, reason, detail, data FROM dead_letters ORDER BY stream_seq, position",
    );
    expect(letters.map((l) => [l.position, l.reason])).toEqual([
      [-1, "UNDECODABLE"],
      [-1, "UNDECODABLE"],
      [0, "MISSING_BODY"],
      [1, "BAD_KEY"],
    ]);
    expect(letters[1]!.detail).toMatch(/holds no events/);
    expect([...letters[0]!.data!]).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    // The good event of the last bad message was journaled beside its bad sibling.
    expect(await store.query("SELECT order_id FROM order_events WHERE command_seq = 999998")).toHaveLength(1);
    expect(await store.query("SELECT order_id FROM order_events WHERE command_seq = 999997")).toHaveLength(1);
    await store.close();
  }, 120_000);
});

it("an embedded PGlite in a folder keeps its rows and position when the journal stops and starts again", async () => {
  const venue = nextVenue();
  const events = await publishVenueEvents(nc, venue, { entries: 300, partitions: 2, seed: 17 });
  const last = await lastStreamSeq(nc, eventStreamName(venue));
  const dir = await mkdtemp(join(tmpdir(), "journal-pglite-"));
  let store = await migrated(() => openPgliteStore(dir));
  let p = projector(store, venue, { batchMessages: 8 });
  await p.start();
  await waitForPosition(store, Math.floor(last / 2));
  await p.stop();
  await store.close();
  store = await migrated(() => openPgliteStore(dir));
  expect(await readPosition(store, PROJECTOR)).toBeGreaterThanOrEqual(Math.floor(last / 2));
  p = projector(store, venue);
  await p.start();
  await waitForPosition(store, last);
  await p.stop();
  expectProjectionOf(await tables(store), events);
  await store.close();
  await rm(dir, { recursive: true, force: true });
}, 120_000);
