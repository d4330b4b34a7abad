import {
  MarketDataChannel,
  Side,
  SubscribeResponse,
  type AuctionInfo,
  type BarInterval,
  type BookLevel,
  type BookOrder,
  type InstrumentState,
  type OrderChange,
  type Timestamp,
  type Trade,
} from "@tradeplane/contracts";
import { BAR_INTERVALS, type BarState } from "./bars.ts";
import { UpdateHistory } from "./history.ts";
import type {
  DeltaLevel,
  InstrumentMarketData,
  InstrumentSpec,
  OrderData,
  Retention,
  SeriesData,
  TouchedLevel,
} from "./instrument-market.ts";
import { MarketState, type MarketStateData, type RestoredMarketState } from "./market-state.ts";
import { ByteReader, ByteWriter, crc32, StateSnapshotError } from "./snapshot-bytes.ts";

export { StateSnapshotError } from "./snapshot-bytes.ts";

/**
 * The market-data state as bytes and back: every instrument's book (L3, order by order),
 * live orders, stats, trades and bars kept, per-channel sequences, the work of a command in
 * progress and the updates not yet fanned out, plus the venue-wide history of L3/TRADES/STATE
 * updates that resumes (`from_sequence`) replay, the event-stream position and each engine
 * partition's mark (version 2; a version 1 snapshot has no marks and is refused, so the
 * state is replayed from the stream). A state
 * restored from a snapshot taken between any two events produces, for the events after
 * them, the same updates, sequences, books and bars as one that applied the whole log.
 *
 * Layout: "TPMD", a version byte, the body (snapshot-bytes.ts numbers), a CRC-32 of all
 * before it. Decoding checks all of it and refuses anything else with StateSnapshotError:
 * another format or version, a bad checksum, truncation, or data that is not a consistent
 * state (an order in the book that is not live, unknown channels, ...).
 */
export const STATE_SNAPSHOT_VERSION = 2;
const MAGIC = [0x54, 0x50, 0x4d, 0x44]; // "TPMD"
const HEADER_BYTES = MAGIC.length + 1;
const CRC_BYTES = 4;

export interface DecodedStateSnapshot extends RestoredMarketState {
  readonly history: UpdateHistory;
  /** Event-stream sequence of the last event the state reflects (its position). */
  readonly streamSeq: number;
  /** The creation time of the event stream it was taken of (to tell a re-created stream apart). */
  readonly streamCreated: string;
}

/** What a snapshot is restored into: the running config's instruments, retention and history size. */
export interface RestoreSettings {
  readonly specs: readonly InstrumentSpec[];
  readonly retention: Retention;
  readonly historyCapacity: number;
}

// ---------------------------------------------------------------------------- encode

function writeTime(w: ByteWriter, t: Timestamp | undefined): void {
  w.bool(t !== undefined);
  if (t === undefined) return;
  w.num(t.seconds);
  w.num(t.nanos);
}

function writeBar(w: ByteWriter, b: BarState): void {
  w.num(b.start);
  w.num(b.open);
  w.num(b.high);
  w.num(b.low);
  w.num(b.close);
  w.num(b.volume);
  w.num(b.notional);
  w.num(b.tradeCount);
  w.bool(b.closed);
}

function writeLevel(w: ByteWriter, l: BookLevel | undefined): void {
  w.bool(l !== undefined);
  if (l === undefined) return;
  w.num(l.price);
  w.num(l.qty);
  w.num(l.orderCount);
}

function writeOrder(w: ByteWriter, o: OrderData): void {
  w.num(o.id);
  w.num(o.side);
  w.num(o.price);
  w.num(o.qty);
  w.num(o.leaves);
  w.num(o.display);
  w.num(o.status);
  w.bool(o.inBook);
}

/** How an update is stored: the kinds the event channels produce field by field, anything else as protobuf. */
const UPDATE_PROTOBUF = 0;
const UPDATE_L3 = 1;
const UPDATE_TRADE = 2;
const UPDATE_STATUS = 3;

