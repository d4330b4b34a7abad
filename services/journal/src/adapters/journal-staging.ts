import type { Migration } from "./migrations.ts";
import type { SqlExecutor, SqlStore } from "./sql-store.ts";

/** The schema a rebuild writes into, beside the live tables in `public`. */
export const STAGING_SCHEMA = "journal_rebuild";
/** Where the replaced live tables go for the moment of the swap. */
const RETIRED_SCHEMA = "journal_retired";

/**
 * The tables a rebuild replaces. `projector_position` stays (the swap moves the row of the
 * rebuilt projector) and so does `schema_migrations` (the schema's version does not change).
 */
export const REBUILT_TABLES = ["order_events", "trades", "executions", "orders", "positions", "dead_letters"] as const;

/**
 * A fresh copy of the journal's tables in STAGING_SCHEMA, made by the same migrations as the
 * live ones (unqualified names resolve to the staging schema through search_path), so column
 * types, keys and index names are the live tables' own. What an earlier failed rebuild left
 * there is dropped first.
 */
export async function createStaging(store: SqlStore, migrations: readonly Migration[]): Promise<void> {
  await store.exec(`DROP SCHEMA IF EXISTS ${STAGING_SCHEMA} CASCADE`);
  await store.transaction(async (tx) => {
    await tx.exec(`CREATE SCHEMA ${STAGING_SCHEMA}; SET LOCAL search_path TO ${STAGING_SCHEMA}`);
    for (const m of migrations) await tx.exec(m.sql);
  });
}

/** Runs `work` in one transaction whose unqualified table names are the staging tables. */
export function inStaging<T>(store: SqlStore, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  return store.transaction(async (tx) => {
    await tx.exec(`SET LOCAL search_path TO ${STAGING_SCHEMA}`);
    return work(tx);
  });
}

/** Drops what a rebuild wrote (a failed or refused rebuild); the live tables are untouched. */
export async function dropStaging(store: SqlStore): Promise<void> {
  await store.exec(`DROP SCHEMA IF EXISTS ${STAGING_SCHEMA} CASCADE`);
}

/**
 * Puts the staging tables in place of the live ones in ONE transaction: readers see the old
 * tables until the commit and the new ones after it, never a mix, and a failure leaves the
 * live tables as they were. The live tables are locked first, so a projector batch in flight
 * either commits before the swap (into tables about to be replaced; its position is then
 * overwritten) or waits and then fails on tables that are gone and starts over from the
 * stored position. Dead letters of whole messages (bytes the stream holds that no engine
 * wrote) cannot come from the command log and are carried over. The projector's resume
 * position becomes `resumeAfter`: the rebuilt tables hold every event the stream holds up to it.
 */
export async function swapStaging(store: SqlStore, projector: string, resumeAfter: number): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.exec(
      `LOCK TABLE ${REBUILT_TABLES.map((t) => `public.${t}`).join(", ")}, public.projector_position IN ACCESS EXCLUSIVE MODE`,
    );
    await tx.exec(
      `INSERT INTO ${STAGING_SCHEMA}.dead_letters SELECT * FROM public.dead_letters WHERE position = -1 ON CONFLICT DO NOTHING`,
    );
    await tx.exec(`CREATE SCHEMA ${RETIRED_SCHEMA}`);
    for (const t of REBUILT_TABLES)
      await tx.exec(
        `ALTER TABLE public.${t} SET SCHEMA ${RETIRED_SCHEMA}; ALTER TABLE ${STAGING_SCHEMA}.${t} SET SCHEMA public`,
      );
    await tx.exec(`DROP SCHEMA ${RETIRED_SCHEMA} CASCADE; DROP SCHEMA ${STAGING_SCHEMA} CASCADE`);
    await tx.query(
      "INSERT INTO public.projector_position (projector, stream_seq) VALUES ($1, $2) " +
        "ON CONFLICT (projector) DO UPDATE SET stream_seq = excluded.stream_seq",
      [projector, resumeAfter],
    );
  });
}
