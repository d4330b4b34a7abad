import {
  ExecutionReport as ExecutionReportCodec,
  Order as OrderCodec,
  type ExecutionReport,
  type Order,
} from "@tradeplane/contracts";
import type { Position } from "./positions.ts";

// The projection's snapshot format: its plain-data shape, the checks that read one back
// (ProjectionSnapshotError for anything else) and the JSON text written in steps.

/**
 * The projection's whole state at one event, as plain data (JSON-safe): what a restarted
 * gateway loads instead of replaying the event log from its start. Orders and reports are
 * protobuf bytes (base64), so loading them decodes and checks them.
 */
export interface ProjectionSnapshot {
  readonly version: 2;
  /** Per engine partition, (commandSeq, index) of its last event applied. */
  readonly marks: [partition: number, commandSeq: number, index: number][];
  /** Live orders, protobuf `Order`, base64. */
  readonly orders: string[];
  readonly positions: [account: string, instrument: string, position: Position][];
  readonly lastPrices: [instrument: string, price: number][];
  readonly states: [instrument: string, state: number][];
  /** Reference prices the engine announced with a state change (absent in older snapshots). */
  readonly references?: [instrument: string, price: number][];
  readonly sequences: [account: string, lastReportSequence: number][];
  /** Each account's newest reports, protobuf `ExecutionReport`, base64, oldest first. */
  readonly reports: [account: string, reports: string[]][];
  /** Finished orders the trading session remembers, protobuf `Order`, base64 (absent in older snapshots). */
  readonly finishedOrders?: string[];
  /** Client order ids replaces took off live orders this session (absent in older snapshots). */
  readonly retiredIds?: [account: string, clientOrderId: string, instrument: string][];
  /** Each account's fence per partition, ADR 0003 (absent in older snapshots). */
  readonly fences?: [account: string, partition: number, epoch: number][];
  /** The kill-switch blocks each partition holds; account "" is the venue's (absent in older snapshots). */
  readonly blocks?: [account: string, partition: number][];
}

/** A snapshot that does not describe a projection (corrupt, or from another version). */
export class ProjectionSnapshotError extends Error {
  override readonly name = "ProjectionSnapshotError";
}

export function snapshotInt(v: unknown, what: string, min = 0): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min)
    throw new ProjectionSnapshotError(`${what}: not a whole number >= ${min}`);
  return v;
}

function snapshotInts(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    throw new ProjectionSnapshotError(`${what}: not a whole number`);
  return v;
}

export function snapshotArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ProjectionSnapshotError(`${what}: not a list`);
  return v;
}

export function snapshotString(v: unknown, what: string): string {
  if (typeof v !== "string") throw new ProjectionSnapshotError(`${what}: not a string`);
  return v;
}

export function decodeBase64<T>(codec: { decode(b: Uint8Array): T }, v: unknown, what: string): T {
  try {
    return codec.decode(Buffer.from(snapshotString(v, what), "base64"));
  } catch (err) {
    throw new ProjectionSnapshotError(`${what}: ${(err as Error).message}`);
  }
}

export function snapshotPosition(v: unknown, what: string): Position {
  if (typeof v !== "object" || v === null) throw new ProjectionSnapshotError(`${what}: not a position`);
  const p = v as Record<string, unknown>;
  const lots = snapshotArray(p.lots, `${what}.lots`).map((x, i) => snapshotInts(x, `${what}.lots[${i}]`));
  if (lots.length % 2 !== 0) throw new ProjectionSnapshotError(`${what}.lots: not (price, qty) pairs`);
  return {
    netQty: snapshotInts(p.netQty, `${what}.netQty`),
    boughtQty: snapshotInt(p.boughtQty, `${what}.boughtQty`),
    soldQty: snapshotInt(p.soldQty, `${what}.soldQty`),
    openBuyQty: snapshotInts(p.openBuyQty, `${what}.openBuyQty`),
    openSellQty: snapshotInts(p.openSellQty, `${what}.openSellQty`),
    openExposure: snapshotInts(p.openExposure, `${what}.openExposure`),
    realisedPnl: snapshotInts(p.realisedPnl, `${what}.realisedPnl`),
    openCost: snapshotInts(p.openCost, `${what}.openCost`),
    markPrice: snapshotInt(p.markPrice, `${what}.markPrice`),
    lots,
  };
}

/** Orders or reports encoded per step of a snapshot written in steps (a few milliseconds). */
export const SNAPSHOT_STEP = 1_024;

/**
 * The JSON text of a ProjectionSnapshot as UTF-8 chunks (a large one is never copied into one
 * buffer), its orders and reports encoded `perStep` at a time.
 */
export function* jsonSteps(
  tables: Omit<ProjectionSnapshot, "orders" | "reports" | "finishedOrders">,
  orders: readonly Order[],
  finishedOrders: readonly Order[],
  reports: readonly (readonly [string, readonly ExecutionReport[]])[],
  perStep: number,
): Generator<void, Buffer[], void> {
  const head = JSON.stringify(tables);
  const out: Buffer[] = [Buffer.from(`${head.slice(0, -1)},"orders":[`)];
  yield* base64List(out, orders, (o) => OrderCodec.encode(o).finish(), perStep);
  out.push(Buffer.from(`],"finishedOrders":[`));
  yield* base64List(out, finishedOrders, (o) => OrderCodec.encode(o).finish(), perStep);
  out.push(Buffer.from(`],"reports":[`));
  for (const [n, [account, list]] of reports.entries()) {
    out.push(Buffer.from(`${n > 0 ? "," : ""}[${JSON.stringify(account)},[`));
    yield* base64List(out, list, (r) => ExecutionReportCodec.encode(r).finish(), perStep);
    out.push(Buffer.from("]]"));
  }
  out.push(Buffer.from("]}"));
  return out;
}

/** Appends `items` to `out` as comma-separated JSON strings of their base64 protobuf, `perStep` per step. */
function* base64List<T>(
  out: Buffer[],
  items: readonly T[],
  encode: (item: T) => Uint8Array,
  perStep: number,
): Generator<void, void, void> {
  for (let i = 0; i < items.length; i += perStep) {
    const part = items
      .slice(i, i + perStep)
      .map((item) => `"${Buffer.from(encode(item)).toString("base64")}"`)
      .join(",");
    out.push(Buffer.from(i > 0 ? `,${part}` : part));
    yield;
  }
}
