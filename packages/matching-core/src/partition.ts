import { createHash } from "node:crypto";
import {
  CancelReason as WireCancelReason,
  type Command,
  type EngineEvent as WireEvent,
  InstrumentState as WireState,
  type LevelChange,
  type NewOrderCommand,
  OrderType as WireOrderType,
  RejectReason as WireReject,
  RequestKind,
  Side as WireSide,
  StpMode as WireStp,
  TimeInForce as WireTif,
  type Timestamp,
} from "@tradeplane/contracts";
import {
  CancelReason,
  EventKind,
  InstrumentState,
  OrderFlags,
  RejectReason,
  StpMode,
  TimeInForce,
} from "./constants.ts";
import type { EngineConfig } from "./config.ts";
import { createEngine, MatchingEngine, restoreEngine } from "./engine.ts";
import { drain, ORDERS_PER_STEP, snapshotSizeHint, type SnapshotSource } from "./engine-snapshot.ts";
import { createOrderExtras } from "./order-extras.ts";
import { ByteReader, ByteWriter, SnapshotError } from "./codec.ts";
import { OrderIdMap } from "./order-id-map.ts";

/**
 * One engine partition as the venue sees it: the numeric matching core plus the
 * deterministic tables that turn log commands (protobuf `Command`) into core calls and
 * core events into `EngineEvent`s: symbols to instrument indexes, account names interned
 * in log order, each live order's client order id and terms, per-instrument trade ids,
 * and engine time. Pure: its state is a function of the commands applied, and
 * `snapshot()` / `restorePartition()` carry all of it.
 *
 * Engine time is microseconds since the epoch (nanoseconds would pass 2^53): the largest
 * command timestamp applied so far, so a lagging writer never moves time backwards.
 */

/** What the partition keeps of a live order; never changed in place (see `captured`). */
interface OrderRef {
  readonly account: number;
  readonly clientOrderId: string;
  readonly side: number;
  readonly orderType: number;
  readonly tif: number;
  readonly price: number;
  readonly stopPrice: number;
  readonly qty: number;
}

export interface Extras {
  readonly accounts: string[];
  readonly states: number[];
  readonly tradeIds: number[];
  readonly timeUs: number;
  readonly refs: [number, OrderRef][];
}

const PARTITION_MAGIC = 0x54505053; // "TPPS"
/**
 * 2: the order refs in binary after the JSON tables (2026-12-02, with the command-log entries
 * of ADR 0002; a version 1 snapshot belongs to a log of the old format and is refused).
 */
const PARTITION_VERSION = 2;

const TIF_FROM_WIRE: Record<number, number> = {
  [WireTif.DAY]: TimeInForce.DAY,
  [WireTif.GTC]: TimeInForce.GTC,
  [WireTif.IOC]: TimeInForce.IOC,
  [WireTif.FOK]: TimeInForce.FOK,
  [WireTif.GTD]: TimeInForce.GTD,
};
const TIF_TO_WIRE: Record<number, WireTif> = Object.fromEntries(
  Object.entries(TIF_FROM_WIRE).map(([wire, core]) => [core, Number(wire) as WireTif]),
);

const STATE_FROM_WIRE: Record<number, number> = {
  [WireState.CLOSED]: InstrumentState.CLOSED,
  [WireState.PRE_OPEN]: InstrumentState.PRE_OPEN,
  [WireState.CONTINUOUS]: InstrumentState.CONTINUOUS,
  [WireState.HALTED]: InstrumentState.HALTED,
};
const STATE_TO_WIRE: Record<number, WireState> = Object.fromEntries(
  Object.entries(STATE_FROM_WIRE).map(([wire, core]) => [core, Number(wire) as WireState]),
);

/** The wire state of a core instrument state. */
export function wireStateOf(coreState: number): WireState {
  return STATE_TO_WIRE[coreState] ?? WireState.UNSPECIFIED;
}

/** NSE's rule (cancel the resting order) is the default; NONE is not offered (common.proto): -1 refuses it. */
const STP_FROM_WIRE: Record<number, number> = {
  [WireStp.UNSPECIFIED]: StpMode.CANCEL_RESTING,
  [WireStp.CANCEL_MAKER]: StpMode.CANCEL_RESTING,
  [WireStp.CANCEL_TAKER]: StpMode.CANCEL_INCOMING,
  [WireStp.CANCEL_BOTH]: StpMode.CANCEL_BOTH,
  [WireStp.DECREMENT]: StpMode.DECREMENT,
};

