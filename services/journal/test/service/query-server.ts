import { credentials } from "@grpc/grpc-js";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { JournalQueryClient, JournalQueryService } from "@tradeplane/contracts";
import { createLogger, Health, startGrpcServer, type GrpcServer } from "@tradeplane/platform";
import { PostgresServer } from "@tradeplane/testkit";
import { journalQueryService, type JournalQueryDeps } from "../../src/adapters/journal-query-grpc.ts";
import { migrate, readMigrations } from "../../src/adapters/migrations.ts";
import { openPgStore } from "../../src/adapters/pg-store.ts";
import { openPgliteStore } from "../../src/adapters/pglite-store.ts";
import type { SqlStore } from "../../src/adapters/sql-store.ts";
import { IST_T1_CALENDAR } from "../../src/domain/trading-calendar.ts";

/** A throwaway PostgreSQL server for the tests of this file: started before them, disposed after. */
export function postgresForFile(): () => PostgresServer {
  let postgres: PostgresServer | undefined;
  beforeAll(async () => {
    postgres = await PostgresServer.start({ durable: false });
  }, 60_000);
  afterAll(() => postgres?.dispose());
  return () => {
    if (postgres === undefined) throw new Error("the PostgreSQL server is not started yet (beforeAll)");
    return postgres;
  };
}

/** A new database `name` on the server, opened as the journal opens it. */
export async function newPgStore(postgres: PostgresServer, name: string): Promise<SqlStore> {
  const admin = new pg.Client({ connectionString: postgres.url() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return openPgStore(postgres.url(name));
}

/**
 * Both stores the journal runs on, as `describe.each` rows: a new database `name` on the
 * PostgreSQL server (given late: it starts in a beforeAll) and PGlite in memory, each migrated.
 */
export function journalStores(postgres: () => PostgresServer, name: string): [string, () => Promise<SqlStore>][] {
  const migrated = async (store: SqlStore) => {
    await migrate(store, await readMigrations());
    return store;
  };
  return [
    ["PostgreSQL", async () => migrated(await newPgStore(postgres(), name))],
    ["PGlite", async () => migrated(await openPgliteStore(undefined))],
  ];
}

/** A JournalQuery server over real gRPC on loopback, and a client of it. */
export interface QueryServer {
  readonly grpc: GrpcServer;
  readonly client: JournalQueryClient;
  close(): Promise<void>;
}

/**
 * Serves JournalQuery from `deps` on a free loopback port, with the example venue's terms
 * (INR in paise, settling T+1 on the IST calendar) and a silent logger unless given.
 */
export async function startQueryServer(
  deps: Pick<JournalQueryDeps, "db" | "admin"> & Partial<JournalQueryDeps>,
): Promise<QueryServer> {
  const logger = deps.logger ?? createLogger({ service: "journal-query-test", level: "silent" });
  const grpc = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    health: new Health(),
    logger,
    reflection: false,
    services: [
      {
        name: "tradeplane.v1.JournalQuery",
        definition: JournalQueryService,
        implementation: journalQueryService({
          calendar: IST_T1_CALENDAR,
          currency: "INR",
          notionalExponent: -2,
          ...deps,
          logger,
        }),
      },
    ],
  });
  const client = new JournalQueryClient(`127.0.0.1:${grpc.port}`, credentials.createInsecure());
  return {
    grpc,
    client,
    close: async () => {
      client.close();
      await grpc.close();
    },
  };
}
