/**
 * The one port the journal's SQL goes through, so PostgreSQL (`pg`) and PGlite (PostgreSQL
 * compiled to WASM, embedded in local mode) run the same statements and migrations.
 * Parameters are positional ($1...); 64-bit integers come back as JS numbers from both.
 */
export interface SqlExecutor {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlStore extends SqlExecutor {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** "postgresql" or "pglite", for logs and metrics. */
  readonly kind: string;
}