const REJECT_TO_WIRE: Record<number, WireReject> = {
  [RejectReason.INVALID_SEQUENCE]: WireReject.MALFORMED_COMMAND,
  [RejectReason.INVALID_TIME]: WireReject.MALFORMED_COMMAND,
  [RejectReason.INVALID_ORDER_ID]: WireReject.UNKNOWN_ORDER,
  [RejectReason.UNKNOWN_INSTRUMENT]: WireReject.UNKNOWN_INSTRUMENT,
  [RejectReason.INVALID_ACCOUNT]: WireReject.MALFORMED_COMMAND,
  [RejectReason.INVALID_COMMAND]: WireReject.UNSUPPORTED_ORDER,
  [RejectReason.INVALID_PRICE]: WireReject.INVALID_PRICE,
  [RejectReason.OFF_TICK]: WireReject.OFF_TICK,
  [RejectReason.INVALID_QTY]: WireReject.INVALID_QTY,
  [RejectReason.OFF_LOT]: WireReject.OFF_LOT,
  [RejectReason.QTY_OUT_OF_RANGE]: WireReject.QTY_OUT_OF_RANGE,
  [RejectReason.MAX_ORDER_VALUE]: WireReject.MAX_ORDER_VALUE,
  [RejectReason.OUTSIDE_PRICE_BAND]: WireReject.OUTSIDE_PRICE_BAND,
  [RejectReason.DUPLICATE_ORDER_ID]: WireReject.DUPLICATE_ORDER_ID,
  [RejectReason.UNKNOWN_ORDER]: WireReject.UNKNOWN_ORDER,
  [RejectReason.ORDER_FINISHED]: WireReject.ORDER_FINISHED,
  // Another account's order is reported as unknown: its existence is not the caller's business.
  [RejectReason.NOT_OWNER]: WireReject.UNKNOWN_ORDER,
  [RejectReason.POST_ONLY_WOULD_TAKE]: WireReject.POST_ONLY_WOULD_TAKE,
  [RejectReason.FOK_NOT_FILLABLE]: WireReject.FOK_NOT_FILLABLE,
  [RejectReason.INSTRUMENT_HALTED]: WireReject.INSTRUMENT_HALTED,
  [RejectReason.MARKET_CLOSED]: WireReject.MARKET_CLOSED,
  [RejectReason.ORDER_TYPE_NOT_ALLOWED]: WireReject.UNSUPPORTED_ORDER,
  [RejectReason.INVALID_DISPLAY_QTY]: WireReject.INVALID_DISPLAY_QTY,
  [RejectReason.INVALID_STOP_PRICE]: WireReject.INVALID_PRICE,
  [RejectReason.INVALID_EXPIRY]: WireReject.INVALID_EXPIRE_TIME,
  [RejectReason.INVALID_STATE_TRANSITION]: WireReject.INVALID_STATE_TRANSITION,
  [RejectReason.CAPACITY_EXCEEDED]: WireReject.CAPACITY_EXCEEDED,
  [RejectReason.SELF_TRADE]: WireReject.SELF_TRADE,
  [RejectReason.FENCED]: WireReject.FENCED,
  [RejectReason.KILL_SWITCH]: WireReject.KILL_SWITCH,
  [RejectReason.INVALID_EPOCH]: WireReject.MALFORMED_COMMAND,
};

/** Longest BlockAccountCommand.reason the partition takes (engine.proto). */
const MAX_BLOCK_REASON = 256;

const CANCEL_TO_WIRE: Record<number, WireCancelReason> = {
  [CancelReason.USER]: WireCancelReason.CLIENT_REQUEST,
  [CancelReason.IOC_REMAINDER]: WireCancelReason.UNFILLED_REMAINDER,
  [CancelReason.STP]: WireCancelReason.SELF_TRADE_PREVENTION,
  [CancelReason.HALT]: WireCancelReason.HALT,
  [CancelReason.MASS_CANCEL]: WireCancelReason.MASS_CANCEL,
  [CancelReason.KILL_SWITCH]: WireCancelReason.KILL_SWITCH,
};

const US_PER_S = 1_000_000;

/** Microseconds since the epoch of a Timestamp; NaN when absent or out of range. */
export function timestampToUs(ts: Timestamp | undefined): number {
  if (ts === undefined) return NaN;
  const us = ts.seconds * US_PER_S + Math.floor(ts.nanos / 1000);
  return Number.isSafeInteger(us) && us >= 0 && ts.nanos >= 0 && ts.nanos < 1e9 ? us : NaN;
}

export function usToTimestamp(us: number): Timestamp {
  const seconds = Math.floor(us / US_PER_S);
  return { seconds, nanos: (us - seconds * US_PER_S) * 1000 };
}

export interface PartitionSettings {
  /** The engine config; instrument order defines the instrument indexes. */
  readonly engine: EngineConfig;
}

/** Result of applying one log entry. */
export interface AppliedCommand {
  readonly seq: number;
  /** Number of core events; wire events are built lazily by `wireEvents()`. */
  readonly coreEvents: number;
  /** The command was refused as a whole (its first event is a rejection). */
  readonly rejected: boolean;
}

