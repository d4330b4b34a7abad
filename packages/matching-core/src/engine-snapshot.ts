import { createHash } from "node:crypto";
import type { Book } from "./book.ts";
import { ByteReader, ByteWriter, SnapshotError } from "./codec.ts";
import { type EngineConfig, type NormalizedConfig, validateEngineConfig } from "./config.ts";
import { InstrumentState, OrderFlags, OrderType, StpMode, TimeInForce } from "./constants.ts";
import type { EngineState } from "./engine-state.ts";
import { ORDER_RECORD } from "./order-record.ts";

// The engine's canonical state as bytes: the digest, snapshots (written at once or in steps
// from a copy) and their restore.

const { BUY, SELL, ST_STOP, ST_TAKER, F_ID, F_PRICE, F_PRIO, I_LEAVES, I_SHOWN, I_QTY, I_REL } = ORDER_RECORD;
const { I_ACCOUNT, I_GROUP, I_PREV, I_NEXT, H_INST, B_FLAGS, B_STP, B_SIDE, B_STATUS, B_TYPE, B_TIF } = ORDER_RECORD;
const { FLAG_ICEBERG } = ORDER_RECORD;

const SNAPSHOT_MAGIC = 0x454d5054; // "TPME" little-endian
/**
 * 2: the accounts' fences and kill-switch blocks after the books (ADR 0003, 2026-12-03). A
 * version 1 snapshot still restores, with no account fenced or blocked (it was written before
 * either existed).
 */
const SNAPSHOT_VERSION = 2;
const HEADER_BYTES = 4 + 4 + 4 + 32;
/** Bytes of one order in a snapshot (see writeOrder). */
const ORDER_BYTES = 69;

/**
 * What a snapshot or the digest reads of an engine: the engine itself, or a copy of it taken
 * for a snapshot written in steps (`MatchingEngine.snapshotSource`).
 */
export interface SnapshotSource {
  readonly config: NormalizedConfig;
  readonly lastSeq: number;
  readonly prioCounter: number;
  readonly books: readonly Book[];
  readonly of: Float64Array;
  readonly oi: Int32Array;
  readonly ob: Uint8Array;
  readonly oStop: Float64Array;
  readonly oExpire: Float64Array;
  readonly oDisplay: Int32Array;
  /** [account, fence] by account. */
  readonly accountFences: readonly (readonly [number, number])[];
  /** Blocked accounts, ascending. */
  readonly blockedAccounts: readonly number[];
  readonly allBlocked: boolean;
}

/**
 * A copy of `src` (an engine) for a snapshot written in steps, its order records copied into
 * `records` (see `MatchingEngine.snapshotSource`).
 */
export function copyOfSource(src: SnapshotSource, records: ArrayBuffer): SnapshotSource {
  new Uint8Array(records).set(src.ob);
  return {
    config: src.config,
    lastSeq: src.lastSeq,
    prioCounter: src.prioCounter,
    books: src.books.map((b) => b.copy()),
    of: new Float64Array(records),
    oi: new Int32Array(records),
    ob: new Uint8Array(records),
    oStop: src.oStop.slice(),
    oExpire: src.oExpire.slice(),
    oDisplay: src.oDisplay.slice(),
    accountFences: src.accountFences,
    blockedAccounts: src.blockedAccounts,
    allBlocked: src.allBlocked,
  };
}

/** Orders written between two steps of a snapshot written in steps (a few milliseconds). */
export const ORDERS_PER_STEP = 4_096;

