import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { SqlStore } from "./sql-store.ts";

/** The journal's migrations: services/journal/migrations/NNNN_name.sql, applied in number order. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** Any constant: serialises migrators of several replicas starting together on one database. */
const MIGRATION_LOCK = 7_346_201;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The migrations in a folder, in version order; refuses a stray file or a version used twice. */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const out: Migration[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const m = FILE_PATTERN.exec(file);
    if (m === null) throw new Error(`${dir}/${file}: migration files are named NNNN_name.sql`);
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new Error(`${dir}: migration version ${version} used twice`);
    out.push({ version, name: m[2]!, sql: await readFile(`${dir}/${file}`, "utf8") });
  }
  return out;
}

/**
 * Applies the migrations not yet applied, each in its own transaction with its row in
 * schema_migrations, so a migration is applied entirely or not at all. Returns the versions
 * applied now.
 */
export async function migrate(store: SqlStore, migrations: readonly Migration[]): Promise<number[]> {
  await store.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, " +
      "applied_at timestamptz NOT NULL DEFAULT now())",
  );
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await store.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      const rows = await tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [m.version]);
      if (rows.length > 0) return false;
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
