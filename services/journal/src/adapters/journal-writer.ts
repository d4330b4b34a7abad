import type { JournalWrites, OrderFieldGroup, OrderUpdate } from "../domain/rows.ts";
import type { SqlExecutor } from "./sql-store.ts";

// One statement per table per batch, its rows passed as parallel arrays through unnest():
// a fixed statement text however many rows (no parameter limit, plans cached), and one
// round trip per table instead of one per row. Each array goes as one string, the array
// literal built here (arrayLiteral), not by the driver, which quoted and escaped element by
// element and was the projector's largest cost; the events' details, JSON already, go as
// one JSON array, with nothing to escape (measured in docs/journal.md, Speed).

const INSERT_ORDER_EVENTS = `
INSERT INTO order_events (command_seq, idx, order_id, stream_seq, partition, instrument, kind, account, time_us, detail)
SELECT c, i, o, s, p, ins, k, a, t, d
FROM unnest($1::int8[], $2::int4[], $3::int8[], $4::int8[], $5::int4[], $6::text[], $7::text[], $8::text[], $9::int8[],
  ARRAY(SELECT e FROM json_array_elements($10::json) WITH ORDINALITY AS x(e, n) ORDER BY n))
  AS r(c, i, o, s, p, ins, k, a, t, d)
ON CONFLICT DO NOTHING`;

const INSERT_TRADES = `
INSERT INTO trades (command_seq, idx, trade_id, stream_seq, partition, instrument, price, qty, aggressor_side,
  maker_order_id, maker_account, taker_order_id, taker_account, time_us)
SELECT * FROM unnest($1::int8[], $2::int4[], $3::int8[], $4::int8[], $5::int4[], $6::text[], $7::int8[], $8::int8[],
  $9::text[], $10::int8[], $11::text[], $12::int8[], $13::text[], $14::int8[])
ON CONFLICT DO NOTHING`;

// Positions move by the executions this statement inserted, never by ones already there:
// a replayed batch inserts none and moves nothing.
const INSERT_EXECUTIONS_AND_POSITIONS = `
WITH inserted AS (
  INSERT INTO executions (command_seq, idx, role, account, order_id, instrument, side, price, qty, leaves_qty, time_us)
  SELECT * FROM unnest($1::int8[], $2::int4[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::text[], $8::int8[],
    $9::int8[], $10::int8[], $11::int8[])
  ON CONFLICT DO NOTHING
  RETURNING account, instrument, side, price, qty
)
INSERT INTO positions AS p (account, instrument, net_qty, bought_qty, sold_qty, bought_value, sold_value)
SELECT account, instrument,
  sum(CASE WHEN side = 'BUY' THEN qty ELSE -qty END),
  sum(CASE WHEN side = 'BUY' THEN qty ELSE 0 END),
  sum(CASE WHEN side = 'SELL' THEN qty ELSE 0 END),
  sum(CASE WHEN side = 'BUY' THEN price * qty ELSE 0 END),
  sum(CASE WHEN side = 'SELL' THEN price * qty ELSE 0 END)
FROM inserted GROUP BY account, instrument
ON CONFLICT (account, instrument) DO UPDATE SET
  net_qty = p.net_qty + excluded.net_qty,
  bought_qty = p.bought_qty + excluded.bought_qty,
  sold_qty = p.sold_qty + excluded.sold_qty,
  bought_value = p.bought_value + excluded.bought_value,
  sold_value = p.sold_value + excluded.sold_value`;

/** Each field group's columns, and its key columns (see migrations/0001_journal.sql). */
const GROUP_COLUMNS: Record<OrderFieldGroup, { key: string; columns: string[] }> = {
  terms: { key: "terms", columns: ["client_order_id", "stop_price", "qty"] },
  orderType: { key: "order_type", columns: ["order_type"] },
  price: { key: "price", columns: ["price"] },
  leaves: { key: "leaves", columns: ["leaves_qty"] },
  status: { key: "status", columns: ["status"] },
};
const GROUPS = Object.keys(GROUP_COLUMNS) as OrderFieldGroup[];

