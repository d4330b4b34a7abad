import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandSeqOf, type EngineEvent } from "@tradeplane/contracts";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { eventRuns } from "@tradeplane/matching-core/event-runs";
import { Partition } from "@tradeplane/matching-core/partition";
import { commandStream, testInstrumentSettings } from "@tradeplane/testkit";
import { projectBatch, type StreamMessage } from "../../src/domain/projection.ts";
import { auditTrail, QueryRefusedError, tradesOfAccount } from "../../src/adapters/journal-queries.ts";
import { writeBatch } from "../../src/adapters/journal-writer.ts";
import { migrate, readMigrations } from "../../src/adapters/migrations.ts";
import { openPgliteStore } from "../../src/adapters/pglite-store.ts";
import type { SqlStore } from "../../src/adapters/sql-store.ts";

let store: SqlStore;
const events: EngineEvent[] = [];

beforeAll(async () => {
  store = await openPgliteStore(undefined);
  await migrate(store, await readMigrations());
  // 400 one-command log entries through the pure core, one stream message per run.
  const core = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
  const messages: StreamMessage[] = [];
  commandStream(400, 9, (i) => commandSeqOf(i + 1, 0)).forEach((command, i) => {
    core.apply(commandSeqOf(i + 1, 0), command);
    for (const run of eventRuns(core.wireEvents())) {
      events.push(...run.events);
      messages.push({ seq: messages.length + 1, subject: `tp.q.evt.0.${run.instrument}`, events: run.events });
    }
  });
  await store.transaction((tx) => writeBatch(tx, projectBatch(messages), "journal"));
});

afterAll(() => store?.close());

const trades = () => events.filter((e) => e.body?.$case === "trade");

describe("tradesOfAccount", () => {
  it("returns the account's own side of every trade it took part in, oldest first", async () => {
    const expected = trades().flatMap((e) => {
      const t = e.body?.$case === "trade" ? e.body.value : undefined;
      return [
        ...(t?.makerAccount === "acct-1" ? [`${e.commandSeq}/${e.index} maker ${t.makerOrderId}`] : []),
        ...(t?.takerAccount === "acct-1" ? [`${e.commandSeq}/${e.index} taker ${t.takerOrderId}`] : []),
      ];
    });
    expect(expected.length).toBeGreaterThan(0);
    const rows = await tradesOfAccount(store, { account: "acct-1", limit: 10_000 });
    expect(rows.map((r) => `${r.commandSeq}/${r.index} ${r.role} ${r.orderId}`)).toEqual(expected);
  });

  it("narrows to an instrument and a time range", async () => {
    const all = await tradesOfAccount(store, { account: "acct-2", instrument: "TCS" });
    expect(all.every((r) => r.instrument === "TCS")).toBe(true);
    const middle = all[Math.floor(all.length / 2)]!;
    const later = await tradesOfAccount(store, { account: "acct-2", instrument: "TCS", fromUs: middle.timeUs });
    expect(later).toEqual(all.filter((r) => r.timeUs >= middle.timeUs));
  });

  it.each([
    ["an empty account", { account: "" }, "INVALID_ACCOUNT"],
    ["a malformed instrument", { account: "a", instrument: "no spaces" }, "INVALID_INSTRUMENT"],
    ["a range that ends before it starts", { account: "a", fromUs: 10, toUs: 5 }, "INVALID_TIME_RANGE"],
    ["a limit over the maximum", { account: "a", limit: 10_001 }, "INVALID_LIMIT"],
  ])("refuses %s with a reason code", async (_name, query, reason) => {
    await expect(tradesOfAccount(store, query)).rejects.toMatchObject({ name: QueryRefusedError.name, reason });
  });
});

describe("auditTrail", () => {
  it("lists every event of an order in engine order, with the log entry and stream position", async () => {
    const traded = trades()[0]!;
    const orderId = traded.body?.$case === "trade" ? traded.body.value.makerOrderId : 0;
    const trail = await auditTrail(store, orderId);
    expect(trail[0]).toMatchObject({ kind: "accepted", commandSeq: orderId, logEntry: Math.floor(orderId / 1000) });
    expect(trail.some((e) => e.kind === "trade" && e.commandSeq === traded.commandSeq)).toBe(true);
    const keys = trail.map((e) => e.commandSeq * 10_000 + e.index);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(trail.every((e) => e.streamSeq >= 1)).toBe(true);
  });

  it("refuses an order id that cannot exist", async () => {
    await expect(auditTrail(store, 0)).rejects.toMatchObject({ reason: "INVALID_ORDER_ID" });
  });
});
