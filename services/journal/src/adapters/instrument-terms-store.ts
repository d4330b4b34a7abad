import { TermsHistory, termsToRecord, type InstrumentTerms, type RecordedTerms } from "../domain/instrument-terms.ts";
import type { SqlExecutor, SqlStore } from "./sql-store.ts";

/** Any constant: serialises replicas recording terms at the same start. */
const TERMS_LOCK = 7_346_202;

const SELECT_TERMS = `SELECT instrument, valid_from_us "validFromUs", notional_per_tick_lot "notionalPerTickLot",
  price_unit "priceUnit", lot_size "lotSize" FROM instrument_terms`;

type Row = Omit<RecordedTerms, "priceUnit" | "lotSize"> & { priceUnit: string | null; lotSize: string | null };
const fromRow = (r: Row): RecordedTerms => ({
  instrument: r.instrument,
  validFromUs: r.validFromUs,
  notionalPerTickLot: r.notionalPerTickLot,
  ...(r.priceUnit !== null ? { priceUnit: r.priceUnit } : {}),
  ...(r.lotSize !== null ? { lotSize: r.lotSize } : {}),
});

/**
 * Records the configured terms that differ from the newest recorded (domain/instrument-terms.ts),
 * in one transaction; returns the rows added. Called once as the journal starts.
 */
export function recordInstrumentTerms(
  store: SqlStore,
  configured: readonly InstrumentTerms[],
  nowUs: number,
): Promise<RecordedTerms[]> {
  return store.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [TERMS_LOCK]);
    const newest = await tx.query<Row>(
      `SELECT DISTINCT ON (instrument) * FROM (${SELECT_TERMS}) t ORDER BY instrument, "validFromUs" DESC`,
    );
    const added = termsToRecord(newest.map(fromRow), configured, nowUs);
    for (const t of added)
      await tx.query(
        `INSERT INTO instrument_terms (instrument, valid_from_us, notional_per_tick_lot, price_unit, lot_size)
         VALUES ($1, $2, $3, $4, $5)`,
        [t.instrument, t.validFromUs, t.notionalPerTickLot, t.priceUnit ?? null, t.lotSize ?? null],
      );
    return added;
  });
}

/** Every recorded term (a few rows per instrument), to value trades by their time. */
export async function termsHistory(db: SqlExecutor): Promise<TermsHistory> {
  return new TermsHistory((await db.query<Row>(SELECT_TERMS)).map(fromRow));
}