export class Partition {
  readonly engine: MatchingEngine;
  private readonly symbols: string[];
  private readonly symbolIndex = new Map<string, number>();
  private readonly accounts: string[] = [];
  private readonly accountIndex = new Map<string, number>();
  private readonly refs = new OrderIdMap<OrderRef>();
  private readonly states: number[];
  private readonly tradeIds: number[];
  private timeUs = 0;
  /** The last command, kept to build its wire events. */
  private readonly last: { seq: number; command: Command | undefined; decodeError: string | undefined } = {
    seq: 0,
    command: undefined,
    decodeError: undefined,
  };
  /** Wire events of the last command, built once on demand. */
  private lastWire: WireEvent[] | undefined;
  private lastForWire = true;
  private readonly extras = createOrderExtras();
  /**
   * Per-event data captured while applying, for wire events (refs change as events apply).
   * The refs themselves, not copies: a ref is never changed in place (a replace sets a new
   * object), so the one captured stays as it was when its event applied.
   */
  private captured: (OrderRef | undefined)[] = [];
  private capturedMaker: (OrderRef | undefined)[] = [];
  private massCancelCount = 0;
  /** Wire reason for a rejection decided here rather than by the core. */
  private rejectOverride: WireReject | undefined;
  /** Instrument states before the last command, copied only when the command changed one. */
  private previousStates: number[] = [];
  private previousStatesTaken = false;

  /** Use `Partition.create` or `restorePartition`. */
  constructor(engine: MatchingEngine, extras?: Extras) {
    this.engine = engine;
    this.symbols = engine.config.instruments.map((i) => i.symbol);
    this.symbols.forEach((s, i) => this.symbolIndex.set(s, i));
    this.states = extras?.states ?? engine.config.instruments.map((i) => i.initialState);
    this.tradeIds = extras?.tradeIds ?? this.symbols.map(() => 0);
    if (extras !== undefined) {
      this.timeUs = extras.timeUs;
      for (const a of extras.accounts) this.intern(a);
      for (const [id, ref] of extras.refs) this.refs.set(id, ref);
    }
  }

  static create(settings: PartitionSettings): Partition {
    return new Partition(createEngine(settings.engine));
  }

  get lastSeq(): number {
    return this.engine.lastSeq;
  }

  get instruments(): readonly string[] {
    return this.symbols;
  }

  instrumentIndex(symbol: string): number {
    return this.symbolIndex.get(symbol) ?? -1;
  }

  private intern(account: string): number {
    let id = this.accountIndex.get(account);
    if (id === undefined) {
      id = this.accounts.length;
      this.accounts.push(account);
      this.accountIndex.set(account, id);
    }
    return id;
  }

  /**
   * Applies the log entry at `seq`: a decoded command, or `undefined` with the reason the
   * bytes did not decode (recorded as a rejection; the partition never stalls on it).
   * `forWire` false skips what only `wireEvents()` needs (replay of already published
   * commands); the partition's state is the same either way.
   */
  apply(seq: number, command: Command | undefined, decodeError?: string, forWire = true): AppliedCommand {
    // One reusable record: apply() runs per command on the hot path.
    const last = this.last;
    last.seq = seq;
    last.command = command;
    last.decodeError = decodeError;
    this.lastForWire = forWire;
    this.lastWire = undefined;
    this.massCancelCount = 0;
    this.rejectOverride = undefined;
    this.previousStatesTaken = false;
    const e = this.engine;
    const time = timestampToUs(command?.timestamp);
    if (command !== undefined && Number.isFinite(time) && time > this.timeUs) this.timeUs = time;
    const body = command?.body;
    if (command === undefined || body === undefined || !Number.isFinite(time)) {
      e.rejectCommand(seq);
    } else {
      const account = this.intern(command.account);
      // ADR 0003: a command of a fenced account written below its fence, or a new order or
      // replace of a blocked account, is refused before anything else is looked at. Time
      // ticks and instrument states belong to no account; a block, and the mass cancel a kill
      // switch writes with it, bind whichever gateway replica wrote them, owner or not.
      const epoch = command.ownerEpoch;
      switch (body.$case) {
        case "newOrder": {
          const inst = this.instrumentIndex(body.value.instrument);
          if (e.admit(seq, account, epoch, true, seq, inst) !== 0) break;
          this.submit(seq, account, inst, body.value);
          break;
        }
        case "cancelOrder":
          if (e.admit(seq, account, epoch, false, body.value.orderId) !== 0) break;
          e.cancel(seq, body.value.orderId, account);
          break;
        case "replaceOrder":
          if (e.admit(seq, account, epoch, true, body.value.orderId) !== 0) break;
          e.replace(seq, body.value.orderId, account, body.value.price, body.value.qty);
          break;
        case "massCancel": {
          const m = body.value;
          const instrument = m.instrument === "" ? -1 : this.instrumentIndex(m.instrument);
          const killSwitch = m.reason === WireCancelReason.KILL_SWITCH;
          if (!killSwitch && e.admit(seq, account, epoch, false, 0, instrument) !== 0) break;
          if (instrument === -1 && m.instrument !== "") this.rejectHere(seq, WireReject.UNKNOWN_INSTRUMENT);
          else e.massCancel(seq, m.allAccounts ? -1 : account, instrument, m.side);
          break;
        }
        case "fenceAccount":
          // Fences and account blocks name their account: an empty one is a writer's bug.
          if (command.account === "") this.rejectHere(seq, WireReject.MALFORMED_COMMAND);
          else if (e.admit(seq, account, epoch, false) === 0) e.fence(seq, account, body.value.epoch);
          break;
        case "blockAccount": {
          const k = body.value;
          if (k.reason.length > MAX_BLOCK_REASON || (command.account === "" && !k.allAccounts))
            this.rejectHere(seq, WireReject.MALFORMED_COMMAND);
          else e.block(seq, k.allAccounts ? -1 : account, k.blocked);
          break;
        }
        case "setInstrumentState": {
          const s = body.value;
          const instrument = s.instrument === "" ? -1 : this.instrumentIndex(s.instrument);
          const state = STATE_FROM_WIRE[s.state] ?? 0;
          const allowed = (i: number): boolean =>
            s.fromStates.length === 0 || s.fromStates.some((w) => STATE_FROM_WIRE[w] === this.states[i]);
          if (instrument === -1 && s.instrument !== "") this.rejectHere(seq, WireReject.UNKNOWN_INSTRUMENT);
          else if (instrument >= 0 && !allowed(instrument)) this.rejectHere(seq, WireReject.INVALID_STATE_TRANSITION);
          else if (instrument === -1 && !this.states.every((_, i) => allowed(i)))
            // The core changes all instruments or one; a subset is written as one command per instrument.
            this.rejectHere(seq, WireReject.INVALID_STATE_TRANSITION);
          else e.setState(seq, this.timeUs, instrument, state, s.referencePrice ?? 0);
          break;
        }
        case "timeTick":
          e.expire(seq, this.timeUs);
          break;
      }
    }
    this.track(forWire);
    return { seq, coreEvents: e.events.count, rejected: e.events.count > 0 && e.events.kind[0] === EventKind.REJECTED };
  }

