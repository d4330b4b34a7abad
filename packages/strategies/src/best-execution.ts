import type { BestExecutionReport, RouterChild, SingleVenueBenchmark } from "./order-router.ts";

/** Decimal places of the average prices shown (exact decimals of integer ratios, never floats). */
export const AVERAGE_PRICE_PLACES = 4;

/** A child with the single-venue benchmark of its round: what it was set against. */
export interface SummarisedChild extends RouterChild {
  readonly improvedOn: SingleVenueBenchmark | undefined;
}

export interface BestExecutionTotals {
  readonly children: number;
  /** Sums of the children's fills: lots, and price x lots in ticks. */
  readonly filledQty: number;
  readonly filledNotional: number;
  /** filledNotional / filledQty in ticks, to AVERAGE_PRICE_PLACES places ("" when nothing filled). */
  readonly averagePrice: string;
  /** The best single venue of every round, summed: what one venue would have given. */
  readonly bestSingleVenue: { readonly filledQty: number; readonly notional: number; readonly averagePrice: string };
  /** Lots the router filled beyond what the best single venue could within the limit. */
  readonly extraQty: number;
  /**
   * What the router's lots would have cost at the best single venue's average price, less
   * what they cost (a sell: what they brought less what they would have brought), times the
   * notional of a tick-lot: minor units, rounded half away from zero; 0 when no single venue
   * could fill anything. Lots beyond the best single venue's (`extraQty`) are valued at its
   * average too, so filling deeper than it could shows as a smaller improvement.
   */
  readonly improvement: number;
}

export interface BestExecutionSummary extends Omit<BestExecutionReport, "children"> {
  readonly children: readonly SummarisedChild[];
  readonly totals: BestExecutionTotals;
}

/** `n / d` as an exact decimal string, rounded half away from zero ("" when d is 0). */
export function decimalRatio(n: bigint, d: bigint, places = AVERAGE_PRICE_PLACES): string {
  if (d === 0n) return "";
  const negative = n < 0n !== d < 0n && n !== 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const scale = 10n ** BigInt(places);
  const scaled = (an * scale * 2n + ad) / (2n * ad);
  const whole = scaled / scale;
  const frac = (scaled % scale).toString().padStart(places, "0");
  const text = places === 0 ? `${whole}` : `${whole}.${frac}`;
  return negative && scaled !== 0n ? `-${text}` : text;
}

/** `n / d` rounded half away from zero to an integer (d > 0). */
function roundedRatio(n: bigint, d: bigint): number {
  const half = (2n * (n < 0n ? -n : n) + d) / (2n * d);
  return Number(n < 0n ? -half : half);
}

/**
 * The router's best-execution report with its totals: the children's fills summed, the
 * best single venue of each round summed, and the improvement on it in minor units. Pure
 * integer arithmetic (BigInt where products pass 2^53).
 */
export function summariseBestExecution(report: BestExecutionReport, notionalPerTickLot: number): BestExecutionSummary {
  const byRound = new Map(report.rounds.map((r) => [r.round, r.improvedOn]));
  const children = report.children.map((c) => ({ ...c, improvedOn: byRound.get(c.round) }));
  let filledQty = 0;
  let filledNotional = 0;
  for (const c of report.children) {
    filledQty += c.filledQty;
    filledNotional += c.filledNotional;
  }
  let benchQty = 0;
  let benchNotional = 0;
  for (const r of report.rounds) {
    benchQty += r.improvedOn?.filled ?? 0;
    benchNotional += r.improvedOn?.notional ?? 0;
  }
  // (benchNotional / benchQty) x filledQty - filledNotional, over benchQty to stay whole.
  const sign = report.side === "BUY" ? 1n : -1n;
  const improvement =
    benchQty === 0
      ? 0
      : roundedRatio(
          sign *
            (BigInt(benchNotional) * BigInt(filledQty) - BigInt(filledNotional) * BigInt(benchQty)) *
            BigInt(notionalPerTickLot),
          BigInt(benchQty),
        );
  return {
    ...report,
    children,
    totals: {
      children: children.length,
      filledQty,
      filledNotional,
      averagePrice: decimalRatio(BigInt(filledNotional), BigInt(filledQty)),
      bestSingleVenue: {
        filledQty: benchQty,
        notional: benchNotional,
        averagePrice: decimalRatio(BigInt(benchNotional), BigInt(benchQty)),
      },
      extraQty: filledQty - benchQty,
      improvement,
    },
  };
}