function writeTrade(w: ByteWriter, t: Trade): void {
  for (const v of [t.tradeId, t.price, t.qty, t.aggressorSide, t.makerOrderId, t.takerOrderId]) w.num(v);
  writeTime(w, t.time);
}

/** Orders or updates written per step of a snapshot written in steps (a few milliseconds). */
const SNAPSHOT_STEP = 4_096;

/**
 * Event-channel updates (the history holds up to hundreds of thousands): instrument names
 * once each (a table built as they come: index = table size introduces a new name).
 */
function* writeUpdates(
  w: ByteWriter,
  updates: readonly SubscribeResponse[],
  perStep = SNAPSHOT_STEP,
): Generator<void, void, void> {
  w.num(updates.length);
  const names = new Map<string, number>();
  let untilYield = perStep;
  for (const u of updates) {
    if (--untilYield === 0) {
      untilYield = perStep;
      yield;
    }
    const kind =
      u.update?.$case === "orderBookUpdate"
        ? UPDATE_L3
        : u.update?.$case === "trade"
          ? UPDATE_TRADE
          : u.update?.$case === "status"
            ? UPDATE_STATUS
            : UPDATE_PROTOBUF;
    w.u8(kind);
    if (kind === UPDATE_PROTOBUF) {
      w.bytes(SubscribeResponse.encode(u).finish());
      continue;
    }
    w.num(u.sequence);
    w.num(u.sourceSequence);
    const name = names.get(u.instrument);
    if (name !== undefined) w.num(name);
    else {
      w.num(names.size);
      w.str(u.instrument);
      names.set(u.instrument, names.size);
    }
    w.num(u.channel);
    writeTime(w, u.time);
    const update = u.update!;
    if (update.$case === "orderBookUpdate") {
      const changes = update.value.changes;
      w.num(changes.length);
      for (const c of changes) for (const v of [c.action, c.orderId, c.side, c.price, c.qty]) w.num(v);
    } else if (update.$case === "trade") writeTrade(w, update.value);
    else if (update.$case === "status") {
      w.num(update.value.state);
      w.str(update.value.reason);
    }
  }
}

function* writeMarket(w: ByteWriter, m: InstrumentMarketData, perStep: number): Generator<void, void, void> {
  w.num(m.state);
  w.str(m.reason);
  w.num(m.referencePrice);
  const s = m.stats;
  for (const v of [s.open, s.high, s.low, s.last, s.volume, s.notional, s.tradeCount]) w.num(v);
  w.num(m.trades.length);
  for (const t of m.trades) writeTrade(w, t);
  w.num(m.bars.length);
  for (const series of m.bars) {
    w.num(series.interval);
    w.num(series.closed.length);
    for (const b of series.closed) writeBar(w, b);
    w.bool(series.current !== undefined);
    if (series.current !== undefined) writeBar(w, series.current);
  }
  for (const pairs of [m.seq, m.barSeq]) {
    w.num(pairs.length);
    for (const [k, n] of pairs) {
      w.num(k);
      w.num(n);
    }
  }
  w.num(m.lastSource);
  writeTime(w, m.lastTime);
  w.num(m.mismatches);
  writeLevel(w, m.lastTop.bid);
  writeLevel(w, m.lastTop.ask);
  const a = m.lastAuction;
  for (const v of [a.indicativePrice, a.matchedQty, a.imbalanceQty, a.imbalanceSide]) w.num(v);
  w.num(m.orders.length);
  let untilYield = perStep;
  for (const o of m.orders) {
    writeOrder(w, o);
    if (--untilYield === 0) {
      untilYield = perStep;
      yield;
    }
  }
  for (const side of [m.book.bids, m.book.asks]) {
    w.num(side.length);
    for (const o of side) {
      w.num(o.orderId);
      w.num(o.price);
      w.num(o.qty);
      if (--untilYield === 0) {
        untilYield = perStep;
        yield;
      }
    }
  }
  const p = m.pending;
  if (p === undefined) w.u8(0);
  else if (p.live) {
    w.u8(1);
    w.num(p.id);
  } else {
    w.u8(2);
    writeOrder(w, p.order);
  }
  w.num(m.auctionTouched.length);
  for (const id of m.auctionTouched) w.num(id);
  w.num(m.l3Changes.length);
  for (const c of m.l3Changes) for (const v of [c.action, c.orderId, c.side, c.price, c.qty]) w.num(v);
  w.num(m.touchedLevels.length);
  for (const l of m.touchedLevels) for (const v of [l.side, l.price, l.qty, l.count]) w.num(v);
  w.num(m.deltas.length);
  for (const d of m.deltas) for (const v of [d.side, d.price, d.qty]) w.num(v);
  w.bool(m.statsChanged);
  w.bool(m.auctionMaybeChanged);
  yield* writeUpdates(w, m.outbox, perStep);
}

