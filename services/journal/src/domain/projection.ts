import {
  EngineEvent,
  eventSubjectPartition,
  isInstrumentSymbol,
  Side,
  UNROUTED_INSTRUMENT,
  orderTypeToJSON,
  sideToJSON,
  timeInForceToJSON,
  type Timestamp,
} from "@tradeplane/contracts";
import {
  ORDER_FIELD_GROUPS,
  type DeadLetterReason,
  type DeadLetterRow,
  type EventKey,
  type EventKindName,
  type ExecutionRow,
  type JournalWrites,
  type OrderEventRow,
  type OrderFieldGroup,
  type OrderUpdate,
  type TradeRow,
} from "./rows.ts";

/** Longest account name or client order id the journal stores (the gateway allows far less). */
export const MAX_TEXT_LENGTH = 256;

/**
 * One message of the event stream as the adapter read it: its stream sequence and subject,
 * and its events, or why its bytes did not decode.
 */
export type StreamMessage =
  | { readonly seq: number; readonly subject: string; readonly events: readonly EngineEvent[] }
  | { readonly seq: number; readonly subject: string; readonly undecodable: string; readonly data: Uint8Array };

/** An event that cannot be journaled, and why. */
class Refusal {
  readonly reason: DeadLetterReason;
  readonly detail: string;
  constructor(reason: DeadLetterReason, detail: string) {
    this.reason = reason;
    this.detail = detail;
  }
}

/**
 * The rows a batch of event-stream messages writes. Pure: the same messages give the same
 * rows, so a replayed batch writes rows that already exist, which the store ignores.
 *
 * Messages of different partitions interleave in the stream, and a publish retried during a
 * NATS failure may store a few of one partition's events out of order, so nothing here relies
 * on the order of messages: rows are keyed by (commandSeq, index), and an order's updates are
 * merged in (commandSeq, index) order, the order the engine produced them in.
 * Book deltas are market data (the L2 book is rebuilt by market-data) and are not journaled.
 */
export function projectBatch(messages: readonly StreamMessage[]): JournalWrites {
  const batch = new BatchProjection();
  for (const m of messages) batch.add(m);
  return batch.writes();
}

/**
 * projectBatch one message at a time: the projector projects each message as it arrives,
 * while the previous batch is being written, and merges the orders' updates when it writes.
 */
export class BatchProjection {
  readonly orderEvents: OrderEventRow[] = [];
  readonly trades: TradeRow[] = [];
  readonly executions: ExecutionRow[] = [];
  readonly deadLetters: DeadLetterRow[] = [];
  private readonly updates: OrderUpdate[] = [];
  resumeAfter = 0;
  /** Messages added. */
  messages = 0;

  add(m: StreamMessage): void {
    this.messages++;
    this.resumeAfter = Math.max(this.resumeAfter, m.seq);
    const letter = (position: number, reason: DeadLetterReason, detail: string, data?: Uint8Array): void => {
      this.deadLetters.push({ streamSeq: m.seq, position, subject: m.subject, reason, detail, data });
    };
    if ("undecodable" in m) {
      letter(-1, "UNDECODABLE", m.undecodable, m.data);
      return;
    }
    const partition = eventSubjectPartition(m.subject);
    if (partition === undefined) {
      letter(-1, "BAD_SUBJECT", `not an event subject (tp.<venue>.evt.<partition>.<instrument>): ${m.subject}`);
      return;
    }
    m.events.forEach((event, position) => {
      try {
        projectEvent(event, m.seq, partition, this, this.updates);
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        letter(position, err.reason, err.detail);
      }
    });
  }

  /** Everything the messages added write, each order's updates merged into one. */
  writes(): JournalWrites {
    return {
      orderEvents: this.orderEvents,
      trades: this.trades,
      executions: this.executions,
      deadLetters: this.deadLetters,
      orders: mergeOrderUpdates(this.updates),
      resumeAfter: this.resumeAfter,
    };
  }
}

type Out = Pick<JournalWrites, "orderEvents" | "trades" | "executions">;