  private submit(seq: number, account: number, inst: number, o: NewOrderCommand): void {
    const tif = TIF_FROM_WIRE[o.timeInForce] ?? 0;
    const stp = o.stpMode === WireStp.NONE ? -1 : (STP_FROM_WIRE[o.stpMode] ?? -1);
    const x = this.extras;
    x.flags = o.postOnly ? OrderFlags.POST_ONLY : 0;
    x.stopPrice = o.stopPrice;
    x.displayQty = o.displayQty;
    x.stpGroup = o.stpGroup;
    x.stpMode = stp;
    x.expireTimeNs = o.expireTime === undefined ? 0 : timestampToUs(o.expireTime);
    this.engine.submit(seq, this.timeUs, seq, inst, account, o.side, o.orderType, tif, o.price, o.qty, x);
  }

  private rejectHere(seq: number, reason: WireReject): void {
    this.engine.rejectCommand(seq);
    this.rejectOverride = reason;
  }

  /** Keeps the order, state and trade-id tables in step with the core's events. */
  private track(forWire: boolean): void {
    const ev = this.engine.events;
    const cmd = this.last.command;
    // Entries past the command's event count are stale and never read (`wireEvents` reads
    // ev.count of them): setting the arrays' length per command reallocated their storage.
    const captured = this.captured;
    const capturedMaker = this.capturedMaker;
    for (let i = 0; i < ev.count; i++) {
      const kind = ev.kind[i]!;
      const id = ev.orderId[i]!;
      captured[i] = undefined;
      capturedMaker[i] = undefined;
      switch (kind) {
        case EventKind.ACCEPTED: {
          const o = cmd?.body?.$case === "newOrder" ? cmd.body.value : undefined;
          const ref: OrderRef = {
            account: ev.account[i]!,
            clientOrderId: o?.clientOrderId ?? "",
            side: ev.side[i]!,
            orderType: o?.orderType ?? 0,
            tif: TIF_FROM_WIRE[o?.timeInForce ?? 0] ?? 0,
            price: o?.price ?? 0,
            stopPrice: o?.stopPrice ?? 0,
            qty: ev.qty[i]!,
          };
          this.refs.set(id, ref);
          captured[i] = ref;
          break;
        }
        case EventKind.TRADE: {
          const taker = this.refs.get(id);
          const maker = this.refs.get(ev.makerOrderId[i]!);
          if (forWire) {
            captured[i] = taker;
            capturedMaker[i] = maker;
          }
          this.tradeIds[ev.instrument[i]!]! += 1;
          if (ev.leaves[i] === 0) this.refs.delete(id);
          if (ev.makerLeaves[i] === 0) this.refs.delete(ev.makerOrderId[i]!);
          break;
        }
        case EventKind.CANCELLED:
        case EventKind.EXPIRED: {
          if (forWire) captured[i] = this.refs.get(id);
          if (ev.leaves[i] === 0) this.refs.delete(id);
          if (kind === EventKind.CANCELLED && cmd?.body?.$case === "massCancel") this.massCancelCount++;
          break;
        }
        case EventKind.REPLACED: {
          const ref = this.refs.get(id);
          if (ref !== undefined) {
            if (forWire) captured[i] = ref;
            // A new object, never a change in place: a snapshot being written in steps holds
            // the refs as they were when it began.
            const clientOrderId =
              cmd?.body?.$case === "replaceOrder"
                ? cmd.body.value.clientOrderId || ref.clientOrderId
                : ref.clientOrderId;
            // A replace to a total at or below what has filled ends the order.
            if (ev.leaves[i] === 0) this.refs.delete(id);
            else this.refs.set(id, { ...ref, clientOrderId, price: ev.price[i]!, qty: ev.qty[i]! });
          }
          break;
        }
        case EventKind.TRIGGERED: {
          if (forWire) captured[i] = this.refs.get(id);
          break;
        }
        case EventKind.STATE_CHANGED:
          if (!this.previousStatesTaken) {
            this.previousStates = this.states.slice();
            this.previousStatesTaken = true;
          }
          this.states[ev.instrument[i]!] = ev.state[i]!;
          break;
      }
    }
  }