/** A group's columns and key take the update's values when its event is newer than the row's. */
function newerGroup({ key, columns }: { key: string; columns: string[] }): string {
  const newer =
    `excluded.${key}_seq IS NOT NULL AND (o.${key}_seq IS NULL OR ` +
    `(excluded.${key}_seq, excluded.${key}_idx) > (o.${key}_seq, o.${key}_idx))`;
  return [...columns, `${key}_seq`, `${key}_idx`]
    .map((c) => `${c} = CASE WHEN ${newer} THEN excluded.${c} ELSE o.${c} END`)
    .join(",\n  ");
}
/** A field no event changes: the first value learnt stays. */
const first = (column: string): string => `${column} = COALESCE(o.${column}, excluded.${column})`;

const ORDER_COLUMNS = [
  ["order_id", "int8"],
  ["partition", "int4"],
  ["instrument", "text"],
  ["account", "text"],
  ["client_order_id", "text"],
  ["side", "text"],
  ["order_type", "text"],
  ["time_in_force", "text"],
  ["price", "int8"],
  ["stop_price", "int8"],
  ["qty", "int8"],
  ["leaves_qty", "int8"],
  ["status", "text"],
  ["accepted_command_seq", "int8"],
  ["last_command_seq", "int8"],
  ["last_idx", "int4"],
  ["updated_time_us", "int8"],
  ...GROUPS.flatMap((g) => [
    [`${GROUP_COLUMNS[g].key}_seq`, "int8"],
    [`${GROUP_COLUMNS[g].key}_idx`, "int4"],
  ]),
] as const;

const UPSERT_ORDERS = `
INSERT INTO orders AS o (${ORDER_COLUMNS.map(([c]) => c).join(", ")})
SELECT * FROM unnest(${ORDER_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")})
ON CONFLICT (order_id) DO UPDATE SET
  ${["account", "side", "time_in_force", "accepted_command_seq"].map(first).join(",\n  ")},
  ${GROUPS.map((g) => newerGroup(GROUP_COLUMNS[g])).join(",\n  ")},
  updated_time_us = CASE WHEN (excluded.last_command_seq, excluded.last_idx) > (o.last_command_seq, o.last_idx)
    THEN excluded.updated_time_us ELSE o.updated_time_us END,
  last_idx = CASE WHEN (excluded.last_command_seq, excluded.last_idx) > (o.last_command_seq, o.last_idx)
    THEN excluded.last_idx ELSE o.last_idx END,
  last_command_seq = GREATEST(o.last_command_seq, excluded.last_command_seq)`;

const INSERT_DEAD_LETTER = `
INSERT INTO dead_letters (stream_seq, position, subject, reason, detail, data)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`;

const SAVE_POSITION = `
INSERT INTO projector_position (projector, stream_seq) VALUES ($1, $2)
ON CONFLICT (projector) DO UPDATE SET stream_seq = GREATEST(projector_position.stream_seq, excluded.stream_seq)`;

// The projector's move: from the position it read to the batch's end, only if nobody moved it
// meanwhile (a rebuild swapped the tables and set the position of what they hold, an operator
// reset it): then the batch rolls back and the projector starts over from the stored position.
const MOVE_POSITION = `
UPDATE projector_position SET stream_seq = $2 WHERE projector = $1 AND stream_seq = $3 RETURNING 1`;
const FIRST_POSITION = `
INSERT INTO projector_position (projector, stream_seq) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`;

/** The stored resume position is not the one the projector read: another writer moved it. */
export class PositionMovedError extends Error {
  override readonly name = "PositionMovedError";
}

/**
 * A PostgreSQL array literal (`{1,NULL,"a b"}`) of numbers and strings, undefined and null
 * as NULL. Strings are always quoted, so no value is read as NULL or split; inside quotes
 * only `"` and `\` are escaped.
 */
export function arrayLiteral(values: readonly unknown[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ",";
    if (v === null || v === undefined) out += "NULL";
    else if (typeof v === "number") out += String(v);
    else {
      const s = String(v);
      out += s.includes('"') || s.includes("\\") ? `"${s.replace(/["\\]/g, "\\$&")}"` : `"${s}"`;
    }
  }
  return out + "}";
}