/** Runs a generator of steps to its end. */
export function drain<R>(steps: Generator<void, R, void>): R {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Bytes a snapshot of `src` takes, about: enough that the writer seldom grows while writing one. */
export function snapshotSizeHint(src: SnapshotSource): number {
  let orders = 0;
  for (const b of src.books) orders += b.resting + b.stopCount;
  return HEADER_BYTES + (1 << 12) + src.books.length * 32 + orders * ORDER_BYTES;
}

/**
 * Canonical serialisation of the whole state: config, lastSeq, priority counter, and per
 * instrument its state, last price and live orders in book order. Independent of slot numbers,
 * hash layout and ladder window, so equal states give equal bytes. The digest leaves out the
 * allocation hints (initial order and event capacity), which change no behaviour. Yields every
 * `ordersPerStep` orders.
 */
function* stateSteps(
  src: SnapshotSource,
  w: ByteWriter,
  forDigest: boolean,
  ordersPerStep = ORDERS_PER_STEP,
): Generator<void, void, void> {
  const { instruments, maxOrders, initialOrders, initialEvents } = src.config;
  w.string(
    JSON.stringify(forDigest ? { instruments, maxOrders } : { instruments, maxOrders, initialOrders, initialEvents }),
  );
  w.f64(src.lastSeq);
  w.f64(src.prioCounter);
  const oi = src.oi;
  let untilYield = ordersPerStep;
  for (const b of src.books) {
    w.u8(b.state);
    w.f64(b.lastPrice);
    w.u32(b.resting);
    for (let side = 0; side < 2; side++) {
      for (let rel = side === BUY ? b.bestBid : b.bestAsk; rel >= 0; rel = b.nextLevel(side, rel)) {
        for (let s = b.head[side * b.wSize + (rel - b.wBase)]!; s !== -1; s = oi[(s << 4) + I_NEXT]!) {
          writeOrder(src, w, s);
          if (--untilYield === 0) {
            untilYield = ordersPerStep;
            yield;
          }
        }
      }
    }
    w.u32(b.stopCount);
    for (let side = 0; side < 2; side++) {
      for (let s = b.stopHead[side]!; s !== -1; s = oi[(s << 4) + I_NEXT]!) writeOrder(src, w, s);
    }
  }
  // The digest of a state with no fence and no block is what it was before either existed.
  const fences = src.accountFences;
  const blocked = src.blockedAccounts;
  if (forDigest && fences.length === 0 && blocked.length === 0 && !src.allBlocked) return;
  w.u32(fences.length);
  for (const [account, epoch] of fences) {
    w.i32(account);
    w.f64(epoch);
  }
  w.u32(blocked.length);
  for (const account of blocked) w.i32(account);
  w.u8(src.allBlocked ? 1 : 0);
}

function writeOrder(src: SnapshotSource, w: ByteWriter, s: number): void {
  const { oi, ob, of } = src;
  const at = w.claim(ORDER_BYTES);
  const v = w.dataView;
  const flags = ob[(s << 6) + B_FLAGS]!;
  v.setFloat64(at, of[(s << 3) + F_ID]!, true);
  v.setUint8(at + 8, ob[(s << 6) + B_SIDE]!);
  v.setUint8(at + 9, ob[(s << 6) + B_TYPE]!);
  v.setUint8(at + 10, ob[(s << 6) + B_TIF]!);
  v.setUint8(at + 11, flags & OrderFlags.POST_ONLY);
  v.setUint8(at + 12, ob[(s << 6) + B_STP]!);
  v.setInt32(at + 13, oi[(s << 4) + I_ACCOUNT]!, true);
  v.setInt32(at + 17, oi[(s << 4) + I_GROUP]!, true);
  v.setFloat64(at + 21, of[(s << 3) + F_PRICE]!, true);
  v.setFloat64(at + 29, ob[(s << 6) + B_TYPE]! >= OrderType.STOP_MARKET ? src.oStop[s]! : 0, true);
  v.setInt32(at + 37, oi[(s << 4) + I_QTY]!, true);
  v.setInt32(at + 41, oi[(s << 4) + I_LEAVES]!, true);
  v.setInt32(at + 45, oi[(s << 4) + I_SHOWN]!, true);
  v.setInt32(at + 49, (flags & FLAG_ICEBERG) !== 0 ? src.oDisplay[s]! : 0, true);
  v.setFloat64(at + 53, ob[(s << 6) + B_TIF] === TimeInForce.GTD ? src.oExpire[s]! : 0, true);
  v.setFloat64(at + 61, of[(s << 3) + F_PRIO]!, true);
}

/** sha256 (hex) of the canonical state of `src` (see `MatchingEngine.digest`). */
export function stateDigest(src: SnapshotSource): string {
  const w = new ByteWriter();
  drain(stateSteps(src, w, true));
  return createHash("sha256").update(w.view8()).digest("hex");
}

/**
 * Writes the snapshot of `src` (this engine, or a `snapshotSource()` copy) at the writer's
 * end, yielding every `ordersPerStep` orders; the bytes equal `snapshot()`'s for the same
 * state.
 */
export function* writeSnapshotSteps(
  src: SnapshotSource,
  w: ByteWriter,
  ordersPerStep = ORDERS_PER_STEP,
): Generator<void, void, void> {
  const start = w.claim(HEADER_BYTES);
  yield* stateSteps(src, w, false, ordersPerStep);
  const body = w.view8().subarray(start + HEADER_BYTES);
  const sum = createHash("sha256").update(body).digest();
  const v = w.dataView;
  v.setUint32(start, SNAPSHOT_MAGIC, true);
  v.setUint32(start + 4, SNAPSHOT_VERSION, true);
  v.setUint32(start + 8, body.length, true);
  w.view8().set(sum, start + 12);
}

/** Restores a snapshot into a fresh engine made by `Engine` (see `MatchingEngine.fromSnapshot`). */
export function readSnapshot<E extends EngineState>(bytes: Uint8Array, Engine: new (config: EngineConfig) => E): E {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotError("snapshot must be a Uint8Array");
  if (bytes.length < HEADER_BYTES) throw new SnapshotError("snapshot is truncated");
  const r = new ByteReader(bytes);
  if (r.u32() !== SNAPSHOT_MAGIC) throw new SnapshotError("not a matching-engine snapshot (bad magic)");
  const version = r.u32();
  if (version !== 1 && version !== SNAPSHOT_VERSION) throw new SnapshotError(`unsupported snapshot version ${version}`);
  const len = r.u32();
  const sum = r.bytes(32);
  if (r.remaining !== len) throw new SnapshotError("snapshot length does not match its header");
  const body = r.bytes(len);
  const actual = createHash("sha256").update(body).digest();
  if (!actual.equals(sum)) throw new SnapshotError("snapshot checksum mismatch");
  try {
    return readState(new ByteReader(body), version, Engine);
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(`snapshot body is invalid: ${(e as Error).message}`, { cause: e });
  }
}

function readState<E extends EngineState>(r: ByteReader, version: number, Engine: new (config: EngineConfig) => E): E {
  const raw = JSON.parse(r.string()) as NormalizedConfig;
  const config: EngineConfig = {
    instruments: raw.instruments.map((i) => ({
      symbol: i.symbol,
      tickSlabs: i.slabs,
      lotSize: i.lotSize,
      minQty: i.minQty,
      maxQty: i.maxQty,
      maxOrderValue: i.maxOrderValue,
      referencePrice: i.referencePrice,
      bandPercent: i.bandPercent,
      maxTicksFromReference: i.maxTicksFromReference,
      initialState: i.initialState,
      cancelOnHalt: i.cancelOnHalt,
    })),
    capacity: { maxOrders: raw.maxOrders, initialOrders: raw.initialOrders, initialEvents: raw.initialEvents },
  };
  const { issues } = validateEngineConfig(config);
  if (issues.length > 0) throw new SnapshotError(`snapshot config is invalid: ${issues.join("; ")}`);
  const e = new Engine(config);
  e.lastSeq = r.f64();
  e.prioCounter = r.f64();
  if (!Number.isSafeInteger(e.lastSeq) || e.lastSeq < 0 || !Number.isSafeInteger(e.prioCounter))
    throw new SnapshotError("snapshot counters are invalid");
  for (const b of e.books) {
    const state = r.u8();
    if (state < InstrumentState.PRE_OPEN || state > InstrumentState.CLOSED) throw new SnapshotError("bad state");
    b.state = state;
    b.lastPrice = r.f64();
    const resting = r.u32();
    for (let i = 0; i < resting; i++) {
      const s = readOrder(e, r, b);
      e.rest(b, s);
    }
    const stops = r.u32();
    for (let i = 0; i < stops; i++) {
      const s = readOrder(e, r, b);
      if (e.ob[(s << 6) + B_TYPE]! < OrderType.STOP_MARKET) throw new SnapshotError("parked order is not a stop order");
      // Appending keeps the written trigger order.
      const side = e.ob[(s << 6) + B_SIDE]!;
      const tail = b.stopTail[side]!;
      e.oi[(s << 4) + I_PREV] = tail;
      e.oi[(s << 4) + I_NEXT] = -1;
      if (tail === -1) b.stopHead[side] = s;
      else e.oi[(tail << 4) + I_NEXT] = s;
      b.stopTail[side] = s;
      b.stopCount++;
      e.ob[(s << 6) + B_STATUS] = ST_STOP;
      e.indexAdd(s);
    }
  }
  if (version >= 2) readAccountControls(e, r);
  if (r.remaining !== 0) throw new SnapshotError("trailing bytes after the snapshot body");
  e.begin(e.lastSeq);
  return e;
}

function readAccountControls(e: EngineState, r: ByteReader): void {
  const account = (): number => {
    const a = r.i32();
    if (a < 0) throw new SnapshotError("snapshot names a negative account");
    return a;
  };
  const fences = r.u32();
  for (let i = 0; i < fences; i++) {
    const a = account();
    const epoch = r.f64();
    if (!(epoch > 0) || !Number.isSafeInteger(epoch)) throw new SnapshotError("snapshot fence epoch is invalid");
    e.fences.set(a, epoch);
  }
  const blocked = r.u32();
  for (let i = 0; i < blocked; i++) e.blocked.add(account());
  const all = r.u8();
  if (all > 1) throw new SnapshotError("snapshot venue block flag is invalid");
  e.allBlocked = all === 1;
}

function readOrder(e: EngineState, r: ByteReader, b: Book): number {
  const id = r.f64();
  const side = r.u8();
  const type = r.u8();
  const tif = r.u8();
  const flags = r.u8();
  const stp = r.u8();
  const account = r.i32();
  const group = r.i32();
  const price = r.f64();
  const stop = r.f64();
  const qty = r.i32();
  const leaves = r.i32();
  const shown = r.i32();
  const display = r.i32();
  const expire = r.f64();
  const prio = r.f64();
  const ok =
    Number.isSafeInteger(id) &&
    id > 0 &&
    side <= SELL &&
    type >= OrderType.LIMIT &&
    type <= OrderType.STOP_LIMIT &&
    tif >= TimeInForce.DAY &&
    tif <= TimeInForce.FOK &&
    flags <= OrderFlags.POST_ONLY &&
    stp <= StpMode.DECREMENT &&
    account >= 0 &&
    group >= 0 &&
    leaves > 0 &&
    leaves <= qty &&
    shown > 0 &&
    shown <= leaves &&
    display >= 0 &&
    Number.isSafeInteger(prio);
  if (!ok) throw new SnapshotError("snapshot order record is invalid");
  if (e.index.get(id) !== -1) throw new SnapshotError("snapshot has a duplicate order id");
  let rel: number;
  if (price === 0) rel = side === BUY ? b.span - 1 : 0;
  else {
    rel = Number.isSafeInteger(price) ? b.priceToRel(price) : NaN;
    if (!(rel >= 0 && rel < b.span)) throw new SnapshotError("snapshot order price is invalid");
  }
  const s = e.alloc();
  if (s === -1) throw new SnapshotError("snapshot holds more orders than maxOrders");
  const f8 = s << 3;
  const i4 = s << 4;
  const b6 = s << 6;
  e.of[f8 + F_ID] = id;
  e.of[f8 + F_PRICE] = price;
  e.of[f8 + F_PRIO] = prio;
  e.oi[i4 + I_QTY] = qty;
  e.oi[i4 + I_LEAVES] = leaves;
  e.oi[i4 + I_SHOWN] = shown;
  e.oi[i4 + I_REL] = rel;
  e.oi[i4 + I_ACCOUNT] = account;
  e.oi[i4 + I_GROUP] = group;
  e.oh[(s << 5) + H_INST] = b.index;
  e.ob[b6 + B_SIDE] = side;
  e.ob[b6 + B_TYPE] = type;
  e.ob[b6 + B_TIF] = tif;
  e.ob[b6 + B_STATUS] = ST_TAKER;
  e.ob[b6 + B_FLAGS] = display !== 0 ? flags | FLAG_ICEBERG : flags;
  e.ob[b6 + B_STP] = stp;
  e.writeCold(s, stop, expire, display);
  return s;
}