  private symbolAt(i: number): string {
    return i >= 0 && i < this.symbols.length ? this.symbols[i]! : "_";
  }

  private accountAt(a: number | undefined): string {
    return a === undefined ? "" : (this.accounts[a] ?? "");
  }

  /** The last command's events as wire messages (built once, then cached). */
  wireEvents(): WireEvent[] {
    if (this.lastWire !== undefined) return this.lastWire;
    if (!this.lastForWire) throw new Error("wireEvents() after apply(..., forWire = false)");
    const ev = this.engine.events;
    const { seq, command, decodeError } = this.last;
    const out: WireEvent[] = [];
    const timestamp = usToTimestamp(this.timeUs);
    // Helpers as methods and module functions, not closures: this runs per command live.
    const push = (instrument: string, body: WireEvent["body"]): void => {
      out.push({ commandSeq: seq, index: out.length, lastInCommand: false, timestamp, instrument, body });
    };
    let lastTradePrice = 0;
    let pendingDelta: { instrument: number; changes: LevelChange[] } | undefined;
    const flushDelta = (): void => {
      if (pendingDelta === undefined) return;
      push(this.symbolAt(pendingDelta.instrument), { $case: "bookDelta", value: { changes: pendingDelta.changes } });
      pendingDelta = undefined;
    };
    for (let i = 0; i < ev.count; i++) {
      const kind = ev.kind[i]!;
      const inst = ev.instrument[i]!;
      if (kind !== EventKind.BOOK_DELTA) flushDelta();
      const ref = this.captured[i];
      switch (kind) {
        case EventKind.ACCEPTED: {
          const o = command?.body?.$case === "newOrder" ? command.body.value : undefined;
          push(this.symbolAt(inst), {
            $case: "accepted",
            value: {
              orderId: ev.orderId[i]!,
              clientOrderId: o?.clientOrderId ?? "",
              account: this.accountAt(ev.account[i]),
              side: ev.side[i] as WireSide,
              orderType: (o?.orderType ?? WireOrderType.UNSPECIFIED) as WireOrderType,
              timeInForce: (o?.timeInForce ?? WireTif.UNSPECIFIED) as WireTif,
              price: o?.price ?? ev.price[i]!,
              stopPrice: o?.stopPrice ?? 0,
              qty: ev.qty[i]!,
              postOnly: o?.postOnly ?? false,
              stpMode: o === undefined || o.stpMode === WireStp.UNSPECIFIED ? WireStp.CANCEL_MAKER : o.stpMode,
              expireTime: o?.expireTime,
              displayQty: o?.displayQty ?? 0,
            },
          });
          break;
        }
        case EventKind.REJECTED: {
          const reason =
            this.rejectOverride ??
            (command === undefined || command.body === undefined
              ? WireReject.MALFORMED_COMMAND
              : (REJECT_TO_WIRE[ev.reason[i]!] ?? WireReject.UNSPECIFIED));
          const b = command?.body;
          // A refused command about an order the book does not know (finished, unknown) still
          // goes out with the listed instrument it named: it stays in that instrument's run of
          // events instead of breaking it, and the report names what the client asked about.
          const stated = b !== undefined && "instrument" in b.value ? b.value.instrument : "";
          push(inst >= 0 || !this.symbolIndex.has(stated) ? this.symbolAt(inst) : stated, {
            $case: "rejected",
            value: {
              requestKind: requestKindOf(command),
              reason,
              text: decodeError ?? this.rejectText(ev.reason[i]!),
              orderId: b?.$case === "cancelOrder" || b?.$case === "replaceOrder" ? b.value.orderId : 0,
              clientOrderId: requestClientOrderIdOf(command),
              account: command?.account ?? "",
            },
          });
          break;
        }
        case EventKind.TRADE: {
          const maker = this.capturedMaker[i];
          lastTradePrice = ev.price[i]!;
          const auction = command?.body?.$case === "setInstrumentState";
          push(this.symbolAt(inst), {
            $case: "trade",
            value: {
              tradeId: this.tradeIdAt(inst, i),
              price: ev.price[i]!,
              qty: ev.qty[i]!,
              aggressorSide: auction ? WireSide.UNSPECIFIED : (ev.side[i] as WireSide),
              makerOrderId: ev.makerOrderId[i]!,
              makerAccount: this.accountAt(maker?.account),
              makerClientOrderId: maker?.clientOrderId ?? "",
              makerLeavesQty: ev.makerLeaves[i]!,
              takerOrderId: ev.orderId[i]!,
              takerAccount: this.accountAt(ref?.account),
              takerClientOrderId: ref?.clientOrderId ?? "",
              takerLeavesQty: ev.leaves[i]!,
            },
          });
          break;
        }
        case EventKind.CANCELLED:
          push(this.symbolAt(inst), {
            $case: "cancelled",
            value: {
              orderId: ev.orderId[i]!,
              clientOrderId: ref?.clientOrderId ?? "",
              account: this.accountAt(ev.account[i]),
              side: ev.side[i] as WireSide,
              price: ev.price[i]!,
              cancelledQty: ev.qty[i]!,
              reason: cancelReasonOf(command, ev.reason[i]!),
              requestClientOrderId:
                command?.body?.$case === "cancelOrder" || command?.body?.$case === "massCancel"
                  ? command.body.value.clientOrderId
                  : "",
            },
          });
          break;
        case EventKind.EXPIRED:
          push(this.symbolAt(inst), {
            $case: "expired",
            value: {
              orderId: ev.orderId[i]!,
              clientOrderId: ref?.clientOrderId ?? "",
              account: this.accountAt(ev.account[i]),
              side: ev.side[i] as WireSide,
              price: ev.price[i]!,
              expiredQty: ev.qty[i]!,
              timeInForce: TIF_TO_WIRE[ref?.tif ?? 0] ?? WireTif.UNSPECIFIED,
            },
          });
          break;
        case EventKind.REPLACED: {
          const newId = command?.body?.$case === "replaceOrder" ? command.body.value.clientOrderId : "";
          const before = ref;
          push(this.symbolAt(inst), {
            $case: "replaced",
            value: {
              orderId: ev.orderId[i]!,
              clientOrderId: newId || (before?.clientOrderId ?? ""),
              origClientOrderId: before?.clientOrderId ?? "",
              account: this.accountAt(ev.account[i]),
              side: ev.side[i] as WireSide,
              price: ev.price[i]!,
              stopPrice: before?.stopPrice ?? 0,
              qty: ev.qty[i]!,
              leavesQty: ev.leaves[i]!,
              priorityKept: before !== undefined && before.price === ev.price[i] && ev.qty[i]! <= before.qty,
            },
          });
          break;
        }
        case EventKind.TRIGGERED: {
          const limit = ref?.orderType === WireOrderType.STOP_LIMIT;
          push(this.symbolAt(inst), {
            $case: "triggered",
            value: {
              orderId: ev.orderId[i]!,
              clientOrderId: ref?.clientOrderId ?? "",
              account: this.accountAt(ev.account[i]),
              side: ev.side[i] as WireSide,
              stopPrice: ev.price[i]!,
              triggerPrice: lastTradePrice,
              orderType: limit ? WireOrderType.LIMIT : WireOrderType.MARKET,
              price: limit ? (ref?.price ?? 0) : 0,
            },
          });
          break;
        }
        case EventKind.STATE_CHANGED: {
          const s = command?.body?.$case === "setInstrumentState" ? command.body.value : undefined;
          push(this.symbolAt(inst), {
            $case: "instrumentStateChanged",
            value: {
              previousState: STATE_TO_WIRE[this.previousStates[inst] ?? 0] ?? WireState.UNSPECIFIED,
              state: STATE_TO_WIRE[ev.state[i]!] ?? WireState.UNSPECIFIED,
              reason: s?.reason ?? "",
              referencePrice: this.engine.config.instruments[inst]?.referencePrice ?? 0,
            },
          });
          break;
        }
        case EventKind.ACCOUNT_FENCED:
          push("_", { $case: "accountFenced", value: { account: this.accountAt(ev.account[i]), epoch: ev.price[i]! } });
          break;
        case EventKind.ACCOUNT_BLOCK_CHANGED: {
          const k = command?.body?.$case === "blockAccount" ? command.body.value : undefined;
          const all = ev.account[i] === -1;
          push("_", {
            $case: "accountBlockChanged",
            value: {
              account: all ? "" : this.accountAt(ev.account[i]),
              allAccounts: all,
              blocked: ev.state[i] === 1,
              reason: k?.reason ?? "",
            },
          });
          break;
        }
        case EventKind.BOOK_DELTA: {
          if (pendingDelta !== undefined && pendingDelta.instrument !== inst) flushDelta();
          pendingDelta ??= { instrument: inst, changes: [] };
          pendingDelta.changes.push({
            side: ev.side[i] as WireSide,
            price: ev.price[i]!,
            qty: ev.qty[i]!,
            orderCount: 0,
          });
          break;
        }
      }
    }
    flushDelta();
    if (command?.body?.$case === "massCancel" && !(ev.count > 0 && ev.kind[0] === EventKind.REJECTED)) {
      const m = command.body.value;
      push(m.instrument === "" ? "_" : m.instrument, {
        $case: "massCancelCompleted",
        value: {
          account: m.allAccounts ? "" : command.account,
          cancelledCount: this.massCancelCount,
          clientOrderId: m.clientOrderId,
        },
      });
    }
    if (out.length > 0) out[out.length - 1]!.lastInCommand = true;
    this.lastWire = out;
    return out;
  }

