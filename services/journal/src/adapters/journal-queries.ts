import { checkOrderId, checkTradesQuery, type QueryRefusal, type TradesQuery } from "../domain/queries.ts";
import type { SqlExecutor } from "./sql-store.ts";

/** A query the journal refused, with its reason code. */
export class QueryRefusedError extends Error {
  override readonly name = "QueryRefusedError";
  readonly reason: QueryRefusal["reason"];
  constructor(refusal: QueryRefusal) {
    super(refusal.message);
    this.reason = refusal.reason;
  }
}

export interface AccountTrade {
  readonly commandSeq: number;
  readonly index: number;
  readonly instrument: string;
  readonly orderId: number;
  readonly side: string;
  readonly role: string;
  readonly price: number;
  readonly qty: number;
  readonly timeUs: number;
}

/** One event of an order's audit trail, with the log positions that caused and hold it. */
export interface AuditEntry {
  readonly commandSeq: number;
  readonly index: number;
  /** The command log entry (stream sequence of <VENUE>_CMD) of the command: commandSeq / 1000. */
  readonly logEntry: number;
  /** Where the event is stored in <VENUE>_EVT. */
  readonly streamSeq: number;
  readonly kind: string;
  readonly account: string;
  readonly timeUs: number;
  readonly event: unknown;
}

/**
 * An account's trades (its executions), oldest first, within an instrument and a time range.
 * Only the account's own side of each trade: a caller learns nothing about the counterparty.
 */
export async function tradesOfAccount(db: SqlExecutor, query: TradesQuery): Promise<AccountTrade[]> {
  const checked = checkTradesQuery(query);
  if (!checked.ok) throw new QueryRefusedError(checked.refusal);
  const q = checked.value;
  return db.query<AccountTrade>(
    `SELECT command_seq "commandSeq", idx "index", instrument, order_id "orderId", side, role, price, qty, time_us "timeUs"
     FROM executions
     WHERE account = $1 AND ($2 = '' OR instrument = $2) AND time_us >= $3 AND time_us < $4
     ORDER BY command_seq, idx LIMIT $5`,
    [q.account, q.instrument, q.fromUs, q.toUs, q.limit],
  );
}

/** Every event of one order, in the order the engine produced them. */
export async function auditTrail(db: SqlExecutor, orderId: number): Promise<AuditEntry[]> {
  const refusal = checkOrderId(orderId);
  if (refusal !== undefined) throw new QueryRefusedError(refusal);
  const rows = await db.query<Omit<AuditEntry, "logEntry" | "event"> & { detail: unknown }>(
    `SELECT command_seq "commandSeq", idx "index", stream_seq "streamSeq", kind, account, time_us "timeUs", detail
     FROM order_events WHERE order_id = $1 ORDER BY command_seq, idx`,
    [orderId],
  );
  return rows.map(({ detail, ...r }) => ({
    ...r,
    logEntry: Math.floor(r.commandSeq / 1000),
    event: typeof detail === "string" ? (JSON.parse(detail) as unknown) : detail,
  }));
}
