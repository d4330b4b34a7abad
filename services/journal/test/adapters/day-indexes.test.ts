import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresServer } from "@tradeplane/testkit";
import { executionsByPrice, orderMessageCounts, registerTrades } from "../../src/adapters/journal-reports.ts";
import { migrate, readMigrations } from "../../src/adapters/migrations.ts";
import { openPgStore } from "../../src/adapters/pg-store.ts";
import type { SqlExecutor, SqlStore } from "../../src/adapters/sql-store.ts";

/**
 * The whole-day queries over every account use the indexes of migration 0002 on a journal of
 * realistic size, on a real PostgreSQL server: 100,000 trades (200,000 executions) and
 * 400,000 order events over 5 days, 200 accounts and 20 instruments, analysed. Each query's
 * own SQL is run under EXPLAIN (the executor below prefixes it) with the values a call binds.
 */

const DAY_US = 86_400_000_000;
const START_US = Date.UTC(2026, 10, 30) * 1000;
const TRADES = 100_000;
const PER_DAY = TRADES / 5;

let postgres: PostgresServer;
let store: SqlStore;

beforeAll(async () => {
  postgres = await PostgresServer.start({ durable: false });
  store = openPgStore(postgres.url());
  await migrate(store, await readMigrations());
  // Trade n at START + n * (5 days / TRADES): in time order, as the projector writes them.
  const timeOf = (n: string) => `${START_US} + ${n}::int8 * ${(5 * DAY_US) / TRADES}`;
  await store.exec(`
    INSERT INTO trades SELECT n * 1000, 1, n, n, n % 4, 'I' || n % 20, 100000 + n % 500, 1 + n % 10,
      CASE WHEN n % 2 = 0 THEN 'BUY' ELSE 'SELL' END, 2 * n, 'A' || n % 200, 2 * n + 1, 'A' || (n * 7) % 200,
      ${timeOf("n")}
    FROM generate_series(1, ${TRADES}) n;
    INSERT INTO executions SELECT command_seq, idx, r.role, CASE r.role WHEN 'maker' THEN maker_account ELSE taker_account END,
      CASE r.role WHEN 'maker' THEN maker_order_id ELSE taker_order_id END, instrument,
      CASE WHEN (r.role = 'taker') = (aggressor_side = 'BUY') THEN 'BUY' ELSE 'SELL' END, price, qty, 0, time_us
    FROM trades, (VALUES ('maker'), ('taker')) r(role);
    INSERT INTO order_events SELECT n * 1000 + k, 0, n, n, n % 4, 'I' || n % 20,
      (ARRAY['accepted', 'trade', 'cancelled', 'replaced'])[k + 1], 'A' || n % 200, ${timeOf("n")},
      CASE k WHEN 2 THEN '{"cancelled":{"reason":"CANCEL_REASON_CLIENT_REQUEST"}}' ELSE '{}' END::json
    FROM generate_series(1, ${TRADES}) n, generate_series(0, 3) k;
    ANALYZE;
  `);
}, 300_000);

afterAll(async () => {
  await store?.close();
  await postgres?.dispose();
});

/** Runs each query under EXPLAIN and keeps its plan instead of its rows. */
function explaining(db: SqlExecutor): { db: SqlExecutor; plans: unknown[] } {
  const plans: unknown[] = [];
  return {
    plans,
    db: {
      async query<R extends object>(sql: string, params?: readonly unknown[]): Promise<R[]> {
        const [row] = await db.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
        plans.push(row!["QUERY PLAN"]);
        return [];
      },
      exec: (sql) => db.exec(sql),
    },
  };
}

/** Every scan node of a plan: its kind, relation and index. */
function scans(plan: unknown): string[] {
  const out: string[] = [];
  const walk = (node: Record<string, unknown>): void => {
    const type = node["Node Type"] as string;
    if (type.endsWith("Scan")) out.push(`${type} ${node["Relation Name"] ?? ""} ${node["Index Name"] ?? ""}`);
    for (const child of (node["Plans"] as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  for (const p of plan as { Plan: Record<string, unknown> }[]) walk(p.Plan);
  return out;
}

const day = { fromUs: START_US + 2 * DAY_US, toUs: START_US + 3 * DAY_US };

describe("whole-day queries over every account on 100,000 trades over 5 days", () => {
  it("holds a realistic journal", async () => {
    const [counts] = await store.query<{ executions: number; inDay: number }>(
      `SELECT count(*)::int8 executions, count(*) FILTER (WHERE time_us >= $1 AND time_us < $2)::int8 "inDay"
       FROM executions`,
      [day.fromUs, day.toUs],
    );
    expect(counts).toEqual({ executions: 2 * TRADES, inDay: 2 * PER_DAY });
  });

  it.each([
    [
      "the trade register",
      (db: SqlExecutor) => registerTrades(db, day.fromUs, day.toUs, { limit: 1000, afterCommandSeq: 0, afterIndex: 0 }),
      [["trades", "trades_by_time"]],
    ],
    [
      "the order-to-trade ratios",
      (db: SqlExecutor) => orderMessageCounts(db, day.fromUs, day.toUs, ""),
      [
        ["order_events", "order_events_messages_by_time"],
        ["executions", "executions_by_time"],
      ],
    ],
    [
      "the clearing obligations",
      (db: SqlExecutor) => executionsByPrice(db, day.fromUs, day.toUs, ""),
      [["executions", "executions_by_time"]],
    ],
  ])("%s reads the day through its index, never a whole table", async (_name, run, expected) => {
    const { db, plans } = explaining(store);
    await run(db);
    const nodes = plans.flatMap(scans);
    // instrument_terms holds a few rows per instrument: read whole, as it should be.
    expect(nodes.filter((n) => n.startsWith("Seq Scan") && !n.includes("instrument_terms"))).toEqual([]);
    for (const [table, index] of expected)
      expect(
        nodes.some((n) => n.endsWith(` ${index}`)),
        `${table} by ${index}: ${nodes.join("; ")}`,
      ).toBe(true);
  });
});
