import { Metadata, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Side,
  type JournalQueryClient,
  type GetClearingObligationsResponse,
  type GetOrderAuditTrailResponse,
  type GetOrderToTradeRatioResponse,
  type GetTradeRegisterResponse,
  type ListTradesResponse,
} from "@tradeplane/contracts";
import { AdminAuthority } from "@tradeplane/platform";
import { bearer, unary } from "@tradeplane/testkit";
import { writeBatch } from "../../src/adapters/journal-writer.ts";
import { recordInstrumentTerms } from "../../src/adapters/instrument-terms-store.ts";
import type { SqlStore } from "../../src/adapters/sql-store.ts";
import { projectBatch } from "../../src/domain/projection.ts";
import { IST_T1_CALENDAR } from "../../src/domain/trading-calendar.ts";
import { journalStores, postgresForFile, startQueryServer, type QueryServer } from "./query-server.ts";
import { FILLED_ORDER_ID, NOTIONAL_PER_TICK_LOT, REPLACED_ORDER_ID, workedDayMessages } from "./worked-day.ts";

/**
 * JournalQuery over real gRPC on loopback, on both stores the journal runs on (a real
 * PostgreSQL server and PGlite), holding the hand-worked day (worked-day.ts) as the real
 * matching core traded it.
 */

const READ_TOKEN = "read-only-token-0123456789";
const RISK_TOKEN = "risk-officer-token-0123456789";
const A_TOKEN = "trading-token-of-account-a";

const postgres = postgresForFile();

