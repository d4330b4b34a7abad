import pg from "pg";
import type { SqlExecutor, SqlStore } from "./sql-store.ts";

const INT8_OID = 20;

// int8 as a JS number, like PGlite: every bigint the journal stores (sequences, prices,
// quantities, microsecond times) is a safe integer. Per pool, not pg's global type table.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid as never, format ?? "text");
  },
};

/** The journal's store on a PostgreSQL server through a small `pg` pool. */
export function openPgStore(url: string, options: { readonly maxConnections?: number } = {}): SqlStore {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 4, types });
  // An idle client that loses its connection emits here; without a listener it would crash the process.
  pool.on("error", () => undefined);
  const executor = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    async query<R extends object>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(sql, params as unknown[])).rows as R[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  });
  return {
    kind: "postgresql",
    ...executor(pool),
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work(executor(client));
        await client.query("COMMIT");
        client.release();
        return result;
      } catch (err) {
        // A connection that failed mid-transaction is not returned to the pool for reuse.
        await client.query("ROLLBACK").then(
          () => client.release(),
          () => client.release(true),
        );
        throw err;
      }
    },
    close: () => pool.end(),
  };
}
