/**
 * The terms the journal values an instrument's trades with, kept with their validity so that a
 * trade is valued as it was when traded after its instrument is changed or removed from the
 * venue spec. Pure: which rows to add when the journal starts, and which row values a trade.
 */

/** An instrument's terms as the venue spec gives them. */
export interface InstrumentTerms {
  readonly instrument: string;
  /** Notional units (10^notionalExponent of the currency) of one lot at one tick. */
  readonly notionalPerTickLot: number;
  /** The spec's decimals the notional is made of, when known ("0.01", "75"). */
  readonly priceUnit?: string | undefined;
  readonly lotSize?: string | undefined;
}

/** Terms in force from validFromUs (microseconds since the epoch) until the next row's. */
export interface RecordedTerms extends InstrumentTerms {
  readonly validFromUs: number;
}

const same = (a: InstrumentTerms, b: InstrumentTerms): boolean =>
  a.notionalPerTickLot === b.notionalPerTickLot &&
  (a.priceUnit ?? null) === (b.priceUnit ?? null) &&
  (a.lotSize ?? null) === (b.lotSize ?? null);

/**
 * The rows to add for the configured terms, given the newest recorded row of each instrument:
 * none for unchanged terms; an instrument never recorded is valid from 0 (its trades journaled
 * before terms were recorded were valued with these); changed terms from `nowUs` (after the
 * newest row, should the clock have gone back). An instrument no longer configured keeps its
 * rows: its past trades are still valued with them.
 */
export function termsToRecord(
  newest: readonly RecordedTerms[],
  configured: readonly InstrumentTerms[],
  nowUs: number,
): RecordedTerms[] {
  const byInstrument = new Map(newest.map((t) => [t.instrument, t]));
  const out: RecordedTerms[] = [];
  for (const c of configured) {
    const last = byInstrument.get(c.instrument);
    if (last === undefined) out.push({ ...c, validFromUs: 0 });
    else if (!same(last, c)) out.push({ ...c, validFromUs: Math.max(nowUs, last.validFromUs + 1) });
  }
  return out;
}

/** Recorded terms by instrument, to value trades by their time. */
export class TermsHistory {
  private readonly byInstrument = new Map<string, RecordedTerms[]>();

  constructor(rows: Iterable<RecordedTerms>) {
    for (const r of rows) {
      const list = this.byInstrument.get(r.instrument) ?? [];
      list.push(r);
      this.byInstrument.set(r.instrument, list);
    }
    for (const list of this.byInstrument.values()) list.sort((a, b) => a.validFromUs - b.validFromUs);
  }

  /** The notional per tick and lot of `instrument` at `timeUs`; undefined when no terms cover it. */
  unitAt(instrument: string, timeUs: number): bigint | undefined {
    const list = this.byInstrument.get(instrument);
    if (list === undefined) return undefined;
    let found: RecordedTerms | undefined;
    for (const t of list) {
      if (t.validFromUs > timeUs) break;
      found = t;
    }
    return found === undefined ? undefined : BigInt(found.notionalPerTickLot);
  }
}