describe.each(journalStores(postgres, "journal_query"))("JournalQuery on %s", (_kind, open) => {
  let store: SqlStore;
  let server: QueryServer;
  let client: JournalQueryClient;

  beforeAll(async () => {
    store = await open();
    await recordInstrumentTerms(
      store,
      [...NOTIONAL_PER_TICK_LOT].map(([instrument, notionalPerTickLot]) => ({ instrument, notionalPerTickLot })),
      Date.now() * 1000,
    );
    const { messages } = workedDayMessages("q");
    await store.transaction((tx) => writeBatch(tx, projectBatch(messages), "journal"));
    server = await startQueryServer({
      db: store,
      admin: new AdminAuthority({ readOnly: [READ_TOKEN], riskOfficer: [RISK_TOKEN] }),
      // The accounts bucket's answer for trading tokens (a real bucket: journal-main.test.ts).
      tradingAccounts: (token) => Promise.resolve(token === A_TOKEN ? { principal: "A", accounts: ["A"] } : undefined),
      calendar: { ...IST_T1_CALENDAR, holidays: ["2026-12-04"] },
    });
    client = server.client;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  const auth = (token = READ_TOKEN) => bearer(token);

  it("gives the clearing obligations of the hand-worked day, settling T+1 over a holiday and the weekend", async () => {
    const res = await unary<GetClearingObligationsResponse>((cb) =>
      client.getClearingObligations({ tradingDay: "2026-12-03", account: "" }, auth(), cb),
    );
    // Friday 2026-12-04 is a holiday here, then the weekend: T+1 is Monday.
    expect(res).toMatchObject({
      tradingDay: "2026-12-03",
      settlementDate: "2026-12-07",
      currency: "INR",
      notionalExponent: -2,
    });
    const row = (account: string, instrument: string, q: number[], v: number[]) => ({
      account,
      instrument,
      boughtQty: q[0],
      soldQty: q[1],
      netQty: q[2],
      boughtValue: v[0],
      soldValue: v[1],
      netValue: v[2],
    });
    expect(res.securities).toEqual([
      row("A", "NIFTY-FUT", [0, 1, -1], [0, 194_925_000, 194_925_000]),
      row("A", "RELIANCE", [10, 4, 6], [1_300_000, 522_000, -778_000]),
      row("B", "NIFTY-FUT", [1, 2, -1], [194_925_000, 390_000_000, 195_075_000]),
      row("B", "RELIANCE", [0, 10, -10], [0, 1_300_000, 1_300_000]),
      row("C", "NIFTY-FUT", [2, 0, 2], [390_000_000, 0, -390_000_000]),
      row("C", "RELIANCE", [4, 0, 4], [522_000, 0, -522_000]),
    ]);
    expect(res.funds).toEqual([
      { account: "A", netFunds: 194_147_000 },
      { account: "B", netFunds: 196_375_000 },
      { account: "C", netFunds: -390_522_000 },
    ]);
  });

  it("puts the trade at 00:00 IST into the next day, for one account", async () => {
    const res = await unary<GetClearingObligationsResponse>((cb) =>
      client.getClearingObligations({ tradingDay: "2026-12-04", account: "A" }, auth(), cb),
    );
    expect(res.securities).toEqual([
      {
        account: "A",
        instrument: "RELIANCE",
        boughtQty: 0,
        soldQty: 1,
        netQty: -1,
        boughtValue: 0,
        soldValue: 130_000,
        netValue: 130_000,
      },
    ]);
    expect(res.funds).toEqual([{ account: "A", netFunds: 130_000 }]);
  });

  it("lists the day's register with both sides of each trade and its value", async () => {
    const res = await unary<GetTradeRegisterResponse>((cb) =>
      client.getTradeRegister({ tradingDay: "2026-12-03", limit: 0, afterCommandSeq: 0, afterIndex: 0 }, auth(), cb),
    );
    expect(res.more).toBe(false);
    expect(
      res.trades.map((t) => [t.instrument, t.buyAccount, t.sellAccount, t.qty, t.price, t.value, t.aggressorSide]),
    ).toEqual([
      ["RELIANCE", "A", "B", 10, 130_000, 1_300_000, Side.BUY],
      ["RELIANCE", "C", "A", 4, 130_500, 522_000, Side.BUY],
      ["NIFTY-FUT", "C", "B", 2, 2_600_000, 390_000_000, Side.BUY],
      ["NIFTY-FUT", "B", "A", 1, 2_599_000, 194_925_000, Side.BUY],
    ]);
    const page = await unary<GetTradeRegisterResponse>((cb) =>
      client.getTradeRegister({ tradingDay: "2026-12-03", limit: 3, afterCommandSeq: 0, afterIndex: 0 }, auth(), cb),
    );
    expect(page.trades).toHaveLength(3);
    expect(page.more).toBe(true);
    const last = page.trades[2]!;
    const rest = await unary<GetTradeRegisterResponse>((cb) =>
      client.getTradeRegister(
        { tradingDay: "2026-12-03", limit: 3, afterCommandSeq: last.commandSeq, afterIndex: last.index },
        auth(),
        cb,
      ),
    );
    expect(rest.trades.map((t) => t.value)).toEqual([194_925_000]);
  });

  it("counts order messages per trade for each account", async () => {
    const res = await unary<GetOrderToTradeRatioResponse>((cb) =>
      client.getOrderToTradeRatio({ tradingDay: "2026-12-03", account: "" }, auth(), cb),
    );
    expect(res.ratios).toEqual([
      { account: "A", orders: 3, entries: 3, modifications: 0, cancellations: 0, trades: 3, ratioMilli: 1000 },
      { account: "B", orders: 3, entries: 3, modifications: 0, cancellations: 0, trades: 3, ratioMilli: 1000 },
      { account: "C", orders: 5, entries: 3, modifications: 1, cancellations: 1, trades: 2, ratioMilli: 2500 },
    ]);
  });

  it("lists an account's executions in a time range, paged", async () => {
    const all = await unary<ListTradesResponse>((cb) =>
      client.listTrades(
        { account: "A", instrument: "", limit: 0, afterCommandSeq: 0, afterIndex: 0, afterRole: "" },
        auth(),
        cb,
      ),
    );
    expect(all.executions.map((e) => [e.instrument, e.side, e.qty, e.value, e.role])).toEqual([
      ["RELIANCE", Side.BUY, 10, 1_300_000, "TAKER"],
      ["RELIANCE", Side.SELL, 4, 522_000, "MAKER"],
      ["NIFTY-FUT", Side.SELL, 1, 194_925_000, "MAKER"],
      ["RELIANCE", Side.SELL, 1, 130_000, "TAKER"],
    ]);
    const day = await unary<ListTradesResponse>((cb) =>
      client.listTrades(
        {
          account: "A",
          instrument: "RELIANCE",
          fromTime: { seconds: Date.parse("2026-12-02T18:30:00Z") / 1000, nanos: 0 },
          toTime: { seconds: Date.parse("2026-12-03T18:30:00Z") / 1000, nanos: 0 },
          limit: 1,
          afterCommandSeq: 0,
          afterIndex: 0,
          afterRole: "",
        },
        auth(),
        cb,
      ),
    );
    expect(day.executions.map((e) => e.qty)).toEqual([10]);
    expect(day.more).toBe(true);
    const first = day.executions[0]!;
    const next = await unary<ListTradesResponse>((cb) =>
      client.listTrades(
        {
          account: "A",
          instrument: "RELIANCE",
          toTime: { seconds: Date.parse("2026-12-03T18:30:00Z") / 1000, nanos: 0 },
          limit: 10,
          afterCommandSeq: first.commandSeq,
          afterIndex: first.index,
          afterRole: first.role,
        },
        auth(),
        cb,
      ),
    );
    expect(next.executions.map((e) => e.qty)).toEqual([4]);
  });

  it("gives an order's audit trail with the log entry and position effect of each event", async () => {
    const res = await unary<GetOrderAuditTrailResponse>((cb) =>
      client.getOrderAuditTrail({ orderId: REPLACED_ORDER_ID }, auth(), cb),
    );
    expect(res).toMatchObject({ orderId: REPLACED_ORDER_ID, instrument: "RELIANCE", account: "C" });
    expect(res.events.map((e) => [e.kind, e.logEntry, e.filledQty, e.leavesQty])).toEqual([
      ["accepted", 9, 0, 5],
      ["replaced", 10, 0, 3],
      ["cancelled", 11, 0, 0],
    ]);
    expect(res.events[0]!.time).toEqual({ seconds: Date.parse("2026-12-03T04:00:08Z") / 1000, nanos: 0 });
    const filled = await unary<GetOrderAuditTrailResponse>((cb) =>
      client.getOrderAuditTrail({ orderId: FILLED_ORDER_ID }, auth(), cb),
    );
    expect(filled.events.map((e) => [e.kind, e.logEntry, e.filledQty, e.leavesQty])).toEqual([
      ["accepted", 2, 0, 10],
      ["trade", 2, 10, 0],
    ]);
    expect(JSON.parse(filled.events[1]!.eventJson)).toMatchObject({ trade: { qty: 10, price: 130_000 } });
  });

  it.each([
    [
      "an unknown order",
      () => unary<GetOrderAuditTrailResponse>((cb) => client.getOrderAuditTrail({ orderId: 999_999_000 }, auth(), cb)),
      status.NOT_FOUND,
      "no event",
    ],
    [
      "a day that does not exist",
      () =>
        unary<GetClearingObligationsResponse>((cb) =>
          client.getClearingObligations({ tradingDay: "2026-02-30", account: "" }, auth(), cb),
        ),
      status.INVALID_ARGUMENT,
      "INVALID_TRADING_DAY",
    ],
    [
      "a bad account",
      () =>
        unary<GetOrderToTradeRatioResponse>((cb) =>
          client.getOrderToTradeRatio({ tradingDay: "2026-12-03", account: "a b" }, auth(), cb),
        ),
      status.INVALID_ARGUMENT,
      "INVALID_ACCOUNT",
    ],
    [
      "a limit over 10,000",
      () =>
        unary<ListTradesResponse>((cb) =>
          client.listTrades(
            { account: "", instrument: "", limit: 10_001, afterCommandSeq: 0, afterIndex: 0, afterRole: "" },
            auth(),
            cb,
          ),
        ),
      status.INVALID_ARGUMENT,
      "INVALID_LIMIT",
    ],
    [
      "a string past the request bounds",
      () =>
        unary<ListTradesResponse>((cb) =>
          client.listTrades(
            { account: "x".repeat(2_000), instrument: "", limit: 0, afterCommandSeq: 0, afterIndex: 0, afterRole: "" },
            auth(),
            cb,
          ),
        ),
      status.INVALID_ARGUMENT,
      "longer than",
    ],
    [
      "a call without a token",
      () =>
        unary<GetClearingObligationsResponse>((cb) =>
          client.getClearingObligations({ tradingDay: "2026-12-03", account: "" }, new Metadata(), cb),
        ),
      status.UNAUTHENTICATED,
      "bearer",
    ],
    [
      "a token that is neither an admin's nor a trading token",
      () =>
        unary<GetClearingObligationsResponse>((cb) =>
          client.getClearingObligations({ tradingDay: "2026-12-03", account: "" }, auth("some-unknown-token-0123"), cb),
        ),
      status.UNAUTHENTICATED,
      "unknown token",
    ],
  ])("refuses %s", async (_name, call, code, text) => {
    await expect(call()).rejects.toMatchObject({ code, details: expect.stringContaining(text) });
  });

  it("lets every admin role read", async () => {
    const res = await unary<GetClearingObligationsResponse>((cb) =>
      client.getClearingObligations({ tradingDay: "2026-12-03", account: "C" }, auth(RISK_TOKEN), cb),
    );
    expect(res.funds).toEqual([{ account: "C", netFunds: -390_522_000 }]);
  });

  describe("with account A's trading token", () => {
    it("gives A's own obligations when it names no account", async () => {
      const res = await unary<GetClearingObligationsResponse>((cb) =>
        client.getClearingObligations({ tradingDay: "2026-12-03", account: "" }, auth(A_TOKEN), cb),
      );
      expect(res.securities.map((s) => s.account)).toEqual(["A", "A"]);
      expect(res.funds).toEqual([{ account: "A", netFunds: 194_147_000 }]);
    });

    it("gives A's own executions and ratio", async () => {
      const trades = await unary<ListTradesResponse>((cb) =>
        client.listTrades(
          { account: "", instrument: "", limit: 0, afterCommandSeq: 0, afterIndex: 0, afterRole: "" },
          auth(A_TOKEN),
          cb,
        ),
      );
      expect(new Set(trades.executions.map((e) => e.account))).toEqual(new Set(["A"]));
      const otr = await unary<GetOrderToTradeRatioResponse>((cb) =>
        client.getOrderToTradeRatio({ tradingDay: "2026-12-03", account: "" }, auth(A_TOKEN), cb),
      );
      expect(otr.ratios.map((r) => r.account)).toEqual(["A"]);
    });

    it.each([
      [
        "another account's obligations",
        () =>
          unary<GetClearingObligationsResponse>((cb) =>
            client.getClearingObligations({ tradingDay: "2026-12-03", account: "B" }, auth(A_TOKEN), cb),
          ),
        status.PERMISSION_DENIED,
        "may not read that account",
      ],
      [
        "the register, which names every counterparty",
        () =>
          unary<GetTradeRegisterResponse>((cb) =>
            client.getTradeRegister(
              { tradingDay: "2026-12-03", limit: 0, afterCommandSeq: 0, afterIndex: 0 },
              auth(A_TOKEN),
              cb,
            ),
          ),
        status.PERMISSION_DENIED,
        "admin token",
      ],
      [
        "C's order, as if it did not exist",
        () =>
          unary<GetOrderAuditTrailResponse>((cb) =>
            client.getOrderAuditTrail({ orderId: REPLACED_ORDER_ID }, auth(A_TOKEN), cb),
          ),
        status.NOT_FOUND,
        "no event",
      ],
    ])("refuses %s", async (_name, call, code, text) => {
      await expect(call()).rejects.toMatchObject({ code, details: expect.stringContaining(text) });
    });
  });
});