  /** What a refusal decided by the fence or a kill switch says; empty for the others. */
  private rejectText(core: number): string {
    const command = this.last.command;
    if (core === RejectReason.FENCED) {
      const fence = this.engine.fenceOf(this.accountIndex.get(command?.account ?? "") ?? -1);
      return `written by a gateway replica that no longer owns the account (owner epoch ${command?.ownerEpoch ?? 0} is below its fence ${fence})`;
    }
    if (core === RejectReason.KILL_SWITCH) return "a kill switch blocks the account's new orders and replaces";
    if (core === RejectReason.INVALID_EPOCH) return "a fence epoch must be a positive integer";
    return "";
  }

  /** Trade ids count per instrument; event i's id is the count after it minus later trades of this command. */
  private tradeIdAt(instrument: number, i: number): number {
    const ev = this.engine.events;
    let later = 0;
    for (let j = i + 1; j < ev.count; j++)
      if (ev.kind[j] === EventKind.TRADE && ev.instrument[j] === instrument) later++;
    return this.tradeIds[instrument]! - later;
  }

  /** Live orders the partition knows the terms of (for admin views). */
  get liveOrderCount(): number {
    return this.refs.size;
  }

  /** Current trading state of every instrument, in the core's codes, by index. */
  get instrumentStates(): readonly number[] {
    return this.states;
  }

