/**
 * bench:journal: how fast the projector writes a venue's event stream into PostgreSQL, and
 * how long a rebuild from the command log takes.
 * A real nats-server and a real, durable PostgreSQL (fsync on) from the testkit; the events
 * come from the pure matching core fed the testkit's command stream over 4 partitions and are
 * stored in the event stream first (the commands in the command log too), then the projector
 * catches up from the start with its default batch size, timed from start to the commit of
 * the last message, into a fresh database. Then `journal rebuild` reruns the command log
 * through the matching core into that database and swaps its tables in; its time is
 * extrapolated linearly to 1 M commands (the key says so). CPU seconds of this process and of
 * the PostgreSQL server are reported beside wall-clock rates: on the shared two-core machine
 * the neighbours move the latter several fold. Prints one JSON line last.
 * Flags: --entries N (log entries, default 20000), --batch N (messages per transaction),
 * --rebuild false (projector only).
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import pg from "pg";
import { commandStreamName, eventStreamName } from "@tradeplane/contracts";
import { createLogger } from "@tradeplane/platform";
import { connectTo, NatsServer, PostgresServer } from "@tradeplane/testkit";
import { DEFAULT_BATCH_MESSAGES } from "../src/config.ts";
import { EventProjector } from "../src/adapters/event-projector.ts";
import { migrate, readMigrations } from "../src/adapters/migrations.ts";
import { openPgStore } from "../src/adapters/pg-store.ts";
import type { SqlStore } from "../src/adapters/sql-store.ts";
import { lastStreamSeq, publishVenueEvents, venueEngineConfigs } from "../test/service/venue-events.ts";

const { values } = parseArgs({
  options: {
    entries: { type: "string", default: "20000" },
    batch: { type: "string", default: String(DEFAULT_BATCH_MESSAGES) },
    rebuild: { type: "string", default: "true" },
  },
});
const entries = Number(values.entries);
const batchMessages = Number(values.batch);
const VENUE = "bench";
const PARTITIONS = 4;
const USER_HZ = 100;
const logger = createLogger({ service: "bench-journal", level: "silent" });

/** CPU seconds (user + system) of the PostgreSQL server: the postmaster and every process it started. */
function postgresCpuSeconds(server: PostgresServer): number {
  const postmaster = readFileSync(join(server.dir, "data", "postmaster.pid"), "utf8").split("\n")[0]!;
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (pid === postmaster || fields[1] === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended between listing and reading
    }
  }
  return ticks / USER_HZ;
}

const ownCpuSeconds = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

/** Times `work`: wall seconds, and CPU seconds of this process and of PostgreSQL. */
async function timed(postgres: PostgresServer, work: () => Promise<void>) {
  const [t0, own0, pg0] = [performance.now(), ownCpuSeconds(), postgresCpuSeconds(postgres)];
  await work();
  return {
    seconds: (performance.now() - t0) / 1000,
    nodeCpuSeconds: ownCpuSeconds() - own0,
    postgresCpuSeconds: postgresCpuSeconds(postgres) - pg0,
  };
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

const [nats, postgres] = await Promise.all([NatsServer.start(), PostgresServer.start()]);
const nc = await connectTo(nats.url);
try {
  const events = await publishVenueEvents(nc, VENUE, { entries, partitions: PARTITIONS, seed: 5, commandLog: true });
  const journaled = events.filter((e) => e.body?.$case !== "bookDelta").length;
  const messages = await lastStreamSeq(nc, eventStreamName(VENUE));
  const commands = (await (await jetstream(nc).jetstreamManager()).streams.info(commandStreamName(VENUE))).state
    .last_seq;
  const admin = new pg.Client({ connectionString: postgres.url() });
  await admin.connect();
  await admin.query("CREATE DATABASE projected");
  await admin.end();
  const store: SqlStore = openPgStore(postgres.url("projected"));
  await migrate(store, await readMigrations());
  const load = loadavg()[0]!;

  let done: () => void = () => undefined;
  const caughtUp = new Promise<void>((r) => (done = r));
  const projector = new EventProjector({
    js: jetstream(nc),
    venue: VENUE,
    store,
    logger,
    name: "journal",
    batchMessages,
    onCommit: (writes) => {
      if (writes.resumeAfter >= messages) done();
    },
  });
  const projected = await timed(postgres, async () => {
    await projector.start();
    await caughtUp;
  });
  await projector.stop();
  const [rows] = await store.query<{ trades: number; order_events: number }>(
    "SELECT (SELECT count(*) FROM trades)::int8 trades, (SELECT count(*) FROM order_events)::int8 order_events",
  );

  let rebuild: Record<string, number> = {};
  if (values.rebuild !== "false") {
    // Loaded here, so this file also times a projector of before the rebuild (docs/journal.md).
    const { rebuildJournal } = await import("../src/adapters/journal-rebuild.ts");
    let commandsRebuilt = 0;
    const rebuilt = await timed(postgres, async () => {
      const result = await rebuildJournal({
        nc,
        venue: VENUE,
        partitions: venueEngineConfigs(PARTITIONS),
        store,
        projector: "journal",
        logger,
        batchMessages,
      });
      if (result.messagesMatched !== messages) throw new Error(`rebuild matched ${result.messagesMatched}/${messages}`);
      commandsRebuilt = result.commands;
    });
    rebuild = {
      rebuildCommands: commandsRebuilt,
      rebuildSeconds: round(rebuilt.seconds),
      rebuildNodeCpuSeconds: round(rebuilt.nodeCpuSeconds),
      rebuildPostgresCpuSeconds: round(rebuilt.postgresCpuSeconds),
      rebuildSecondsPer1MCommandsExtrapolated: round((rebuilt.seconds * 1e6) / commandsRebuilt, 1),
      rebuildCpuSecondsPer1MCommandsExtrapolated: round(
        ((rebuilt.nodeCpuSeconds + rebuilt.postgresCpuSeconds) * 1e6) / commandsRebuilt,
        1,
      ),
    };
  }
  await store.close();
  const cpu = projected.nodeCpuSeconds + projected.postgresCpuSeconds;
  process.stdout.write(
    JSON.stringify({
      bench: "journal",
      store: "postgresql",
      durable: true,
      entries,
      commandLogEntries: commands,
      messages,
      events: events.length,
      journaledEvents: journaled,
      trades: rows?.trades,
      orderEventRows: rows?.order_events,
      batchMessages,
      loadAverage1m: round(load, 2),
      seconds: round(projected.seconds),
      nodeCpuSeconds: round(projected.nodeCpuSeconds),
      postgresCpuSeconds: round(projected.postgresCpuSeconds),
      eventsPerSec: Math.round(events.length / projected.seconds),
      eventsPerCpuSec: Math.round(events.length / cpu),
      journaledEventsPerSec: Math.round(journaled / projected.seconds),
      messagesPerSec: Math.round(messages / projected.seconds),
      ...rebuild,
    }) + "\n",
  );
} finally {
  await nc.close();
  await Promise.all([nats.dispose(), postgres.dispose()]);
}