function projectEvent(e: EngineEvent, streamSeq: number, partition: number, out: Out, updates: OrderUpdate[]): void {
  const commandSeq = e.commandSeq;
  const index = e.index;
  if (!Number.isSafeInteger(commandSeq) || commandSeq < 1 || !Number.isInteger(index) || index < 0)
    throw new Refusal("BAD_KEY", `bad event key (commandSeq ${commandSeq}, index ${index})`);
  const body = e.body;
  if (body === undefined) throw new Refusal("MISSING_BODY", `event ${commandSeq}/${index} has no body`);
  if (body.$case === "bookDelta") return;
  const instrument = e.instrument;
  if (instrument !== UNROUTED_INSTRUMENT && instrument !== "" && !isInstrumentSymbol(instrument))
    throw new Refusal(
      "BAD_FIELD",
      `event ${commandSeq}/${index}: bad instrument ${JSON.stringify(instrument.slice(0, 40))}`,
    );
  const timeUs = microsOf(e.timestamp, commandSeq, index);
  const detail = JSON.stringify(EngineEvent.toJSON(e));
  const base = { commandSeq, index, streamSeq, partition, instrument, timeUs, detail };
  const key = { lastCommandSeq: commandSeq, lastIndex: index, partition, instrument, timeUs };
  const row = (kind: EventKindName, orderId: number, account: string): void => {
    out.orderEvents.push({ ...base, kind, orderId, account: text(account, "account", e) });
  };
  switch (body.$case) {
    case "accepted": {
      const a = body.value;
      // Every field is checked before the first row, so a refused event writes nothing.
      const orderId = id(a.orderId, "order id", e);
      const qty = positive(a.qty, "qty", e);
      const clientOrderId = text(a.clientOrderId, "client order id", e);
      row("accepted", orderId, a.account);
      updates.push({
        ...key,
        orderId,
        account: a.account,
        clientOrderId,
        side: sideToJSON(a.side),
        orderType: orderTypeToJSON(a.orderType),
        timeInForce: timeInForceToJSON(a.timeInForce),
        price: a.price,
        stopPrice: a.stopPrice,
        qty,
        leavesQty: a.qty,
        status: "NEW",
        acceptedCommandSeq: commandSeq,
      });
      return;
    }
    case "rejected":
      row("rejected", body.value.orderId, body.value.account);
      return;
    case "trade": {
      const t = body.value;
      const qty = positive(t.qty, "qty", e);
      const makerOrderId = id(t.makerOrderId, "maker order id", e);
      const takerOrderId = id(t.takerOrderId, "taker order id", e);
      if (t.aggressorSide !== Side.BUY && t.aggressorSide !== Side.SELL)
        throw new Refusal("BAD_FIELD", `event ${commandSeq}/${index}: bad aggressor side ${t.aggressorSide}`);
      const takerSide = t.aggressorSide === Side.BUY ? "BUY" : "SELL";
      const makerSide = takerSide === "BUY" ? "SELL" : "BUY";
      text(t.makerAccount, "maker account", e);
      text(t.takerAccount, "taker account", e);
      row("trade", makerOrderId, t.makerAccount);
      row("trade", takerOrderId, t.takerAccount);
      out.trades.push({
        commandSeq,
        index,
        tradeId: t.tradeId,
        streamSeq,
        partition,
        instrument,
        price: t.price,
        qty,
        aggressorSide: takerSide,
        makerOrderId,
        makerAccount: t.makerAccount,
        takerOrderId,
        takerAccount: t.takerAccount,
        timeUs,
      });
      const exec = { commandSeq, index, instrument, price: t.price, qty, timeUs };
      out.executions.push(
        {
          ...exec,
          role: "maker",
          account: t.makerAccount,
          orderId: makerOrderId,
          side: makerSide,
          leavesQty: t.makerLeavesQty,
        },
        {
          ...exec,
          role: "taker",
          account: t.takerAccount,
          orderId: takerOrderId,
          side: takerSide,
          leavesQty: t.takerLeavesQty,
        },
      );
      updates.push(
        {
          ...key,
          orderId: makerOrderId,
          leavesQty: t.makerLeavesQty,
          status: t.makerLeavesQty > 0 ? "PARTIALLY_FILLED" : "FILLED",
        },
        {
          ...key,
          orderId: takerOrderId,
          leavesQty: t.takerLeavesQty,
          status: t.takerLeavesQty > 0 ? "PARTIALLY_FILLED" : "FILLED",
        },
      );
      return;
    }
    case "cancelled": {
      const orderId = id(body.value.orderId, "order id", e);
      row("cancelled", orderId, body.value.account);
      updates.push({ ...key, orderId, leavesQty: 0, status: "CANCELLED" });
      return;
    }
    case "expired": {
      const orderId = id(body.value.orderId, "order id", e);
      row("expired", orderId, body.value.account);
      updates.push({ ...key, orderId, leavesQty: 0, status: "EXPIRED" });
      return;
    }
    case "replaced": {
      const r = body.value;
      const orderId = id(r.orderId, "order id", e);
      const qty = positive(r.qty, "qty", e);
      const clientOrderId = text(r.clientOrderId, "client order id", e);
      row("replaced", orderId, r.account);
      updates.push({
        ...key,
        orderId,
        clientOrderId,
        price: r.price,
        stopPrice: r.stopPrice,
        qty,
        leavesQty: r.leavesQty,
      });
      return;
    }
    case "triggered": {
      const t = body.value;
      const orderId = id(t.orderId, "order id", e);
      row("triggered", orderId, t.account);
      updates.push({ ...key, orderId, orderType: orderTypeToJSON(t.orderType), price: t.price });
      return;
    }
    case "instrumentStateChanged":
      row("instrumentStateChanged", 0, "");
      return;
    case "massCancelCompleted":
      row("massCancelCompleted", 0, body.value.account);
      return;
    // ADR 0003: a change of an account's owner (fence) or kill-switch block, for the audit trail.
    case "accountFenced":
      row("accountFenced", 0, body.value.account);
      return;
    case "accountBlockChanged":
      row("accountBlockChanged", 0, body.value.account);
      return;
    default: {
      const unknown: { $case: string } = body;
      throw new Refusal("UNKNOWN_KIND", `event ${commandSeq}/${index}: unknown kind ${unknown.$case}`);
    }
  }
}

