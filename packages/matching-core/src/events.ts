import { EventKind } from "./constants.ts";

/**
 * The engine's reusable output: struct-of-arrays typed arrays, rewritten by every command and
 * valid until the next one. Event `i` of the current command has message id (`seq`, `i`).
 *
 * Fields by kind (others hold stale values and must not be read):
 *  ACCEPTED       orderId instrument side price qty account   (price: limit, protection or 0)
 *  REJECTED       orderId instrument reason                   (instrument -1 when unknown)
 *  TRADE          takerOrderId(=orderId) makerOrderId instrument side(taker) price qty
 *                 takerLeaves(=leaves) makerLeaves
 *  CANCELLED      orderId instrument side price qty(removed) leaves(after) reason account
 *  REPLACED       orderId instrument side price qty(new total) leaves account
 *  TRIGGERED      orderId instrument side price(stop price) qty(leaves) account
 *  EXPIRED        orderId instrument side price qty(removed) leaves(0) reason(EXPIRY) account
 *  STATE_CHANGED  instrument state
 *  BOOK_DELTA     instrument side price qty(new visible aggregate at that level; 0 = level gone)
 *  ACCOUNT_FENCED         account price(the account's fence after the command) instrument(-1)
 *  ACCOUNT_BLOCK_CHANGED  account(-1 = every account) state(1 blocked, 0 not) instrument(-1)
 */
export class EventBuffer {
  /** Number of events of the last command. */
  count = 0;
  /** Sequence number of the last command: every event in the buffer carries it. */
  seq = 0;
  capacity: number;
  kind: Uint8Array;
  side: Uint8Array;
  reason: Uint8Array;
  state: Uint8Array;
  instrument: Int32Array;
  account: Int32Array;
  orderId: Float64Array;
  price: Float64Array;
  qty: Float64Array;
  leaves: Float64Array;
  makerOrderId: Float64Array;
  makerLeaves: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.kind = new Uint8Array(capacity);
    this.side = new Uint8Array(capacity);
    this.reason = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.instrument = new Int32Array(capacity);
    this.account = new Int32Array(capacity);
    this.orderId = new Float64Array(capacity);
    this.price = new Float64Array(capacity);
    this.qty = new Float64Array(capacity);
    this.leaves = new Float64Array(capacity);
    this.makerOrderId = new Float64Array(capacity);
    this.makerLeaves = new Float64Array(capacity);
  }

  /** For TRADE events: the incoming order (same array as orderId). */
  get takerOrderId(): Float64Array {
    return this.orderId;
  }

  /** For TRADE events: the incoming order's leaves (same array as leaves). */
  get takerLeaves(): Float64Array {
    return this.leaves;
  }

  /** Index of an event within its command: simply its position in the buffer. */
  index(i: number): number {
    return i;
  }

  /** Doubles every array, keeping the events written so far. Allocation: only when a command outgrows the buffer. */
  grow(): void {
    const cap = this.capacity * 2;
    const g8 = (a: Uint8Array) => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    const g32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    const g64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.kind = g8(this.kind);
    this.side = g8(this.side);
    this.reason = g8(this.reason);
    this.state = g8(this.state);
    this.instrument = g32(this.instrument);
    this.account = g32(this.account);
    this.orderId = g64(this.orderId);
    this.price = g64(this.price);
    this.qty = g64(this.qty);
    this.leaves = g64(this.leaves);
    this.makerOrderId = g64(this.makerOrderId);
    this.makerLeaves = g64(this.makerLeaves);
    this.capacity = cap;
  }
}

