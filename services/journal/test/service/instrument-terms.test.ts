import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GetClearingObligationsResponse,
  type JournalQueryClient,
  type GetTradeRegisterResponse,
  type ListTradesResponse,
} from "@tradeplane/contracts";
import { AdminAuthority } from "@tradeplane/platform";
import { bearer, unary } from "@tradeplane/testkit";
import { recordInstrumentTerms } from "../../src/adapters/instrument-terms-store.ts";
import { writeBatch } from "../../src/adapters/journal-writer.ts";
import type { SqlStore } from "../../src/adapters/sql-store.ts";
import { projectBatch } from "../../src/domain/projection.ts";
import { journalStores, postgresForFile, startQueryServer, type QueryServer } from "./query-server.ts";
import { workedDayMessages } from "./worked-day.ts";

/**
 * A journal answers for history: the hand-worked day (worked-day.ts) is journaled with the terms
 * of its time; then the venue spec drops NIFTY-FUT and changes RELIANCE's lot from 1 share to 10,
 * between trade 1 (04:00:01Z) and trade 2 (04:00:03Z), and the journal restarts with it. The
 * register, the trades and the obligations still answer, each trade valued with the terms in
 * force when it traded. Over real gRPC, on a real PostgreSQL server and on PGlite.
 */

const TOKEN = "read-only-token-0123456789";
const BEFORE_US = Date.parse("2026-12-01T00:00:00Z") * 1000;
const BETWEEN_TRADES_1_AND_2_US = Date.parse("2026-12-03T04:00:02Z") * 1000;
const DAY = "2026-12-03";

const postgres = postgresForFile();

describe.each(journalStores(postgres, "journal_terms"))("instrument terms on %s", (_kind, open) => {
  let store: SqlStore;
  let server: QueryServer;
  let client: JournalQueryClient;
  const metadata = bearer(TOKEN);

  beforeAll(async () => {
    store = await open();
    // The journal as it was configured when the day traded.
    expect(
      await recordInstrumentTerms(
        store,
        [
          { instrument: "RELIANCE", notionalPerTickLot: 1, priceUnit: "0.01", lotSize: "1" },
          { instrument: "NIFTY-FUT", notionalPerTickLot: 75, priceUnit: "0.01", lotSize: "75" },
        ],
        BEFORE_US,
      ),
    ).toHaveLength(2);
    await store.transaction((tx) => writeBatch(tx, projectBatch(workedDayMessages("t").messages), "journal"));
    // Restarted with the new spec: NIFTY-FUT removed, RELIANCE in lots of 10.
    expect(
      await recordInstrumentTerms(
        store,
        [{ instrument: "RELIANCE", notionalPerTickLot: 10, priceUnit: "0.01", lotSize: "10" }],
        BETWEEN_TRADES_1_AND_2_US,
      ),
    ).toEqual([
      {
        instrument: "RELIANCE",
        notionalPerTickLot: 10,
        priceUnit: "0.01",
        lotSize: "10",
        validFromUs: BETWEEN_TRADES_1_AND_2_US,
      },
    ]);
    server = await startQueryServer({
      db: store,
      admin: new AdminAuthority({ readOnly: [TOKEN] }),
    });
    client = server.client;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  it("records nothing when the journal restarts with the same terms", async () => {
    expect(
      await recordInstrumentTerms(
        store,
        [{ instrument: "RELIANCE", notionalPerTickLot: 10, priceUnit: "0.01", lotSize: "10" }],
        BETWEEN_TRADES_1_AND_2_US + 1_000_000,
      ),
    ).toEqual([]);
  });

  it("values the register with the terms of each trade's time, the removed instrument too", async () => {
    const res = await unary<GetTradeRegisterResponse>((cb) =>
      client.getTradeRegister({ tradingDay: DAY, limit: 0, afterCommandSeq: 0, afterIndex: 0 }, metadata, cb),
    );
    expect(res.trades.map((t) => [t.instrument, t.qty, t.price, t.value])).toEqual([
      ["RELIANCE", 10, 130_000, 1_300_000], // before the change: 1 paisa per tick and lot
      ["RELIANCE", 4, 130_500, 5_220_000], // after it: lots of 10
      ["NIFTY-FUT", 2, 2_600_000, 390_000_000], // removed since: its terms of the day
      ["NIFTY-FUT", 1, 2_599_000, 194_925_000],
    ]);
  });

  it("values one account's trades the same way", async () => {
    const res = await unary<ListTradesResponse>((cb) =>
      client.listTrades(
        {
          account: "A",
          instrument: "",
          limit: 0,
          afterCommandSeq: 0,
          afterIndex: 0,
          afterRole: "",
          fromTime: { seconds: Date.parse("2026-12-03T00:00:00Z") / 1000, nanos: 0 },
          toTime: { seconds: Date.parse("2026-12-03T12:00:00Z") / 1000, nanos: 0 },
        },
        metadata,
        cb,
      ),
    );
    expect(res.executions.map((e) => [e.instrument, e.qty, e.value])).toEqual([
      ["RELIANCE", 10, 1_300_000],
      ["RELIANCE", 4, 5_220_000],
      ["NIFTY-FUT", 1, 194_925_000],
    ]);
  });

  it("nets the obligations with the terms of each trade's time", async () => {
    const res = await unary<GetClearingObligationsResponse>((cb) =>
      client.getClearingObligations({ tradingDay: DAY, account: "" }, metadata, cb),
    );
    const a = res.securities.filter((s) => s.account === "A");
    expect(a.map((s) => [s.instrument, s.netQty, s.boughtValue, s.soldValue, s.netValue])).toEqual([
      ["NIFTY-FUT", -1, 0, 194_925_000, 194_925_000],
      ["RELIANCE", 6, 1_300_000, 5_220_000, 3_920_000],
    ]);
    // A 194,925,000 + 3,920,000; B 195,075,000 + 1,300,000; C -390,000,000 - 5,220,000: still summing to 0.
    expect(res.funds).toEqual([
      { account: "A", netFunds: 198_845_000 },
      { account: "B", netFunds: 196_375_000 },
      { account: "C", netFunds: -395_220_000 },
    ]);
  });
});
