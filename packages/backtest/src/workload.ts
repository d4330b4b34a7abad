import { OrderType, Side, TimeInForce } from "@tradeplane/contracts";
import type { Command } from "@tradeplane/contracts";
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

/** Applies every line of `text` through `apply`, calling `progress(linesDone)` every `every` lines. */
export function replayWorkload(
  apply: ApplyCommand,
  text: string,
  startMs: number,
  progress?: (lines: number) => void,
  every = 65_536,
): number {
  const orderIds = new Map<number, number>();
  const sides = new Map<number, number>();
  const symbol = WORKLOAD_INSTRUMENT.symbol;
  let line = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const row = text.slice(start, end);
    start = end + 1;
    if (row === "") continue;
    line++;
    const f = row.split(",");
    const id = Number(f[1]);
    const ms = startMs + line;
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
    switch (f[0]) {
      case "N":
        if (f.length !== 6 || !Number.isSafeInteger(id)) throw new WorkloadError(`line ${line}: ${row}`);
        submit(f[2] === "B" ? Side.BUY : Side.SELL, f[3] === "M", Number(f[4]), Number(f[5]));
        break;
      case "C":
        cancel();
        break;
      case "R": {
        if (f.length !== 4) throw new WorkloadError(`line ${line}: ${row}`);
        const side = sides.get(id);
        cancel();
        if (side !== undefined) submit(side, false, Number(f[2]), Number(f[3]));
        break;
      }
      default:
        throw new WorkloadError(`line ${line}: unknown kind ${f[0]}`);
    }
    if (progress !== undefined && line % every === 0) progress(line);
  }
  return line;
}