/**
 * The bytes of `state` and `history` as they are now (synchronous, so consistent), for a
 * snapshot of the event stream created at `streamCreated` (ISO time).
 */
export function encodeStateSnapshot(
  state: MarketState,
  history: UpdateHistory,
  streamCreated: string,
  position = state.position,
): Uint8Array {
  const steps = encodeStateSnapshotSteps(state, history, streamCreated, SNAPSHOT_STEP, position);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * The same bytes, written in steps between which the state may go on changing: the state is
 * exported now (a copy: see MarketState.exportState), and written `perStep` orders or
 * updates per step. The bytes are those of the state at the time of this call.
 *
 * `position` is the stream sequence the snapshot says it holds everything up to (where a
 * restart reads again from): the state's own position, or an earlier one when messages
 * before it are still waiting for a predecessor (the reader's EventStreamOrder.safePosition).
 * Messages after it that the state applied already are dropped on restart by the marks.
 */
export function encodeStateSnapshotSteps(
  state: MarketState,
  history: UpdateHistory,
  streamCreated: string,
  perStep = SNAPSHOT_STEP,
  position = state.position,
): Generator<void, Uint8Array, void> {
  return writeSnapshot({ ...state.exportState(), position }, history.exportState(), streamCreated, perStep);
}

function* writeSnapshot(
  data: MarketStateData,
  h: ReturnType<UpdateHistory["exportState"]>,
  streamCreated: string,
  perStep: number,
): Generator<void, Uint8Array, void> {
  const w = new ByteWriter();
  for (const b of MAGIC) w.u8(b);
  w.u8(STATE_SNAPSHOT_VERSION);
  w.str(streamCreated);
  w.num(data.position);
  w.num(data.timeS);
  w.num(data.nextBarEnd);
  w.num(data.unrouted);
  w.num(data.marks.length);
  for (const [partition, cmdSeq, index] of data.marks) {
    w.num(partition);
    w.num(cmdSeq);
    w.num(index);
  }
  w.bool(data.current !== undefined);
  if (data.current !== undefined) {
    w.str(data.current.symbol);
    w.num(data.current.commandSeq);
  }
  w.num(data.instruments.length);
  for (const { spec, market } of data.instruments) {
    w.str(spec.symbol);
    w.num(spec.referencePrice);
    w.num(spec.notionalPerTickLot);
    w.num(spec.initialState);
    yield* writeMarket(w, market, perStep);
  }
  w.num(h.droppedUpTo);
  yield* writeUpdates(w, h.entries, perStep);
  w.u32(crc32(w.finish()));
  return w.finish().slice();
}

// ---------------------------------------------------------------------------- decode

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const SAFE_MIN = Number.MIN_SAFE_INTEGER;
const CHANNELS: ReadonlySet<number> = new Set(Object.values(MarketDataChannel).filter((c) => c > 0));
const INTERVALS: ReadonlySet<number> = new Set(BAR_INTERVALS.map((b) => b.interval));

/** A protobuf enum field as the events carry it: any int32. */
const enumValue = <T extends number>(r: ByteReader, what: string): T => r.int(what, INT32_MIN, INT32_MAX) as T;
/** Prices, quantities and ids as the events carry them: any safe integer. */
const whole = (r: ByteReader, what: string): number => r.int(what, SAFE_MIN);

function readTime(r: ByteReader, what: string): Timestamp | undefined {
  if (!r.bool(what)) return undefined;
  return { seconds: whole(r, `${what}.seconds`), nanos: r.int(`${what}.nanos`, INT32_MIN, INT32_MAX) };
}

function readBar(r: ByteReader, what: string): BarState {
  return {
    start: whole(r, `${what}.start`),
    open: whole(r, `${what}.open`),
    high: whole(r, `${what}.high`),
    low: whole(r, `${what}.low`),
    close: whole(r, `${what}.close`),
    volume: whole(r, `${what}.volume`),
    notional: r.num(`${what}.notional`),
    tradeCount: r.int(`${what}.tradeCount`),
    closed: r.bool(`${what}.closed`),
  };
}

function readLevel(r: ByteReader, what: string): BookLevel | undefined {
  if (!r.bool(what)) return undefined;
  return { price: whole(r, `${what}.price`), qty: whole(r, `${what}.qty`), orderCount: r.int(`${what}.orderCount`) };
}

function readOrder(r: ByteReader, what: string): OrderData {
  return {
    id: whole(r, `${what}.id`),
    side: enumValue<Side>(r, `${what}.side`),
    price: whole(r, `${what}.price`),
    qty: whole(r, `${what}.qty`),
    leaves: whole(r, `${what}.leaves`),
    display: whole(r, `${what}.display`),
    status: r.int(`${what}.status`, 0, 2),
    inBook: r.bool(`${what}.inBook`),
  };
}

function readTrade(r: ByteReader, what: string): Trade {
  return {
    tradeId: whole(r, `${what}.tradeId`),
    price: whole(r, `${what}.price`),
    qty: whole(r, `${what}.qty`),
    aggressorSide: enumValue<Side>(r, `${what}.aggressorSide`),
    makerOrderId: whole(r, `${what}.makerOrderId`),
    takerOrderId: whole(r, `${what}.takerOrderId`),
    time: readTime(r, `${what}.time`),
  };
}

function readUpdate(r: ByteReader, what: string, names: string[]): SubscribeResponse {
  const kind = r.u8(`${what}.kind`);
  if (kind === UPDATE_PROTOBUF) {
    const bytes = r.bytes(what);
    try {
      return SubscribeResponse.decode(bytes);
    } catch (err) {
      throw new StateSnapshotError(`${what}: not an update (${(err as Error).message})`);
    }
  }
  if (kind > UPDATE_STATUS) throw new StateSnapshotError(`${what}: unknown kind ${kind}`);
  const sequence = r.int(`${what}.sequence`);
  const sourceSequence = r.int(`${what}.sourceSequence`);
  const index = r.int(`${what}.instrument`, 0, names.length);
  if (index === names.length) names.push(r.str(`${what}.instrument`));
  const instrument = names[index]!;
  const channel = enumValue<MarketDataChannel>(r, `${what}.channel`);
  const time = readTime(r, `${what}.time`);
  let update: SubscribeResponse["update"];
  if (kind === UPDATE_L3) {
    const changes: OrderChange[] = new Array(r.count(`${what}.changes`));
    for (let i = 0; i < changes.length; i++) {
      const c = `${what}.changes[${i}]`;
      changes[i] = {
        action: enumValue(r, `${c}.action`),
        orderId: whole(r, `${c}.orderId`),
        side: enumValue(r, `${c}.side`),
        price: whole(r, `${c}.price`),
        qty: whole(r, `${c}.qty`),
      };
    }
    update = { $case: "orderBookUpdate", value: { changes } };
  } else if (kind === UPDATE_TRADE) update = { $case: "trade", value: readTrade(r, `${what}.trade`) };
  else
    update = {
      $case: "status",
      value: { state: enumValue<InstrumentState>(r, `${what}.state`), reason: r.str(`${what}.reason`) },
    };
  return { sequence, sourceSequence, instrument, channel, time, update };
}

function readUpdates(r: ByteReader, what: string): SubscribeResponse[] {
  const n = r.count(what);
  const out: SubscribeResponse[] = new Array(n);
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    out[i] = readUpdate(r, `${what}[${i}]`, names);
    if (i > 0 && out[i]!.sourceSequence < out[i - 1]!.sourceSequence)
      throw new StateSnapshotError(`${what}[${i}]: out of log order`);
  }
  return out;
}

/** Key-value pairs whose keys are exactly `keys`, each once. */
function readKeyed<K extends number>(r: ByteReader, what: string, keys: ReadonlySet<number>): [K, number][] {
  const n = r.count(what);
  const out: [K, number][] = [];
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const k = r.int(`${what}[${i}]`);
    if (!keys.has(k) || seen.has(k)) throw new StateSnapshotError(`${what}[${i}]: unknown or repeated key ${k}`);
    seen.add(k);
    out.push([k as K, r.int(`${what}[${i}] value`)]);
  }
  if (seen.size !== keys.size) throw new StateSnapshotError(`${what}: ${keys.size - seen.size} missing`);
  return out;
}