  /** Engine time in microseconds since the epoch. */
  get engineTimeUs(): number {
    return this.timeUs;
  }

  /** sha256 over the core's digest and every table of the partition. */
  digest(): string {
    // `v: 1` first, as the tables were first written: digests stay comparable across versions.
    return createHash("sha256")
      .update(this.engine.digest())
      .update(JSON.stringify({ v: 1, ...this.extrasOf() }))
      .digest("hex");
  }

  private extrasOf(): Extras {
    return {
      accounts: this.accounts,
      states: this.states,
      tradeIds: this.tradeIds,
      timeUs: this.timeUs,
      refs: [...this.refs.entries()],
    };
  }

  /**
   * Core snapshot + the partition's tables, with a checksum; see `restorePartition`. The order
   * refs (one per live order) are written in binary: as JSON they were most of a snapshot's
   * time, which the engine loop waits for.
   */
  snapshot(): Uint8Array {
    const refs = this.refs;
    return drain(this.snapshotOf(this.engine, refs.size, refs.keys(), refs.values(), this.tablesJson()));
  }

  /**
   * The same snapshot, written in steps: what it needs is copied now (the engine's order
   * records as one buffer, the refs as arrays), then each step writes a few milliseconds'
   * worth, so the engine loop can apply commands between steps (`perStep` orders, then
   * `perStep` order refs, per step). The result is the snapshot of the state at the time of
   * this call.
   */
  snapshotSteps(perStep = ORDERS_PER_STEP): Generator<void, Uint8Array, void> {
    // Arrays: ten times cheaper to copy than the map, and a ref is never changed in place
    // (see REPLACED in apply), so the values stay as they are now.
    return this.snapshotOf(
      this.engine.snapshotSource(),
      this.refs.size,
      Array.from(this.refs.keys()),
      Array.from(this.refs.values()),
      this.tablesJson(),
      perStep,
    );
  }

  private tablesJson(): string {
    const { accounts, states, tradeIds, timeUs } = this;
    return JSON.stringify({ accounts, states, tradeIds, timeUs });
  }

