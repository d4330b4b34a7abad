/**
 * Clearing obligations of a trading day, as a clearing corporation nets them for settlement:
 * per account and instrument the lots to receive (> 0) or deliver (< 0) and what they are
 * worth, and per account the funds to receive (> 0) or pay (< 0). Pure and exact: values are
 * price (ticks) x qty (lots) x notionalPerTickLot (notional units, 10^notionalExponent of
 * the currency, from the instrument's priceUnit x lotSize), summed as BigInt.
 *
 * Netting is multilateral through the clearing house, as at NSE Clearing: an account's buys
 * and sells of an instrument in the day offset each other whoever the counterparties were,
 * and its funds are the sum over instruments. A trade between two sides of one account nets
 * to nothing for it.
 */

/** One account's side of one trade (an execution row of the day). */
export interface ClearingExecution {
  readonly account: string;
  readonly instrument: string;
  readonly side: "BUY" | "SELL";
  /** Ticks. */
  readonly price: number;
  /** Lots. */
  readonly qty: number;
}

export interface SecuritiesObligation {
  readonly account: string;
  readonly instrument: string;
  readonly boughtQty: bigint;
  readonly soldQty: bigint;
  /** boughtQty - soldQty: > 0 to receive, < 0 to deliver. */
  readonly netQty: bigint;
  readonly boughtValue: bigint;
  readonly soldValue: bigint;
  /** soldValue - boughtValue: > 0 to receive, < 0 to pay. */
  readonly netValue: bigint;
}

export interface FundsObligation {
  readonly account: string;
  /** The sum of the account's net values: > 0 to receive, < 0 to pay. */
  readonly netFunds: bigint;
}

export interface ClearingObligations {
  readonly securities: readonly SecuritiesObligation[];
  readonly funds: readonly FundsObligation[];
}

/** An execution in an instrument whose money units the caller does not know. */
export class UnknownInstrumentError extends Error {
  override readonly name = "UnknownInstrumentError";
  readonly reason = "UNKNOWN_INSTRUMENT";
  readonly instrument: string;
  constructor(instrument: string) {
    super(
      `instrument ${instrument} has no recorded terms at the time of a trade: its notional per tick and lot is unknown`,
    );
    this.instrument = instrument;
  }
}

/**
 * Nets a day's executions into obligations, sorted by account then instrument.
 * `notionalPerTickLot` gives the notional units per tick and lot each execution is valued with
 * (its instrument's terms at its time).
 */
export function clearingObligations<E extends ClearingExecution>(
  executions: Iterable<E>,
  notionalPerTickLot: (execution: E) => bigint | undefined,
): ClearingObligations {
  const sums = new Map<
    string,
    { account: string; instrument: string; bq: bigint; sq: bigint; bv: bigint; sv: bigint }
  >();
  for (const e of executions) {
    const unit = notionalPerTickLot(e);
    if (unit === undefined) throw new UnknownInstrumentError(e.instrument);
    const key = `${e.account}\u0000${e.instrument}`;
    let s = sums.get(key);
    if (s === undefined) {
      s = { account: e.account, instrument: e.instrument, bq: 0n, sq: 0n, bv: 0n, sv: 0n };
      sums.set(key, s);
    }
    const qty = BigInt(e.qty);
    const value = BigInt(e.price) * qty * unit;
    if (e.side === "BUY") {
      s.bq += qty;
      s.bv += value;
    } else {
      s.sq += qty;
      s.sv += value;
    }
  }
  const securities = [...sums.values()]
    .sort((a, b) => compare(a.account, b.account) || compare(a.instrument, b.instrument))
    .map((s) => ({
      account: s.account,
      instrument: s.instrument,
      boughtQty: s.bq,
      soldQty: s.sq,
      netQty: s.bq - s.sq,
      boughtValue: s.bv,
      soldValue: s.sv,
      netValue: s.sv - s.bv,
    }));
  const funds = new Map<string, bigint>();
  for (const s of securities) funds.set(s.account, (funds.get(s.account) ?? 0n) + s.netValue);
  return { securities, funds: [...funds].map(([account, netFunds]) => ({ account, netFunds })) };
}

/** Code-unit order, the same in every locale (and as PostgreSQL's "C" collation). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
