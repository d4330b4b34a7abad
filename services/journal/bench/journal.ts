/**
 * bench:journal: how fast the projector writes a venue's event stream into PostgreSQL.
 * A real nats-server and a real, durable PostgreSQL (fsync on) from the testkit; the events
 * come from the pure matching core fed the testkit's command stream over 4 partitions and are
 * stored in the event stream first, then the projector catches up from the start with its
 * default batch size, timed from start to the commit of the last message. Prints one JSON
 * line last. Flags: --entries N (log entries, default 20000), --batch N (messages per transaction).
 */
import { parseArgs } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import { eventStreamName } from "@tradeplane/contracts";
import { createLogger } from "@tradeplane/platform";
import { connectTo, NatsServer, PostgresServer } from "@tradeplane/testkit";
import { DEFAULT_BATCH_MESSAGES } from "../src/config.ts";
import { EventProjector } from "../src/adapters/event-projector.ts";
import { migrate, readMigrations } from "../src/adapters/migrations.ts";
import { openPgStore } from "../src/adapters/pg-store.ts";
import { lastStreamSeq, publishVenueEvents } from "../test/service/venue-events.ts";

const { values } = parseArgs({
  options: {
    entries: { type: "string", default: "20000" },
    batch: { type: "string", default: String(DEFAULT_BATCH_MESSAGES) },
  },
});
const entries = Number(values.entries);
const batchMessages = Number(values.batch);
const VENUE = "bench";

const [nats, postgres] = await Promise.all([NatsServer.start(), PostgresServer.start()]);
const nc = await connectTo(nats.url);
try {
  const events = await publishVenueEvents(nc, VENUE, { entries, partitions: 4, seed: 5 });
  const journaled = events.filter((e) => e.body?.$case !== "bookDelta").length;
  const messages = await lastStreamSeq(nc, eventStreamName(VENUE));
  const store = openPgStore(postgres.url());
  await migrate(store, await readMigrations());
  let done: () => void = () => undefined;
  const caughtUp = new Promise<void>((r) => (done = r));
  const projector = new EventProjector({
    js: jetstream(nc),
    venue: VENUE,
    store,
    logger: createLogger({ service: "bench-journal", level: "silent" }),
    name: "journal",
    batchMessages,
    onCommit: (writes) => {
      if (writes.resumeAfter >= messages) done();
    },
  });
  const started = performance.now();
  await projector.start();
  await caughtUp;
  const seconds = (performance.now() - started) / 1000;
  await projector.stop();
  const [rows] = await store.query<{ trades: number; order_events: number }>(
    "SELECT (SELECT count(*) FROM trades)::int8 trades, (SELECT count(*) FROM order_events)::int8 order_events",
  );
  await store.close();
  process.stdout.write(
    JSON.stringify({
      bench: "journal",
      store: "postgresql",
      durable: true,
      entries,
      messages,
      events: events.length,
      journaledEvents: journaled,
      trades: rows?.trades,
      orderEventRows: rows?.order_events,
      batchMessages,
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSec: Math.round(events.length / seconds),
      journaledEventsPerSec: Math.round(journaled / seconds),
      messagesPerSec: Math.round(messages / seconds),
    }) + "\n",
  );
} finally {
  await nc.close();
  await Promise.all([nats.dispose(), postgres.dispose()]);
}
