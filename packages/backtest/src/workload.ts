import { OrderType, TimeInForce } from "@tradeplane/contracts";
import type { Command, Side } from "@tradeplane/contracts";
import type { SimInstrument } from "./simulated-venue.ts";

/** Applies one flow command; returns its sequence (a new order's id). */
export type ApplyCommand = (account: string, body: Command["body"], timeMs: number) => number;

/**
 * The shared order-stream workload format (../shared/bench/README.md: `N,id,side,type,
 * price,qty`, `C,id`, `R,id,newPrice,newQty`) as a flow for the simulated venue: one
 * instrument, each order its own account (so no flow order trades against itself), `R` as
 * cancel + new with the same id, one millisecond per line.
 */
export const WORKLOAD_INSTRUMENT: SimInstrument = Object.freeze({
  symbol: "BENCH",
  tickSize: 1,
  lotSize: 1,
  minQty: 1,
  maxQty: 1_000_000_000,
  maxOrderValue: 0,
  referencePrice: 100_000,
  bandPercent: 0,
  initialState: "CONTINUOUS",
  cancelOnHalt: false,
  notionalPerTickLot: 1,
});

/** A workload line that does not parse. */
export class WorkloadError extends Error {
  override readonly name = "WorkloadError";
}

/** A parsed workload: one entry per line, struct of arrays (kind: 0 new limit, 1 new market, 2 cancel, 3 replace). */
export interface Workload {
  readonly count: number;
  readonly kind: Uint8Array;
  readonly id: Float64Array;
  readonly side: Uint8Array;
  readonly price: Float64Array;
  readonly qty: Float64Array;
}

const NEW_LIMIT = 0;
const NEW_MARKET = 1;
const CANCEL = 2;
const REPLACE = 3;

/** Parses the whole text up front, so that a timed run measures the venue, not the parsing. */
export function parseWorkload(text: string): Workload {
  const rows = text.split("\n").filter((r) => r !== "");
  const w = {
    count: rows.length,
    kind: new Uint8Array(rows.length),
    id: new Float64Array(rows.length),
    side: new Uint8Array(rows.length),
    price: new Float64Array(rows.length),
    qty: new Float64Array(rows.length),
  };
  rows.forEach((row, i) => {
    const f = row.split(",");
    const id = Number(f[1]);
    if (!Number.isSafeInteger(id)) throw new WorkloadError(`line ${i + 1}: ${row}`);
    w.id[i] = id;
    switch (f[0]) {
      case "N":
        if (f.length !== 6) throw new WorkloadError(`line ${i + 1}: ${row}`);
        w.kind[i] = f[3] === "M" ? NEW_MARKET : NEW_LIMIT;
        w.side[i] = f[2] === "B" ? 1 : 2;
        w.price[i] = Number(f[4]);
        w.qty[i] = Number(f[5]);
        break;
      case "C":
        w.kind[i] = CANCEL;
        break;
      case "R":
        if (f.length !== 4) throw new WorkloadError(`line ${i + 1}: ${row}`);
        w.kind[i] = REPLACE;
        w.price[i] = Number(f[2]);
        w.qty[i] = Number(f[3]);
        break;
      default:
        throw new WorkloadError(`line ${i + 1}: unknown kind ${f[0]}`);
    }
  });
  return w;
}

/** Applies every line of `workload` (or of a text, parsed first) through `apply`, calling `progress(linesDone)` every `every` lines. */
export function replayWorkload(
  apply: ApplyCommand,
  workload: Workload | string,
  startMs: number,
  progress?: (lines: number) => void,
  every = 65_536,
): number {
  const w = typeof workload === "string" ? parseWorkload(workload) : workload;
  const orderIds = new Map<number, number>();
  const sides = new Map<number, number>();
  const symbol = WORKLOAD_INSTRUMENT.symbol;
  for (let line = 0; line < w.count; line++) {
    const id = w.id[line]!;
    const ms = startMs + line + 1;
    const account = `w${id}`;
    const submit = (side: number, market: boolean, price: number, qty: number): void => {
      const seq = apply(
        account,
        {
          $case: "newOrder",
          value: {
            clientOrderId: `n${id}`,
            instrument: symbol,
            side: side as Side,
            orderType: market ? OrderType.MARKET : OrderType.LIMIT,
            timeInForce: market ? TimeInForce.IOC : TimeInForce.GTC,
            price: market ? 0 : price,
            stopPrice: 0,
            qty,
            postOnly: false,
            stpMode: 0,
            displayQty: 0,
            stpGroup: 0,
          },
        },
        ms,
      );
      orderIds.set(id, seq);
      sides.set(id, side);
    };
    const cancel = (): void => {
      const orderId = orderIds.get(id);
      if (orderId === undefined) return;
      apply(
        account,
        { $case: "cancelOrder", value: { instrument: symbol, orderId, clientOrderId: "", reason: 0 } },
        ms,
      );
    };
    switch (w.kind[line]) {
      case NEW_LIMIT:
      case NEW_MARKET:
        submit(w.side[line]!, w.kind[line] === NEW_MARKET, w.price[line]!, w.qty[line]!);
        break;
      case CANCEL:
        cancel();
        break;
      case REPLACE: {
        const side = sides.get(id);
        cancel();
        if (side !== undefined) submit(side, false, w.price[line]!, w.qty[line]!);
        break;
      }
    }
    if (progress !== undefined && (line + 1) % every === 0) progress(line + 1);
  }
  return w.count;
}