  private *snapshotOf(
    core: SnapshotSource,
    count: number,
    ids: Iterable<number>,
    refs: Iterable<OrderRef>,
    tables: string,
    perStep = ORDERS_PER_STEP,
  ): Generator<void, Uint8Array, void> {
    // One buffer, written once: header, core snapshot, checksum, tables and refs.
    const w = new ByteWriter(12 + snapshotSizeHint(core) + 32 + tables.length * 3 + count * REF_BYTES);
    w.claim(12);
    yield* MatchingEngine.snapshotSteps(core, w, perStep);
    const coreLength = w.length - 12;
    const sumAt = w.claim(32);
    w.string(tables);
    w.u32(count);
    let untilYield = perStep;
    // The ids and the refs of the same map, in the same order.
    const idOf = ids[Symbol.iterator]();
    for (const r of refs) {
      const at = w.claim(REF_FIXED_BYTES);
      const v = w.dataView;
      v.setFloat64(at, idOf.next().value as number, true);
      v.setUint32(at + 8, r.account, true);
      v.setUint8(at + 12, r.side);
      v.setUint8(at + 13, r.orderType);
      v.setUint8(at + 14, r.tif);
      v.setFloat64(at + 15, r.price, true);
      v.setFloat64(at + 23, r.stopPrice, true);
      v.setFloat64(at + 31, r.qty, true);
      w.string(r.clientOrderId);
      if (--untilYield === 0) {
        untilYield = perStep;
        yield;
      }
    }
    const out = w.view8();
    out.set(
      createHash("sha256")
        .update(out.subarray(sumAt + 32))
        .digest(),
      sumAt,
    );
    const view = w.dataView;
    view.setUint32(0, PARTITION_MAGIC, true);
    view.setUint32(4, PARTITION_VERSION, true);
    view.setUint32(8, coreLength, true);
    return out;
  }
}

/** Bytes of an order ref in a snapshot before its client order id (see Partition.snapshot). */
const REF_FIXED_BYTES = 39;
/** About what an order ref takes with a short client order id: a size hint. */
const REF_BYTES = REF_FIXED_BYTES + 4 + 16;

/** Reads a partition snapshot; throws SnapshotError for anything not intact. */
export function restorePartition(bytes: Uint8Array): Partition {
  if (!(bytes instanceof Uint8Array) || bytes.length < 12) throw new SnapshotError("partition snapshot is truncated");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== PARTITION_MAGIC) throw new SnapshotError("not a partition snapshot (bad magic)");
  const version = view.getUint32(4, true);
  if (version !== 1 && version !== PARTITION_VERSION) throw new SnapshotError("unsupported partition snapshot version");
  const coreLength = view.getUint32(8, true);
  if (12 + coreLength + 32 > bytes.length) throw new SnapshotError("partition snapshot is truncated");
  const engine = restoreEngine(bytes.subarray(12, 12 + coreLength));
  const sum = bytes.subarray(12 + coreLength, 12 + coreLength + 32);
  const extrasBytes = bytes.subarray(12 + coreLength + 32);
  if (!createHash("sha256").update(extrasBytes).digest().equals(sum))
    throw new SnapshotError("partition snapshot checksum mismatch");
  return new Partition(engine, readExtras(extrasBytes));
}

/** The partition's tables from a snapshot: JSON for the small ones, then the order refs in binary. */
function readExtras(bytes: Uint8Array): Extras {
  const r = new ByteReader(bytes);
  let tables: Omit<Extras, "refs">;
  try {
    tables = JSON.parse(r.string()) as typeof tables;
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    throw new SnapshotError("partition snapshot tables are not valid JSON", { cause: err });
  }
  const count = r.u32();
  const refs: [number, OrderRef][] = new Array(count);
  for (let i = 0; i < count; i++) {
    const id = r.f64();
    const account = r.u32();
    const side = r.u8();
    const orderType = r.u8();
    const tif = r.u8();
    const price = r.f64();
    const stopPrice = r.f64();
    const qty = r.f64();
    refs[i] = [id, { account, clientOrderId: r.string(), side, orderType, tif, price, stopPrice, qty }];
  }
  if (r.remaining !== 0) throw new SnapshotError("partition snapshot has bytes after its tables");
  return { ...tables, refs };
}

function requestKindOf(command: Command | undefined): RequestKind {
  switch (command?.body?.$case) {
    case "newOrder":
      return RequestKind.NEW_ORDER;
    case "cancelOrder":
      return RequestKind.CANCEL_ORDER;
    case "replaceOrder":
      return RequestKind.REPLACE_ORDER;
    case "massCancel":
      return RequestKind.MASS_CANCEL;
    default:
      return RequestKind.UNSPECIFIED;
  }
}

function requestClientOrderIdOf(command: Command | undefined): string {
  const b = command?.body;
  if (b === undefined) return "";
  if (b.$case === "cancelOrder" || b.$case === "massCancel" || b.$case === "replaceOrder") return b.value.clientOrderId;
  if (b.$case === "newOrder") return b.value.clientOrderId;
  return "";
}

function cancelReasonOf(command: Command | undefined, core: number): WireCancelReason {
  const b = command?.body;
  if (b?.$case === "cancelOrder" && core === CancelReason.USER && b.value.reason !== WireCancelReason.UNSPECIFIED)
    return b.value.reason;
  if (b?.$case === "massCancel" && core === CancelReason.MASS_CANCEL && b.value.reason !== WireCancelReason.UNSPECIFIED)
    return b.value.reason;
  return CANCEL_TO_WIRE[core] ?? WireCancelReason.UNSPECIFIED;
}
