import { createHash } from "node:crypto";
import {
  CancelReason as WireCancelReason,
  type Command,
  type EngineEvent as WireEvent,
  type NewOrderCommand,
  RejectReason as WireReject,
  StpMode as WireStp,
} from "@tradeplane/contracts";
import type { EngineConfig } from "./config.ts";
import { EventKind, OrderFlags } from "./constants.ts";
import { createEngine, type MatchingEngine } from "./engine.ts";
import { drain, ORDERS_PER_STEP } from "./engine-snapshot.ts";
import { createOrderExtras } from "./order-extras.ts";
import { OrderIdMap } from "./order-id-map.ts";
import type { OrderRef } from "./order-ref.ts";
import { type Extras, readPartitionSnapshot, writePartitionSnapshot } from "./partition-snapshot.ts";
import { STATE_FROM_WIRE, STP_FROM_WIRE, TIF_FROM_WIRE, timestampToUs } from "./wire-codes.ts";
import { buildWireEvents } from "./wire-events.ts";

// Part of this module's API since before they moved (the `/partition` entry point).
export type { Extras } from "./partition-snapshot.ts";
export { timestampToUs, usToTimestamp, wireStateOf } from "./wire-codes.ts";

/** Longest BlockAccountCommand.reason the partition takes (engine.proto). */
const MAX_BLOCK_REASON = 256;

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
 *
 * The wire codes are in `wire-codes.ts`, the building of wire events in `wire-events.ts` and
 * the snapshot format in `partition-snapshot.ts`.
 */
export class Partition {
  readonly engine: MatchingEngine;
  private readonly symbols: string[];
  /** @internal */ readonly symbolIndex = new Map<string, number>();
  private readonly accounts: string[] = [];
  /** @internal */ readonly accountIndex = new Map<string, number>();
  private readonly refs = new OrderIdMap<OrderRef>();
  private readonly states: number[];
  /** @internal */ readonly tradeIds: number[];
  /** @internal */ timeUs = 0;
  /** @internal The last command, kept to build its wire events. */
  readonly last: { seq: number; command: Command | undefined; decodeError: string | undefined } = {
    seq: 0,
    command: undefined,
    decodeError: undefined,
  };
  /** Wire events of the last command, built once on demand. */
  private lastWire: WireEvent[] | undefined;
  private lastForWire = true;
  private readonly extras = createOrderExtras();
  /**
   * @internal
   * Per-event data captured while applying, for wire events (refs change as events apply).
   * The refs themselves, not copies: a ref is never changed in place (a replace sets a new
   * object), so the one captured stays as it was when its event applied.
   */
  captured: (OrderRef | undefined)[] = [];
  /** @internal */ capturedMaker: (OrderRef | undefined)[] = [];
  /** @internal */ massCancelCount = 0;
  /** @internal Wire reason for a rejection decided here rather than by the core. */
  rejectOverride: WireReject | undefined;
  /** @internal Instrument states before the last command, copied only when the command changed one. */
  previousStates: number[] = [];
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

  /** @internal */ symbolAt(i: number): string {
    return i >= 0 && i < this.symbols.length ? this.symbols[i]! : "_";
  }

  /** @internal */ accountAt(a: number | undefined): string {
    return a === undefined ? "" : (this.accounts[a] ?? "");
  }

  /** The last command's events as wire messages (built once, then cached). */ wireEvents(): WireEvent[] {
    if (this.lastWire !== undefined) return this.lastWire;
    if (!this.lastForWire) throw new Error("wireEvents() after apply(..., forWire = false)");
    const out = buildWireEvents(this);
    this.lastWire = out;
    return out;
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
    return drain(writePartitionSnapshot(this.engine, refs.size, refs.keys(), refs.values(), this.tablesJson()));
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
    return writePartitionSnapshot(
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
}

/** Reads a partition snapshot; throws SnapshotError for anything not intact. */
export function restorePartition(bytes: Uint8Array): Partition {
  const { engine, extras } = readPartitionSnapshot(bytes);
  return new Partition(engine, extras);
}