function readMarket(r: ByteReader, what: string): InstrumentMarketData {
  const state = enumValue<InstrumentState>(r, `${what}.state`);
  const reason = r.str(`${what}.reason`);
  const referencePrice = whole(r, `${what}.referencePrice`);
  const stats = {
    open: whole(r, `${what}.stats.open`),
    high: whole(r, `${what}.stats.high`),
    low: whole(r, `${what}.stats.low`),
    last: whole(r, `${what}.stats.last`),
    volume: whole(r, `${what}.stats.volume`),
    notional: r.num(`${what}.stats.notional`),
    tradeCount: r.int(`${what}.stats.tradeCount`),
  };
  const trades: Trade[] = new Array(r.count(`${what}.trades`));
  for (let i = 0; i < trades.length; i++) trades[i] = readTrade(r, `${what}.trades[${i}]`);
  const bars: SeriesData[] = [];
  const seenIntervals = new Set<number>();
  const seriesCount = r.count(`${what}.bars`);
  for (let i = 0; i < seriesCount; i++) {
    const s = `${what}.bars[${i}]`;
    const interval = r.int(`${s}.interval`);
    if (!INTERVALS.has(interval) || seenIntervals.has(interval))
      throw new StateSnapshotError(`${s}: unknown or repeated interval ${interval}`);
    seenIntervals.add(interval);
    const closed: BarState[] = new Array(r.count(`${s}.closed`));
    for (let j = 0; j < closed.length; j++) closed[j] = readBar(r, `${s}.closed[${j}]`);
    const current = r.bool(`${s}.current`) ? readBar(r, `${s}.current`) : undefined;
    bars.push({ interval: interval as BarInterval, closed, current });
  }
  const seq = readKeyed<MarketDataChannel>(r, `${what}.seq`, CHANNELS);
  const barSeq = readKeyed<BarInterval>(r, `${what}.barSeq`, INTERVALS);
  const lastSource = r.int(`${what}.lastSource`);
  const lastTime = readTime(r, `${what}.lastTime`);
  if (lastTime === undefined) throw new StateSnapshotError(`${what}.lastTime: missing`);
  const mismatches = r.int(`${what}.mismatches`);
  const lastTop = { bid: readLevel(r, `${what}.lastTop.bid`), ask: readLevel(r, `${what}.lastTop.ask`) };
  const lastAuction: AuctionInfo = {
    indicativePrice: whole(r, `${what}.lastAuction.indicativePrice`),
    matchedQty: whole(r, `${what}.lastAuction.matchedQty`),
    imbalanceQty: whole(r, `${what}.lastAuction.imbalanceQty`),
    imbalanceSide: enumValue<Side>(r, `${what}.lastAuction.imbalanceSide`),
  };
  const orders: OrderData[] = new Array(r.count(`${what}.orders`));
  const live = new Map<number, OrderData>();
  for (let i = 0; i < orders.length; i++) {
    const o = readOrder(r, `${what}.orders[${i}]`);
    if (live.has(o.id)) throw new StateSnapshotError(`${what}.orders[${i}]: order ${o.id} twice`);
    live.set(o.id, o);
    orders[i] = o;
  }
  // The book: every order in it live, marked in the book, on its side at its price; every order so marked in it once.
  const book: { bids: BookOrder[]; asks: BookOrder[] } = { bids: [], asks: [] };
  const booked = new Set<number>();
  for (const [name, list] of [
    ["bids", book.bids],
    ["asks", book.asks],
  ] as const) {
    const n = r.count(`${what}.book.${name}`);
    for (let i = 0; i < n; i++) {
      const b = `${what}.book.${name}[${i}]`;
      const entry = { orderId: whole(r, `${b}.orderId`), price: whole(r, `${b}.price`), qty: whole(r, `${b}.qty`) };
      const o = live.get(entry.orderId);
      if (
        o === undefined ||
        !o.inBook ||
        booked.has(o.id) ||
        o.price !== entry.price ||
        (o.side === Side.BUY) !== (name === "bids")
      )
        throw new StateSnapshotError(`${b}: order ${entry.orderId} is not a live order resting there`);
      booked.add(o.id);
      list.push(entry);
    }
  }
  for (const o of orders)
    if (o.inBook && !booked.has(o.id)) throw new StateSnapshotError(`${what}: order ${o.id} missing from the book`);
  let pending: InstrumentMarketData["pending"];
  const pendingKind = r.u8(`${what}.pending`);
  if (pendingKind === 1) {
    const id = whole(r, `${what}.pending.id`);
    if (!live.has(id)) throw new StateSnapshotError(`${what}.pending: order ${id} is not live`);
    pending = { live: true, id };
  } else if (pendingKind === 2) {
    const order = readOrder(r, `${what}.pending`);
    if (order.inBook) throw new StateSnapshotError(`${what}.pending: an order no longer live cannot rest`);
    pending = { live: false, order };
  } else if (pendingKind !== 0) throw new StateSnapshotError(`${what}.pending: unknown kind ${pendingKind}`);
  const auctionTouched: number[] = new Array(r.count(`${what}.auctionTouched`));
  for (let i = 0; i < auctionTouched.length; i++) {
    const id = whole(r, `${what}.auctionTouched[${i}]`);
    if (!live.has(id)) throw new StateSnapshotError(`${what}.auctionTouched[${i}]: order ${id} is not live`);
    auctionTouched[i] = id;
  }
  const l3Changes: OrderChange[] = new Array(r.count(`${what}.l3Changes`));
  for (let i = 0; i < l3Changes.length; i++) {
    const c = `${what}.l3Changes[${i}]`;
    l3Changes[i] = {
      action: enumValue(r, `${c}.action`),
      orderId: whole(r, `${c}.orderId`),
      side: enumValue(r, `${c}.side`),
      price: whole(r, `${c}.price`),
      qty: whole(r, `${c}.qty`),
    };
  }
  const touchedLevels: TouchedLevel[] = new Array(r.count(`${what}.touchedLevels`));
  for (let i = 0; i < touchedLevels.length; i++) {
    const l = `${what}.touchedLevels[${i}]`;
    touchedLevels[i] = {
      side: enumValue(r, `${l}.side`),
      price: whole(r, `${l}.price`),
      qty: whole(r, `${l}.qty`),
      count: r.int(`${l}.count`),
    };
  }
  const deltas: DeltaLevel[] = new Array(r.count(`${what}.deltas`));
  for (let i = 0; i < deltas.length; i++) {
    const d = `${what}.deltas[${i}]`;
    deltas[i] = { side: enumValue(r, `${d}.side`), price: whole(r, `${d}.price`), qty: whole(r, `${d}.qty`) };
  }
  const statsChanged = r.bool(`${what}.statsChanged`);
  const auctionMaybeChanged = r.bool(`${what}.auctionMaybeChanged`);
  const outbox = readUpdates(r, `${what}.outbox`);
  return {
    state,
    reason,
    referencePrice,
    stats,
    trades,
    bars,
    seq,
    barSeq,
    lastSource,
    lastTime,
    mismatches,
    lastTop,
    lastAuction,
    orders,
    book,
    pending,
    auctionTouched,
    l3Changes,
    touchedLevels,
    deltas,
    statsChanged,
    auctionMaybeChanged,
    outbox,
  };
}

