import { EngineEvent, Side } from "@tradeplane/contracts";

/**
 * An order's audit trail: each of its events with the position effect it had, the lots the
 * order bought (> 0) or sold (< 0) in it and its leaves quantity after it. Pure: the events
 * are the journal's order_events rows of one order, in (commandSeq, index) order, each with
 * the event as protobuf JSON.
 */

export interface StoredOrderEvent {
  readonly commandSeq: number;
  readonly index: number;
  readonly streamSeq: number;
  readonly kind: string;
  readonly account: string;
  readonly instrument: string;
  readonly timeUs: number;
  /** EngineEvent.toJSON of the event, as text or as parsed JSON. */
  readonly detail: unknown;
}

export interface AuditStep {
  readonly commandSeq: number;
  readonly index: number;
  /** The command log entry that held the command: commandSeq / 1000. */
  readonly logEntry: number;
  readonly streamSeq: number;
  readonly kind: string;
  readonly account: string;
  readonly timeUs: number;
  /** Lots bought (> 0) or sold (< 0) by the order in this event: trades only. */
  readonly filledQty: number;
  /** The order's leaves quantity after the event. */
  readonly leavesQty: number;
  readonly eventJson: string;
}

/** Commands per log entry: a command's sequence is entry x 1000 + its place in the entry. */
const COMMANDS_PER_ENTRY = 1000;

/** The steps of one order's trail; events that do not parse keep the leaves they found. */
export function auditSteps(orderId: number, events: readonly StoredOrderEvent[]): AuditStep[] {
  let sign = 0;
  let leaves = 0;
  return events.map((row) => {
    const json = typeof row.detail === "string" ? row.detail : JSON.stringify(row.detail);
    let filled = 0;
    let body: EngineEvent["body"];
    try {
      body = EngineEvent.fromJSON(JSON.parse(json)).body;
    } catch {
      body = undefined;
    }
    switch (body?.$case) {
      case "accepted":
        sign = body.value.side === Side.SELL ? -1 : 1;
        leaves = body.value.qty;
        break;
      case "trade": {
        const t = body.value;
        const maker = t.makerOrderId === orderId;
        if (sign === 0) sign = (t.aggressorSide === Side.BUY) === maker ? -1 : 1;
        filled = sign * t.qty;
        leaves = maker ? t.makerLeavesQty : t.takerLeavesQty;
        break;
      }
      case "replaced":
        leaves = body.value.leavesQty;
        break;
      case "cancelled":
      case "expired":
        leaves = 0;
        break;
      default:
        break;
    }
    return {
      commandSeq: row.commandSeq,
      index: row.index,
      logEntry: Math.floor(row.commandSeq / COMMANDS_PER_ENTRY),
      streamSeq: row.streamSeq,
      kind: row.kind,
      account: row.account,
      timeUs: row.timeUs,
      filledQty: filled,
      leavesQty: leaves,
      eventJson: json,
    };
  });
}
