import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandSeqOf, type EngineEvent } from "@tradeplane/contracts";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { eventRuns } from "@tradeplane/matching-core/event-runs";
import { Partition } from "@tradeplane/matching-core/partition";
import { commandStream, prng, testInstrumentSettings } from "@tradeplane/testkit";
import { projectBatch, type StreamMessage } from "../../src/domain/projection.ts";
import { arrayLiteral, PositionMovedError, readPosition, writeBatch } from "../../src/adapters/journal-writer.ts";
import { migrate, readMigrations } from "../../src/adapters/migrations.ts";
import { openPgliteStore } from "../../src/adapters/pglite-store.ts";
import type { SqlStore } from "../../src/adapters/sql-store.ts";
import { recompute } from "../service/recompute.ts";

/**
 * A publish retried during a NATS failure may store a few of a partition's events out of
 * order, and a resend may store one twice: written one message per transaction in such an
 * order, the tables still equal a recomputation in command order.
 */

let store: SqlStore;
const events: EngineEvent[] = [];
const messages: StreamMessage[] = [];

beforeAll(async () => {
  store = await openPgliteStore(undefined);
  await migrate(store, await readMigrations());
  const core = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
  commandStream(600, 13, (i) => commandSeqOf(i + 1, 0)).forEach((command, i) => {
    core.apply(commandSeqOf(i + 1, 0), command);
    for (const run of eventRuns(core.wireEvents())) {
      events.push(...run.events);
      messages.push({ seq: messages.length + 1, subject: `tp.w.evt.0.${run.instrument}`, events: run.events });
    }
  });
});

afterAll(() => store?.close());

describe("writeBatch", () => {
  it("gives the same tables when a few messages arrive late and some twice", async () => {
    const rnd = prng(5);
    const arrived = [...messages];
    // Each message may swap with one up to 3 places later; one in 10 is stored again later.
    for (let i = 0; i < arrived.length - 3; i++) {
      const j = i + Math.floor(rnd() * 4);
      [arrived[i], arrived[j]] = [arrived[j]!, arrived[i]!];
    }
    for (let i = 0; i < arrived.length; i += 10) arrived.splice(i + 5, 0, arrived[i]!);
    let seq = 0;
    for (const m of arrived)
      await store.transaction((tx) => writeBatch(tx, projectBatch([{ ...m, seq: ++seq }]), "journal"));
    const expected = recompute(events);
    const orders = await store.query<{
      order_id: number;
      status: string;
      leaves_qty: number;
      price: number;
      qty: number;
      account: string;
    }>("SELECT order_id, status, leaves_qty, price, qty, account FROM orders ORDER BY order_id");
    expect(
      orders.map((o) => ({
        id: o.order_id,
        status: o.status,
        leaves: o.leaves_qty,
        price: o.price,
        qty: o.qty,
        account: o.account,
      })),
    ).toEqual(expected.orders);
    const positions = await store.query<{
      account: string;
      instrument: string;
      net_qty: number;
      bought_qty: number;
      sold_qty: number;
      bought_value: number;
      sold_value: number;
    }>("SELECT * FROM positions");
    expect(
      positions
        .map((p) => ({
          key: `${p.account}/${p.instrument}`,
          net: p.net_qty,
          bought: p.bought_qty,
          sold: p.sold_qty,
          boughtValue: p.bought_value,
          soldValue: p.sold_value,
        }))
        .sort((a, b) => (a.key < b.key ? -1 : 1)),
    ).toEqual(expected.positions);
    const [{ n }] = (await store.query<{ n: number }>("SELECT count(*)::int8 n FROM order_events")) as [{ n: number }];
    expect(n).toBe(expected.orderEvents);
  });
});

describe("arrayLiteral", () => {
  const hostile = [
    'a "quoted" word',
    "back\\slash\\",
    "NULL",
    "",
    "{braces},commas",
    "  spaces  ",
    "naïve ✓ 字",
    '\\"',
  ];
  it("reads back as the same text array, whatever the strings hold", async () => {
    const [row] = await store.query<{ a: string[] }>("SELECT $1::text[] a", [arrayLiteral(hostile)]);
    expect(row!.a).toEqual(hostile);
  });

  it("writes numbers as numbers and undefined and null as NULL", async () => {
    const [row] = await store.query<{ a: (number | null)[] }>("SELECT $1::int8[] a", [
      arrayLiteral([1, -2, undefined, 9_007_199_254_740_991, null, 0]),
    ]);
    expect(row!.a).toEqual([1, -2, null, 9_007_199_254_740_991, null, 0]);
  });

  it("an event's detail holding quotes and backslashes is stored as written, each with its own row", async () => {
    const batch = projectBatch(messages.slice(0, 40));
    const detail = (id: number, text: string) => JSON.stringify({ accepted: { orderId: id, clientOrderId: text } });
    const rows = batch.orderEvents
      .slice(0, 3)
      .map((r, i) => ({ ...r, commandSeq: 990_000_000 + i, detail: detail(i, hostile[i]!) }));
    await store.transaction((tx) =>
      writeBatch(tx, { ...batch, orderEvents: rows, trades: [], executions: [], orders: [], resumeAfter: 0 }, "t"),
    );
    const stored = await store.query<{ detail: unknown }>(
      "SELECT detail FROM order_events WHERE command_seq >= 990000000 ORDER BY command_seq",
    );
    expect(stored.map((r) => r.detail)).toEqual(rows.map((r) => JSON.parse(r.detail)));
  });
});

describe("the resume position", () => {
  it("moves only from where the projector read it: a batch after a rebuild's swap rolls back", async () => {
    const db = await openPgliteStore(undefined);
    await migrate(db, await readMigrations());
    const batch = (resumeAfter: number) => ({ ...projectBatch([]), resumeAfter });
    await db.transaction((tx) => writeBatch(tx, batch(10), "p", 0));
    await db.transaction((tx) => writeBatch(tx, batch(20), "p", 10));
    // Another writer (a rebuild's swap) sets 15; the projector still believes 20.
    await db.query("UPDATE projector_position SET stream_seq = 15 WHERE projector = 'p'");
    await expect(db.transaction((tx) => writeBatch(tx, batch(30), "p", 20))).rejects.toBeInstanceOf(PositionMovedError);
    expect(await readPosition(db, "p")).toBe(15);
    await db.close();
  });
});
