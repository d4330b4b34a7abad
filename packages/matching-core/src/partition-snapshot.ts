import { createHash } from "node:crypto";
import { ByteReader, ByteWriter, SnapshotError } from "./codec.ts";
import { type MatchingEngine, restoreEngine } from "./engine.ts";
import { ORDERS_PER_STEP, snapshotSizeHint, type SnapshotSource, writeSnapshotSteps } from "./engine-snapshot.ts";
import type { OrderRef } from "./order-ref.ts";

// A partition's snapshot: the core's snapshot, then the partition's tables (accounts, instrument
// states, trade ids, engine time) as JSON and its order refs in binary.

/** The partition's tables, as a snapshot carries them (see `Partition`'s constructor). */
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

/** Bytes of an order ref in a snapshot before its client order id (see Partition.snapshot). */
const REF_FIXED_BYTES = 39;
/** About what an order ref takes with a short client order id: a size hint. */
const REF_BYTES = REF_FIXED_BYTES + 4 + 16;

/**
 * Writes a partition snapshot: header, the core's snapshot of `core`, a checksum, the tables
 * (`tables`, JSON) and the `count` order refs (`ids` and `refs`, in the same order) in binary,
 * yielding every `perStep` orders and refs. See `Partition.snapshot` and `snapshotSteps`.
 */
export function* writePartitionSnapshot(
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
  yield* writeSnapshotSteps(core, w, perStep);
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

/** Reads a partition snapshot (see `restorePartition`); throws SnapshotError for anything not intact. */
export function readPartitionSnapshot(bytes: Uint8Array): { engine: MatchingEngine; extras: Extras } {
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
  return { engine, extras: readExtras(extrasBytes) };
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
