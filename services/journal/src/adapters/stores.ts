/** The journal's databases and schema, for tools outside the journal process (the CLI's `journal rebuild`). */
export { openPgStore } from "./pg-store.ts";
export { openPgliteStore } from "./pglite-store.ts";
export { migrate, readMigrations } from "./migrations.ts";
export type { SqlExecutor, SqlStore } from "./sql-store.ts";
