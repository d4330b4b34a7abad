import type { StoredOrderEvent } from "../domain/audit-trail.ts";
import type { ClearingExecution } from "../domain/clearing.ts";
import type { OrderMessageCounts } from "../domain/order-to-trade.ts";
import type { ExecutionsQuery, RegisterPage } from "../domain/report-queries.ts";
import type { SqlExecutor } from "./sql-store.ts";

/**
 * The SQL of the JournalQuery service, all of it: each function takes a checked query (see
 * domain/report-queries.ts) and returns plain rows; the aggregation that is not a sum (netting,
 * ratios, the position effect of an event) is done by the pure domain modules.
 * Time ranges are [fromUs, toUs) in microseconds since the epoch.
 */

export interface ExecutionRowOut {
  readonly commandSeq: number;
  readonly index: number;
  readonly role: "maker" | "taker";
  readonly account: string;
  readonly orderId: number;
  readonly instrument: string;
  readonly side: "BUY" | "SELL";
  readonly price: number;
  readonly qty: number;
  readonly timeUs: number;
}

/** Executions matching the query after its page key, oldest first; `more` when rows are left. */
export async function listExecutions(
  db: SqlExecutor,
  q: ExecutionsQuery,
): Promise<{ rows: ExecutionRowOut[]; more: boolean }> {
  const rows = await db.query<ExecutionRowOut>(
    `SELECT command_seq "commandSeq", idx "index", role, account, order_id "orderId", instrument, side, price, qty,
       time_us "timeUs"
     FROM executions
     WHERE ($1 = '' OR account = $1) AND ($2 = '' OR instrument = $2) AND time_us >= $3 AND time_us < $4
       AND (command_seq, idx, role) > ($5, $6, $7)
     ORDER BY command_seq, idx, role LIMIT $8`,
    [q.account, q.instrument, q.fromUs, q.toUs, q.after.commandSeq, q.after.index, q.after.role, q.limit + 1],
  );
  return { rows: rows.slice(0, q.limit), more: rows.length > q.limit };
}

/** Every stored event of one order, in the order the engine produced them. */
export function orderEvents(db: SqlExecutor, orderId: number): Promise<StoredOrderEvent[]> {
  return db.query<StoredOrderEvent>(
    `SELECT command_seq "commandSeq", idx "index", stream_seq "streamSeq", kind, account, instrument, time_us "timeUs",
       detail
     FROM order_events WHERE order_id = $1 ORDER BY command_seq, idx`,
    [orderId],
  );
}

/**
 * Per account, its order messages in the range (acceptances, replaces, cancellations it asked
 * for) and its executions. A trade's order_events rows are not counted: executions are.
 */
export async function orderMessageCounts(
  db: SqlExecutor,
  fromUs: number,
  toUs: number,
  account: string,
): Promise<OrderMessageCounts[]> {
  return db.query<OrderMessageCounts>(
    `WITH messages AS (
       SELECT account,
         count(*) FILTER (WHERE kind = 'accepted')::int8 entries,
         count(*) FILTER (WHERE kind = 'replaced')::int8 modifications,
         count(*) FILTER (WHERE kind = 'cancelled'
           AND detail->'cancelled'->>'reason' = 'CANCEL_REASON_CLIENT_REQUEST')::int8 cancellations
       FROM order_events
       WHERE time_us >= $1 AND time_us < $2 AND kind IN ('accepted', 'replaced', 'cancelled') AND ($3 = '' OR account = $3)
       GROUP BY account
     ), fills AS (
       SELECT account, count(*)::int8 trades FROM executions
       WHERE time_us >= $1 AND time_us < $2 AND ($3 = '' OR account = $3)
       GROUP BY account
     )
     SELECT m.account, m.entries, m.modifications, m.cancellations, coalesce(f.trades, 0)::int8 trades
     FROM messages m LEFT JOIN fills f ON f.account = m.account`,
    [fromUs, toUs, account],
  );
}

export interface RegisterRow {
  readonly commandSeq: number;
  readonly index: number;
  readonly tradeId: number;
  readonly instrument: string;
  readonly price: number;
  readonly qty: number;
  readonly aggressorSide: "BUY" | "SELL";
  readonly makerOrderId: number;
  readonly makerAccount: string;
  readonly takerOrderId: number;
  readonly takerAccount: string;
  readonly timeUs: number;
}

/**
 * The trades of a range after a page key, in engine order. The range's rows are read first
 * through trades_by_time, then sorted: left to itself the planner walks the primary key in
 * engine order and filters on time, expecting the day's trades spread evenly over the table;
 * they are together, after every earlier day, so the first page would read all of history.
 */
export async function registerTrades(
  db: SqlExecutor,
  fromUs: number,
  toUs: number,
  page: RegisterPage,
): Promise<{ rows: RegisterRow[]; more: boolean }> {
  const rows = await db.query<RegisterRow>(
    `WITH of_day AS MATERIALIZED (
       SELECT * FROM trades WHERE time_us >= $1 AND time_us < $2 AND (command_seq, idx) > ($3, $4)
     )
     SELECT command_seq "commandSeq", idx "index", trade_id "tradeId", instrument, price, qty,
       aggressor_side "aggressorSide", maker_order_id "makerOrderId", maker_account "makerAccount",
       taker_order_id "takerOrderId", taker_account "takerAccount", time_us "timeUs"
     FROM of_day ORDER BY command_seq, idx LIMIT $5`,
    [fromUs, toUs, page.afterCommandSeq, page.afterIndex, page.limit + 1],
  );
  return { rows: rows.slice(0, page.limit), more: rows.length > page.limit };
}

/** A range's executions summed per price, with the notional per tick and lot they are valued with. */
export interface PricedExecution extends ClearingExecution {
  /** From the instrument's terms in force at the executions' time; null when none were recorded. */
  readonly unit: number | null;
}

/**
 * A range's executions summed per account, instrument, side, price and the instrument terms in
 * force at their time (instrument_terms, each row valid until the next of its instrument): what
 * netting needs, in far fewer rows than the executions (values are multiplied out exactly in
 * BigInt later).
 */
export function executionsByPrice(
  db: SqlExecutor,
  fromUs: number,
  toUs: number,
  account: string,
): Promise<PricedExecution[]> {
  return db.query<PricedExecution>(
    `WITH terms AS (
       SELECT instrument, notional_per_tick_lot unit, valid_from_us,
         coalesce(lead(valid_from_us) OVER (PARTITION BY instrument ORDER BY valid_from_us),
           9223372036854775807) valid_to_us
       FROM instrument_terms
     )
     SELECT e.account, e.instrument, e.side, e.price, sum(e.qty)::int8 qty, t.unit
     FROM executions e LEFT JOIN terms t
       ON t.instrument = e.instrument AND e.time_us >= t.valid_from_us AND e.time_us < t.valid_to_us
     WHERE e.time_us >= $1 AND e.time_us < $2 AND ($3 = '' OR e.account = $3)
     GROUP BY e.account, e.instrument, e.side, e.price, t.unit`,
    [fromUs, toUs, account],
  );
}