function microsOf(ts: Timestamp | undefined, commandSeq: number, index: number): number {
  if (ts === undefined) throw new Refusal("BAD_FIELD", `event ${commandSeq}/${index} has no timestamp`);
  const us = ts.seconds * 1_000_000 + Math.floor(ts.nanos / 1000);
  if (!Number.isSafeInteger(us) || us < 0)
    throw new Refusal("BAD_FIELD", `event ${commandSeq}/${index}: bad timestamp ${ts.seconds}s ${ts.nanos}ns`);
  return us;
}

function id(value: number, what: string, e: EngineEvent): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Refusal("BAD_FIELD", `event ${e.commandSeq}/${e.index}: bad ${what} ${value}`);
  return value;
}

function positive(value: number, what: string, e: EngineEvent): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Refusal("BAD_FIELD", `event ${e.commandSeq}/${e.index}: bad ${what} ${value}`);
  return value;
}

function text(value: string, what: string, e: EngineEvent): string {
  if (value.length > MAX_TEXT_LENGTH)
    throw new Refusal("BAD_FIELD", `event ${e.commandSeq}/${e.index}: ${what} longer than ${MAX_TEXT_LENGTH}`);
  return value;
}

/** (commandSeq, index) order. */
export function compareKeys(a: OrderUpdate, b: OrderUpdate): number {
  return a.lastCommandSeq - b.lastCommandSeq || a.lastIndex - b.lastIndex;
}

/** Fields where the newest event's value wins. */
const LATEST_FIELDS = [
  "clientOrderId",
  "orderType",
  "price",
  "stopPrice",
  "qty",
  "leavesQty",
  "status",
] as const satisfies readonly (keyof OrderUpdate)[];
/** Fields no event changes: the first value learnt stays. */
const FIRST_FIELDS = [
  "account",
  "side",
  "timeInForce",
  "acceptedCommandSeq",
] as const satisfies readonly (keyof OrderUpdate)[];
const GROUP_FIRST_FIELDS = Object.entries(ORDER_FIELD_GROUPS).map(
  ([group, fields]) => [group as OrderFieldGroup, fields[0] as keyof OrderUpdate] as const,
);

type Merged = { -readonly [K in keyof OrderUpdate]: OrderUpdate[K] } & {
  keys: Partial<Record<OrderFieldGroup, EventKey>>;
};

/**
 * One update per order (a statement may touch a row once), folded in event order: later
 * events' fields win, except the terms no event changes (account, side, time in force,
 * acceptance), which keep the first value; `keys` records the event that set each group.
 * Field by field into one object per order: this runs for every event the journal writes.
 */
export function mergeOrderUpdates(updates: readonly OrderUpdate[]): OrderUpdate[] {
  const merged = new Map<number, Merged>();
  const sorted = updates.length > 1 ? [...updates].sort(compareKeys) : updates;
  for (const u of sorted) {
    let m = merged.get(u.orderId);
    if (m === undefined) {
      m = { orderId: u.orderId, lastCommandSeq: 0, lastIndex: 0, partition: 0, instrument: "", timeUs: 0, keys: {} };
      merged.set(u.orderId, m);
    }
    m.lastCommandSeq = u.lastCommandSeq;
    m.lastIndex = u.lastIndex;
    m.partition = u.partition;
    m.instrument = u.instrument;
    m.timeUs = u.timeUs;
    const target = m as Record<string, unknown>;
    const source = u as unknown as Record<string, unknown>;
    for (const f of LATEST_FIELDS) if (source[f] !== undefined) target[f] = source[f];
    for (const f of FIRST_FIELDS) if (target[f] === undefined && source[f] !== undefined) target[f] = source[f];
    for (const [group, field] of GROUP_FIRST_FIELDS)
      if (source[field] !== undefined) m.keys[group] = [u.lastCommandSeq, u.lastIndex];
  }
  return [...merged.values()];
}