const column = <T, K extends keyof T>(rows: readonly T[], key: K): string => arrayLiteral(rows.map((r) => r[key]));

/** The stream sequence a projector resumes after (0: from the stream's first message). */
export async function readPosition(db: SqlExecutor, projector: string): Promise<number> {
  const rows = await db.query<{ stream_seq: number }>(
    "SELECT stream_seq FROM projector_position WHERE projector = $1",
    [projector],
  );
  return rows[0]?.stream_seq ?? 0;
}

/**
 * Writes one batch's rows and the projector's new position; call inside one transaction.
 * With `from` (the position the batch follows), the position moves only from there, else
 * PositionMovedError; without it, it only grows.
 */
export async function writeBatch(
  tx: SqlExecutor,
  writes: JournalWrites,
  projector: string,
  from?: number,
): Promise<void> {
  const ev = writes.orderEvents;
  if (ev.length > 0)
    await tx.query(INSERT_ORDER_EVENTS, [
      column(ev, "commandSeq"),
      column(ev, "index"),
      column(ev, "orderId"),
      column(ev, "streamSeq"),
      column(ev, "partition"),
      column(ev, "instrument"),
      column(ev, "kind"),
      column(ev, "account"),
      column(ev, "timeUs"),
      // JSON texts joined into one JSON array: json_array_elements gives them back in order.
      `[${ev.map((r) => r.detail).join(",")}]`,
    ]);
  const t = writes.trades;
  if (t.length > 0)
    await tx.query(INSERT_TRADES, [
      column(t, "commandSeq"),
      column(t, "index"),
      column(t, "tradeId"),
      column(t, "streamSeq"),
      column(t, "partition"),
      column(t, "instrument"),
      column(t, "price"),
      column(t, "qty"),
      column(t, "aggressorSide"),
      column(t, "makerOrderId"),
      column(t, "makerAccount"),
      column(t, "takerOrderId"),
      column(t, "takerAccount"),
      column(t, "timeUs"),
    ]);
  const x = writes.executions;
  if (x.length > 0)
    await tx.query(INSERT_EXECUTIONS_AND_POSITIONS, [
      column(x, "commandSeq"),
      column(x, "index"),
      column(x, "role"),
      column(x, "account"),
      column(x, "orderId"),
      column(x, "instrument"),
      column(x, "side"),
      column(x, "price"),
      column(x, "qty"),
      column(x, "leavesQty"),
      column(x, "timeUs"),
    ]);
  const o: readonly OrderUpdate[] = writes.orders;
  if (o.length > 0)
    await tx.query(UPSERT_ORDERS, [
      column(o, "orderId"),
      column(o, "partition"),
      column(o, "instrument"),
      column(o, "account"),
      column(o, "clientOrderId"),
      column(o, "side"),
      column(o, "orderType"),
      column(o, "timeInForce"),
      column(o, "price"),
      column(o, "stopPrice"),
      column(o, "qty"),
      column(o, "leavesQty"),
      column(o, "status"),
      column(o, "acceptedCommandSeq"),
      column(o, "lastCommandSeq"),
      column(o, "lastIndex"),
      column(o, "timeUs"),
      ...GROUPS.flatMap((g) => [
        arrayLiteral(o.map((u) => u.keys?.[g]?.[0])),
        arrayLiteral(o.map((u) => u.keys?.[g]?.[1])),
      ]),
    ]);
  for (const d of writes.deadLetters)
    await tx.query(INSERT_DEAD_LETTER, [d.streamSeq, d.position, d.subject, d.reason, d.detail, d.data ?? null]);
  if (writes.resumeAfter <= 0) return;
  if (from === undefined) {
    await tx.query(SAVE_POSITION, [projector, writes.resumeAfter]);
    return;
  }
  let moved = await tx.query(MOVE_POSITION, [projector, writes.resumeAfter, from]);
  if (moved.length === 0 && from === 0) moved = await tx.query(FIRST_POSITION, [projector, writes.resumeAfter]);
  if (moved.length === 0)
    throw new PositionMovedError(`the resume position of ${projector} moved from ${from} under the projector`);
}
