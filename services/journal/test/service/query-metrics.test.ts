import { Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import type {
  GetClearingObligationsResponse,
  GetOrderAuditTrailResponse,
  GetOrderToTradeRatioResponse,
  GetTradeRegisterResponse,
  JournalQueryClient,
  ListTradesResponse,
} from "@tradeplane/contracts";
import { AdminAuthority } from "@tradeplane/platform";
import { bearer, unary } from "@tradeplane/testkit";
import { recordInstrumentTerms } from "../../src/adapters/instrument-terms-store.ts";
import { writeBatch } from "../../src/adapters/journal-writer.ts";
import { queryMetrics } from "../../src/adapters/query-metrics.ts";
import type { SqlStore } from "../../src/adapters/sql-store.ts";
import { projectBatch } from "../../src/domain/projection.ts";
import { IST_T1_CALENDAR } from "../../src/domain/trading-calendar.ts";
import { journalStores, postgresForFile, startQueryServer, type QueryServer } from "./query-server.ts";
import { FILLED_ORDER_ID, NOTIONAL_PER_TICK_LOT, workedDayMessages } from "./worked-day.ts";

/**
 * The JournalQuery metrics as the journal's main wires them (queryMetrics fed by onCall),
 * over real gRPC on both stores, holding the hand-worked day: each method's calls, time and
 * the rows it returned.
 */

const READ_TOKEN = "read-only-token-0123456789";
const postgres = postgresForFile();

/** A histogram's `_count` and `_sum` by method. */
async function byMethod(registry: Registry, name: string): Promise<Record<string, { count: number; sum: number }>> {
  const out: Record<string, { count: number; sum: number }> = {};
  // A histogram's values carry the series name (_bucket, _sum, _count); prom-client's type omits it.
  const values = (await registry.getSingleMetric(name)!.get()).values as {
    labels: object;
    value: number;
    metricName?: string;
  }[];
  for (const v of values) {
    const method = String((v.labels as { method?: string }).method);
    const entry = (out[method] ??= { count: 0, sum: 0 });
    if (v.metricName === `${name}_count`) entry.count = v.value;
    if (v.metricName === `${name}_sum`) entry.sum = v.value;
  }
  return out;
}

describe.each(journalStores(postgres, "journal_query_metrics"))("JournalQuery metrics on %s", (_kind, open) => {
  let store: SqlStore;
  let server: QueryServer;
  let client: JournalQueryClient;
  const registry = new Registry();

  beforeAll(async () => {
    store = await open();
    await recordInstrumentTerms(
      store,
      [...NOTIONAL_PER_TICK_LOT].map(([instrument, notionalPerTickLot]) => ({ instrument, notionalPerTickLot })),
      Date.now() * 1000,
    );
    await store.transaction((tx) => writeBatch(tx, projectBatch(workedDayMessages("m").messages), "journal"));
    const metrics = queryMetrics(registry);
    server = await startQueryServer({
      db: store,
      admin: new AdminAuthority({ readOnly: [READ_TOKEN] }),
      calendar: { ...IST_T1_CALENDAR, holidays: ["2026-12-04"] },
      onCall: (call) => metrics.called(call),
    });
    client = server.client;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  it("times each answered call and counts the rows it returned, by method; a failed call only by its code", async () => {
    const auth = bearer(READ_TOKEN);
    const day = "2026-12-03";
    const trades = await unary<ListTradesResponse>((cb) =>
      client.listTrades(
        { account: "A", instrument: "", limit: 0, afterCommandSeq: 0, afterIndex: 0, afterRole: "" },
        auth,
        cb,
      ),
    );
    const trail = await unary<GetOrderAuditTrailResponse>((cb) =>
      client.getOrderAuditTrail({ orderId: FILLED_ORDER_ID }, auth, cb),
    );
    const ratios = await unary<GetOrderToTradeRatioResponse>((cb) =>
      client.getOrderToTradeRatio({ tradingDay: day, account: "" }, auth, cb),
    );
    const register = await unary<GetTradeRegisterResponse>((cb) =>
      client.getTradeRegister({ tradingDay: day, limit: 0, afterCommandSeq: 0, afterIndex: 0 }, auth, cb),
    );
    const obligations = await unary<GetClearingObligationsResponse>((cb) =>
      client.getClearingObligations({ tradingDay: day, account: "" }, auth, cb),
    );
    await expect(
      unary<ListTradesResponse>((cb) =>
        client.listTrades(
          { account: "A", instrument: "", limit: 0, afterCommandSeq: 0, afterIndex: 0, afterRole: "" },
          new Metadata(),
          cb,
        ),
      ),
    ).rejects.toMatchObject({ details: expect.stringContaining("bearer token") });

    const rows = {
      ListTrades: trades.executions.length,
      GetOrderAuditTrail: trail.events.length,
      GetOrderToTradeRatio: ratios.ratios.length,
      GetTradeRegister: register.trades.length,
      GetClearingObligations: obligations.securities.length + obligations.funds.length,
    };
    for (const n of Object.values(rows)) expect(n).toBeGreaterThan(0);
    expect(await byMethod(registry, "tp_journal_query_rows")).toEqual(
      Object.fromEntries(Object.entries(rows).map(([method, sum]) => [method, { count: 1, sum }])),
    );
    const seconds = await byMethod(registry, "tp_journal_query_seconds");
    expect(Object.keys(seconds).sort()).toEqual(Object.keys(rows).sort());
    for (const { count, sum } of Object.values(seconds)) {
      expect(count).toBe(1);
      expect(sum).toBeGreaterThan(0);
    }
    const calls = (await registry.getSingleMetric("tp_journal_queries_total")!.get()).values;
    expect(calls).toContainEqual(
      expect.objectContaining({ labels: { method: "ListTrades", code: "UNAUTHENTICATED" }, value: 1 }),
    );
    expect(calls).toContainEqual(expect.objectContaining({ labels: { method: "ListTrades", code: "OK" }, value: 1 }));
  });
});