interface EventBase {
  readonly seq: number;
  readonly index: number;
}
export interface AcceptedEvent extends EventBase {
  readonly kind: typeof EventKind.ACCEPTED;
  readonly orderId: number;
  readonly instrument: number;
  readonly side: number;
  readonly price: number;
  readonly qty: number;
  readonly account: number;
}
export interface RejectedEvent extends EventBase {
  readonly kind: typeof EventKind.REJECTED;
  readonly orderId: number;
  readonly instrument: number;
  readonly reason: number;
}
export interface TradeEvent extends EventBase {
  readonly kind: typeof EventKind.TRADE;
  readonly instrument: number;
  readonly side: number;
  readonly price: number;
  readonly qty: number;
  readonly makerOrderId: number;
  readonly takerOrderId: number;
  readonly makerLeaves: number;
  readonly takerLeaves: number;
}
export interface OrderEndEvent extends EventBase {
  readonly kind: typeof EventKind.CANCELLED | typeof EventKind.EXPIRED;
  readonly orderId: number;
  readonly instrument: number;
  readonly side: number;
  readonly price: number;
  readonly qty: number;
  readonly leaves: number;
  readonly reason: number;
  readonly account: number;
}
export interface ReplacedEvent extends EventBase {
  readonly kind: typeof EventKind.REPLACED;
  readonly orderId: number;
  readonly instrument: number;
  readonly side: number;
  readonly price: number;
  readonly qty: number;
  readonly leaves: number;
  readonly account: number;
}
export interface TriggeredEvent extends EventBase {
  readonly kind: typeof EventKind.TRIGGERED;
  readonly orderId: number;
  readonly instrument: number;
  readonly side: number;
  readonly price: number;
  readonly qty: number;
  readonly account: number;
}
export interface StateChangedEvent extends EventBase {
  readonly kind: typeof EventKind.STATE_CHANGED;
  readonly instrument: number;
  readonly state: number;
}
export interface BookDeltaEvent extends EventBase {
  readonly kind: typeof EventKind.BOOK_DELTA;
  readonly instrument: number;
  readonly side: number;
  readonly price: number;
  readonly qty: number;
}
export interface AccountFencedEvent extends EventBase {
  readonly kind: typeof EventKind.ACCOUNT_FENCED;
  readonly account: number;
  readonly epoch: number;
}
export interface AccountBlockChangedEvent extends EventBase {
  readonly kind: typeof EventKind.ACCOUNT_BLOCK_CHANGED;
  /** -1: the venue's switch. */
  readonly account: number;
  readonly blocked: boolean;
}
export type EngineEvent =
  | AcceptedEvent
  | RejectedEvent
  | TradeEvent
  | OrderEndEvent
  | ReplacedEvent
  | TriggeredEvent
  | StateChangedEvent
  | BookDeltaEvent
  | AccountFencedEvent
  | AccountBlockChangedEvent;

/** Copies event `i` of the buffer into a plain object holding only the fields of its kind. */
export function eventAt(b: EventBuffer, i: number): EngineEvent {
  const seq = b.seq;
  const kind = b.kind[i]!;
  switch (kind) {
    case EventKind.ACCEPTED:
      return {
        kind,
        seq,
        index: i,
        orderId: b.orderId[i]!,
        instrument: b.instrument[i]!,
        side: b.side[i]!,
        price: b.price[i]!,
        qty: b.qty[i]!,
        account: b.account[i]!,
      };
    case EventKind.REJECTED:
      return { kind, seq, index: i, orderId: b.orderId[i]!, instrument: b.instrument[i]!, reason: b.reason[i]! };
    case EventKind.TRADE:
      return {
        kind,
        seq,
        index: i,
        instrument: b.instrument[i]!,
        side: b.side[i]!,
        price: b.price[i]!,
        qty: b.qty[i]!,
        makerOrderId: b.makerOrderId[i]!,
        takerOrderId: b.orderId[i]!,
        makerLeaves: b.makerLeaves[i]!,
        takerLeaves: b.leaves[i]!,
      };
    case EventKind.CANCELLED:
    case EventKind.EXPIRED:
      return {
        kind,
        seq,
        index: i,
        orderId: b.orderId[i]!,
        instrument: b.instrument[i]!,
        side: b.side[i]!,
        price: b.price[i]!,
        qty: b.qty[i]!,
        leaves: b.leaves[i]!,
        reason: b.reason[i]!,
        account: b.account[i]!,
      };
    case EventKind.REPLACED:
      return {
        kind,
        seq,
        index: i,
        orderId: b.orderId[i]!,
        instrument: b.instrument[i]!,
        side: b.side[i]!,
        price: b.price[i]!,
        qty: b.qty[i]!,
        leaves: b.leaves[i]!,
        account: b.account[i]!,
      };
    case EventKind.TRIGGERED:
      return {
        kind,
        seq,
        index: i,
        orderId: b.orderId[i]!,
        instrument: b.instrument[i]!,
        side: b.side[i]!,
        price: b.price[i]!,
        qty: b.qty[i]!,
        account: b.account[i]!,
      };
    case EventKind.STATE_CHANGED:
      return { kind, seq, index: i, instrument: b.instrument[i]!, state: b.state[i]! };
    case EventKind.ACCOUNT_FENCED:
      return { kind, seq, index: i, account: b.account[i]!, epoch: b.price[i]! };
    case EventKind.ACCOUNT_BLOCK_CHANGED:
      return { kind, seq, index: i, account: b.account[i]!, blocked: b.state[i] === 1 };
    default:
      return {
        kind: EventKind.BOOK_DELTA,
        seq,
        index: i,
        instrument: b.instrument[i]!,
        side: b.side[i]!,
        price: b.price[i]!,
        qty: b.qty[i]!,
      };
  }
}

/** Copies the whole buffer into plain objects (allocates: for tests and the service, not the hot path). */
export function readEventBuffer(b: EventBuffer): EngineEvent[] {
  const out: EngineEvent[] = [];
  for (let i = 0; i < b.count; i++) out.push(eventAt(b, i));
  return out;
}
