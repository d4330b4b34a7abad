import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandStreamName, eventStreamName } from "@tradeplane/contracts";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { parseManifests, venueFrom, type TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { engineServiceConfig, localPorts, partitionsOf } from "@tradeplane/operator/service-configs";
import { createLogger, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { connectTo, NatsServer, PostgresServer, REPO_ROOT, retry, ServiceProcess } from "@tradeplane/testkit";
import { EventProjector } from "../../src/adapters/event-projector.ts";
import { rebuildJournal, type RebuildDeps } from "../../src/adapters/journal-rebuild.ts";
import { REBUILT_TABLES } from "../../src/adapters/journal-staging.ts";
import { readPosition } from "../../src/adapters/journal-writer.ts";
import { migrate, readMigrations } from "../../src/adapters/migrations.ts";
import { openPgStore } from "../../src/adapters/pg-store.ts";
import { openPgliteStore } from "../../src/adapters/pglite-store.ts";
import type { SqlExecutor, SqlStore } from "../../src/adapters/sql-store.ts";
import { RebuildRefusedError } from "../../src/domain/published-index.ts";
import { lastStreamSeq } from "./venue-events.ts";
import { writeVenueWorkload } from "./venue-workload.ts";

/**
 * The proof of `journal rebuild`: two real engine processes (started from a venue file's
 * configs, as the operator and local mode start them) run a command log with trades,
 * cancels, replaces, rejects, halts and an auction; the live projector follows their event
 * stream into a real PostgreSQL and into PGlite; then a rebuild from the command log alone
 * replaces the tables, and every table equals the live one row for row, every column. The
 * engines and the projectors run on throughout: after more commands, the projector that
 * went on in the swapped tables still equals a fresh rebuild.
 */

const ENGINE_MAIN = join(REPO_ROOT, "services", "matching", "src", "main.ts");
const VENUE = "rebuilt";
const logger = createLogger({ service: "journal-test", level: "silent" });

const venueYaml = (instruments: string, snapshotEveryCommands = 300): string => `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata:
  name: ${VENUE}
spec:
  market:
    currency: INR
    notionalExponent: -2
  instruments:
${instruments}
  engine:
    snapshotEveryCommands: ${snapshotEveryCommands}
    snapshotEverySeconds: 0
`;
const instrument = (symbol: string, partition: number, bandPercent = 10): string =>
  `    - { symbol: ${symbol}, partition: ${partition}, tickSize: 1, referencePrice: 100000, priceBandPercent: ${bandPercent} }`;
const TWO_PARTITIONS = [instrument("INFY0", 0), instrument("TCS0", 0), instrument("INFY1", 1), instrument("TCS1", 1)];

const venueOf = (yaml: string): TradingVenue => venueFrom(parseManifests(yaml, "test.yaml"), "test.yaml");
const placementOf = (natsUrl: string) => ({ natsUrl: [natsUrl], host: "127.0.0.1", ports: localPorts(0) });
/** Each partition's engine config as the CLI makes it from a venue file. */
const enginesOf = (venue: TradingVenue, natsUrl: string) =>
  new Map(partitionsOf(venue).map((p) => [p, engineConfigOf(engineServiceConfig(venue, p, placementOf(natsUrl)))]));

let nats: NatsServer;
let engines: ServiceProcess[] = [];
let nc: NatsConnection;
let postgres: PostgresServer;
const live: { name: string; store: SqlStore; projector: EventProjector }[] = [];

beforeAll(async () => {
  [nats, postgres] = await Promise.all([NatsServer.start(), PostgresServer.start({ durable: false })]);
  nc = await connectTo(nats.url);
  await provision(nc, venueProvisioningPlan({ venue: VENUE, storage: "memory" }));
  const venue = venueOf(venueYaml(TWO_PARTITIONS.join("\n")));
  // The live projectors follow the stream while the engines write it.
  const admin = new pg.Client({ connectionString: postgres.url() });
  await admin.connect();
  await admin.query("CREATE DATABASE live");
  await admin.end();
  for (const [name, store] of [
    ["PostgreSQL", openPgStore(postgres.url("live"))],
    ["PGlite", await openPgliteStore(undefined)],
  ] as const) {
    await migrate(store, await readMigrations());
    const projector = new EventProjector({
      js: jetstream(nc),
      venue: VENUE,
      store,
      logger,
      name: "journal",
      batchMessages: 64,
    });
    await projector.start();
    live.push({ name, store, projector });
  }
  engines = partitionsOf(venue).map(
    (p) =>
      new ServiceProcess({
        main: ENGINE_MAIN,
        config: { ...engineServiceConfig(venue, p, placementOf(nats.url)), grpcPort: 0, opsPort: 0, logLevel: "warn" },
        env: { TP_INSTANCE_ID: `engine-${p}` },
      }),
  );
  await Promise.all(engines.map((e) => e.start()));
  await caughtUp(await writeVenueWorkload(nc, VENUE, { entries: 1_500, partitions: 2, seed: 7 }));
}, 180_000);

afterAll(async () => {
  await ServiceProcess.killAll();
  for (const l of live) {
    await l.projector.stop();
    await l.store.close();
  }
  await nc?.close();
  await Promise.all([nats?.dispose(), postgres?.dispose()]);
});

/** Waits until both engines applied the log to `entry` and stored every event, and both live projectors wrote them. */
async function caughtUp(entry: number): Promise<void> {
  for (const engine of engines)
    await retry(
      async () => {
        const s = await engine.ops<{ lastCommandSeq: number; publishBacklog: number; lag: number }>("/status");
        if (s.lag > 0 || s.publishBacklog > 0 || Math.floor(s.lastCommandSeq / 1000) < entry - 10)
          throw new Error(`engine at ${JSON.stringify(s)}`);
      },
      60_000,
      50,
    );
  // The last entries' events may still be on their way from the engine that applied them last.
  await new Promise((r) => setTimeout(r, 300));
  const last = await lastStreamSeq(nc, eventStreamName(VENUE));
  for (const l of live)
    await retry(
      async () => {
        if ((await readPosition(l.store, "journal")) < last) throw new Error(`${l.name} behind`);
      },
      60_000,
      50,
    );
}

/** Every row of every table a rebuild replaces, in key order. */
async function dump(db: SqlExecutor): Promise<Record<string, unknown[]>> {
  const keys: Record<(typeof REBUILT_TABLES)[number], string> = {
    order_events: "command_seq, idx, order_id",
    trades: "command_seq, idx",
    executions: "command_seq, idx, role",
    orders: "order_id",
    positions: "account, instrument",
    dead_letters: "stream_seq, position",
  };
  const out: Record<string, unknown[]> = {};
  for (const t of REBUILT_TABLES) out[t] = await db.query(`SELECT * FROM ${t} ORDER BY ${keys[t]}`);
  return out;
}

const rebuildDeps = (store: SqlStore, yaml = venueYaml(TWO_PARTITIONS.join("\n"))): RebuildDeps => ({
  nc,
  venue: VENUE,
  partitions: enginesOf(venueOf(yaml), nats.url),
  store,
  projector: "journal",
  logger,
  batchMessages: 100,
});

describe.each([0, 1])("a journal rebuilt from the command log (%s: 0 PostgreSQL, 1 PGlite)", (which) => {
  it("equals the live projection row for row, and queries read the live tables until the swap", async () => {
    const { store, projector } = live[which]!;
    const before = await dump(store);
    expect(before.trades!.length).toBeGreaterThan(100);
    const kinds = await store.query<{ kind: string }>("SELECT DISTINCT kind FROM order_events ORDER BY kind");
    expect(kinds.map((k) => k.kind)).toEqual(
      expect.arrayContaining(["accepted", "cancelled", "instrumentStateChanged", "rejected", "replaced", "trade"]),
    );
    const progress: string[] = [];
    const result = await rebuildJournal({
      ...rebuildDeps(store),
      onProgress: (p) => progress.push(p.phase),
      beforeSwap: async () => {
        // The staging tables are full; readers still see the live ones.
        expect(await store.query("SELECT count(*)::int8 n FROM trades")).toEqual([{ n: before.trades!.length }]);
      },
    });
    expect(result.messagesMatched).toBe(result.messages);
    expect(result.snapshotsChecked).toBeGreaterThan(0);
    expect(result.resumeAfter).toBe(await lastStreamSeq(nc, eventStreamName(VENUE)));
    expect(progress).toEqual(expect.arrayContaining(["index", "replay", "swap", "done"]));
    expect(await dump(store)).toEqual(before);
    // The live projector goes on from the position the swap set, on the new tables.
    expect(projector.failures).toBe(0);
    expect(await readPosition(store, "journal")).toBe(result.resumeAfter);
  }, 120_000);

  it.each([
    [
      "a venue file without partition 1",
      venueYaml([instrument("INFY0", 0), instrument("TCS0", 0)].join("\n")),
      "UNKNOWN_PARTITION",
    ],
    [
      // The first engine snapshot (at about command 300) shows it.
      "a venue file whose price band changed since the log began",
      venueYaml(
        [instrument("INFY0", 0, 2), instrument("TCS0", 0), instrument("INFY1", 1), instrument("TCS1", 1)].join("\n"),
      ),
      "STATE_DIVERGED",
    ],
  ])(
    "refuses %s and leaves the live tables as they were",
    async (_name, yaml, reason) => {
      const { store } = live[which]!;
      const before = await dump(store);
      const refused = await rebuildJournal(rebuildDeps(store, yaml)).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(RebuildRefusedError);
      expect((refused as RebuildRefusedError).reason).toBe(reason);
      expect(await dump(store)).toEqual(before);
      expect(await store.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'journal_%'")).toEqual([]);
    },
    120_000,
  );
});

it("a live projector goes on in the swapped tables: after more commands they still equal a fresh rebuild", async () => {
  const log = (await (await jetstream(nc).jetstreamManager()).streams.info(commandStreamName(VENUE))).state;
  await caughtUp(
    await writeVenueWorkload(nc, VENUE, { entries: 300, partitions: 2, seed: 8, firstEntry: log.last_seq + 1 }),
  );
  for (const { store, projector } of live) {
    const following = await dump(store);
    expect(following.trades!.length).toBeGreaterThan(0);
    await rebuildJournal(rebuildDeps(store));
    expect(await dump(store)).toEqual(following);
    expect(projector.failures).toBe(0);
  }
}, 120_000);
