import { PGlite } from "@electric-sql/pglite";
import type { SqlExecutor, SqlStore } from "./sql-store.ts";

/**
 * The journal's store embedded in the process: PGlite, PostgreSQL compiled to WASM, with its
 * data in `dataDir` (local mode keeps it in the venue's data folder), or in memory when
 * `dataDir` is undefined. Same SQL and migrations as PostgreSQL.
 */
export async function openPgliteStore(dataDir: string | undefined): Promise<SqlStore> {
  const db = await PGlite.create(dataDir);
  const executor = (q: Pick<PGlite, "query" | "exec">): SqlExecutor => ({
    async query<R extends object>(sql: string, params: readonly unknown[] = []) {
      return (await q.query<R>(sql, params as unknown[])).rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  return {
    kind: "pglite",
    ...executor(db),
    transaction: (work) => db.transaction((tx) => work(executor(tx))),
    close: () => db.close(),
  };
}
