import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { eventStreamName } from "@tradeplane/contracts";
import { connectTo, NatsServer, PostgresServer, retry, ServiceProcess } from "@tradeplane/testkit";
import { readPosition } from "../../src/adapters/journal-writer.ts";
import { openPgStore } from "../../src/adapters/pg-store.ts";
import { recompute } from "./recompute.ts";
import { lastStreamSeq, publishVenueEvents } from "./venue-events.ts";

/**
 * The journal as a real process against a real PostgreSQL, SIGKILLed three times while it
 * catches up with a venue's event stream in small transactions (so most kills land inside
 * one), and started again each time: at the end the tables equal a recomputation from the
 * events, with no row twice (positions would show it) and none missing.
 */

const MAIN = resolve(fileURLToPath(new URL("../../src/main.ts", import.meta.url)));
const VENUE = "killed";

let nats: NatsServer;
let nc: NatsConnection;
let postgres: PostgresServer;

beforeAll(async () => {
  [nats, postgres] = await Promise.all([NatsServer.start(), PostgresServer.start({ durable: false })]);
  nc = await connectTo(nats.url);
}, 60_000);

afterAll(async () => {
  await ServiceProcess.killAll();
  await nc?.close();
  await Promise.all([nats?.dispose(), postgres?.dispose()]);
});

it("a journal process killed mid-batch and restarted projects every event exactly once", async () => {
  const events = await publishVenueEvents(nc, VENUE, { entries: 1_500, partitions: 3, seed: 21 });
  const last = await lastStreamSeq(nc, eventStreamName(VENUE));
  const db = openPgStore(postgres.url());
  const journal = (): ServiceProcess =>
    new ServiceProcess({
      main: MAIN,
      config: { venue: VENUE, natsUrl: [nats.url], batchMessages: 4, logLevel: "warn" },
      // The URL is a secret: the environment, never the config file.
      env: { TP_DATABASE_URL: postgres.url() },
    });
  const killedAt: number[] = [];
  for (const share of [0.2, 0.45, 0.7]) {
    const process = journal();
    await process.start();
    await retry(
      async () => {
        if ((await readPosition(db, "journal").catch(() => 0)) < last * share) throw new Error("not there yet");
      },
      60_000,
      5,
    );
    await process.signal("SIGKILL");
    killedAt.push(await readPosition(db, "journal"));
  }
  // The kills came before the end (else nothing was proven).
  expect(killedAt[0]).toBeLessThan(last);
  const final = journal();
  await final.start();
  await retry(
    async () => {
      const at = await readPosition(db, "journal");
      if (at < last) throw new Error(`journal at ${at} of ${last}`);
    },
    60_000,
    50,
  );
  // What an operator sees: the position and a lag of 0 on /metrics, ready on /readyz.
  const metrics = await (await fetch(`http://127.0.0.1:${final.opsPort}/metrics`)).text();
  expect(metrics).toMatch(new RegExp(`^tp_journal_position\\{[^}]*\\} ${last}$`, "m"));
  expect(metrics).toMatch(/^tp_journal_lag_messages\{[^}]*\} 0$/m);
  expect((await fetch(`http://127.0.0.1:${final.opsPort}/readyz`)).status).toBe(200);
  await final.signal("SIGTERM");

  const expected = recompute(events);
  const positions = await db.query<{
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
  const [counts] = await db.query<{ trades: number; executions: number; order_events: number; orders: number }>(
    "SELECT (SELECT count(*) FROM trades)::int8 trades, (SELECT count(*) FROM executions)::int8 executions, " +
      "(SELECT count(*) FROM order_events)::int8 order_events, (SELECT count(*) FROM orders)::int8 orders",
  );
  expect(counts).toEqual({
    trades: expected.trades.length,
    executions: expected.trades.length * 2,
    order_events: expected.orderEvents,
    orders: expected.orders.length,
  });
  await db.close();
}, 180_000);