/**
 * The state and history a snapshot holds, restored with the running config (instruments
 * listed now and not in the snapshot start empty; ones no longer listed are dropped: see
 * `added`, `dropped`, `changed`). Throws StateSnapshotError for anything that is not an
 * intact snapshot of this version.
 */
export function decodeStateSnapshot(bytes: Uint8Array, settings: RestoreSettings): DecodedStateSnapshot {
  if (bytes.length < HEADER_BYTES + CRC_BYTES || MAGIC.some((b, i) => bytes[i] !== b))
    throw new StateSnapshotError("not a market-data state snapshot");
  const version = bytes[MAGIC.length]!;
  if (version !== STATE_SNAPSHOT_VERSION)
    throw new StateSnapshotError(`snapshot version ${version}; this build reads version ${STATE_SNAPSHOT_VERSION}`);
  const end = bytes.length - CRC_BYTES;
  const stored = new ByteReader(bytes, end).u32("checksum");
  if (crc32(bytes.subarray(0, end)) !== stored)
    throw new StateSnapshotError("checksum mismatch: the snapshot is corrupt");
  const r = new ByteReader(bytes, HEADER_BYTES, end);
  const streamCreated = r.str("streamCreated");
  const position = r.int("position");
  const timeS = whole(r, "timeS");
  const nextBarEnd = r.num("nextBarEnd");
  if (!Number.isSafeInteger(nextBarEnd) && nextBarEnd !== Infinity)
    throw new StateSnapshotError(`nextBarEnd: ${nextBarEnd} is neither a time nor Infinity`);
  const unrouted = r.int("unrouted");
  const marks: [number, number, number][] = [];
  const partitions = new Set<number>();
  const markCount = r.count("marks");
  for (let i = 0; i < markCount; i++) {
    const partition = r.int(`marks[${i}].partition`);
    if (partitions.has(partition)) throw new StateSnapshotError(`marks[${i}]: partition ${partition} twice`);
    partitions.add(partition);
    marks.push([partition, r.int(`marks[${i}].commandSeq`), r.int(`marks[${i}].index`)]);
  }
  const current = r.bool("current")
    ? { symbol: r.str("current.symbol"), commandSeq: whole(r, "current.commandSeq") }
    : undefined;
  const instruments: MarketStateData["instruments"][number][] = [];
  const symbols = new Set<string>();
  const count = r.count("instruments");
  for (let i = 0; i < count; i++) {
    const what = `instruments[${i}]`;
    const symbol = r.str(`${what}.symbol`);
    if (symbols.has(symbol)) throw new StateSnapshotError(`${what}: ${symbol} twice`);
    symbols.add(symbol);
    const spec: InstrumentSpec = {
      symbol,
      referencePrice: whole(r, `${what}.referencePrice`),
      notionalPerTickLot: whole(r, `${what}.notionalPerTickLot`),
      initialState: enumValue<InstrumentState>(r, `${what}.initialState`),
    };
    instruments.push({ spec, market: readMarket(r, `${what} (${symbol})`) });
  }
  if (current !== undefined && !symbols.has(current.symbol))
    throw new StateSnapshotError(`current: ${current.symbol} is not an instrument of the snapshot`);
  const droppedUpTo = r.int("history.droppedUpTo");
  const entries = readUpdates(r, "history");
  if (r.remaining !== 0) throw new StateSnapshotError(`${r.remaining} bytes after the end`);
  const data: MarketStateData = { position, timeS, nextBarEnd, unrouted, marks, current, instruments };
  const restored = MarketState.restore(settings.specs, settings.retention, data);
  return {
    ...restored,
    history: UpdateHistory.restore(settings.historyCapacity, { droppedUpTo, entries }),
    streamSeq: position,
    streamCreated,
  };
}
