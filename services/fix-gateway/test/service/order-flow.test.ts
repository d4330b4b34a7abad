// NewOrderSingle to fills, replace, cancel, status, mass cancel and cancel-on-disconnect
// through the FIX gateway in front of a real local venue (engine, risk gateway, market data).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FixClient } from "../support/fix-client.ts";
import { startFixVenue, type FixVenue } from "../support/venue.ts";

let venue: FixVenue;
let a: FixClient; // acc1
let b: FixClient; // acc2

const logon = (compId: string) => FixClient.logon(venue.gateway.fixPort, compId);

beforeAll(async () => {
  venue = await startFixVenue("fixflow", [
    { id: "a", compId: "BROKER_A", account: "acc1" },
    { id: "b", compId: "BROKER_B", account: "acc2" },
    { id: "a2", compId: "BROKER_A2", account: "acc1", cancelOnDisconnect: true },
  ]);
  a = await logon("BROKER_A");
  b = await logon("BROKER_B");
});
afterAll(async () => {
  a?.close();
  b?.close();
  await venue?.close();
});

describe("FIX order flow against a real venue", () => {
  it("acknowledges a new order, then reports a partial fill and a fill against another session's order", async () => {
    const from = a.received.length;
    a.send("D", "11=buy-1|55=INFY|54=1|38=10|40=2|44=1000.00|59=0|60=20260301-12:00:00", { sender: "BROKER_A" });
    expect(await a.waitFor((f) => f[35] === "8" && f[11] === "buy-1", from)).toMatchObject({
      150: "0",
      39: "0",
      55: "INFY",
      54: "1",
      38: "10",
      44: "1000.00",
      14: "0",
      151: "10",
      6: "0",
      32: "0",
      31: "0",
    });
    b.send("D", "11=sell-1|55=INFY|54=2|38=4|40=2|44=1000.00|59=3", { sender: "BROKER_B" });
    expect(await a.waitFor((f) => f[35] === "8" && f[150] === "F", from)).toMatchObject({
      11: "buy-1",
      39: "1",
      32: "4",
      31: "1000.00",
      14: "4",
      151: "6",
      6: "1000.00",
    });
    expect(await b.waitFor((f) => f[11] === "sell-1" && f[150] === "F")).toMatchObject({ 39: "2", 14: "4", 151: "0" });
    b.send("D", "11=sell-2|55=INFY|54=2|38=6|40=2|44=1000.00|59=3", { sender: "BROKER_B" });
    expect(await a.waitFor((f) => f[150] === "F" && f[39] === "2", from)).toMatchObject({
      14: "10",
      151: "0",
      32: "6",
    });
  });

  it("exports its metrics: sessions, messages by type, D-to-8 latency per session, business rejects by reason", async () => {
    const from = a.received.length;
    a.send("R", "131=quote-1", { sender: "BROKER_A" }); // QuoteRequest: not supported
    expect(await a.waitFor((f) => f[35] === "j", from)).toMatchObject({ 380: "3", 372: "R" });
    const text = await (await fetch(`http://127.0.0.1:${venue.gateway.opsPort}/metrics`)).text();
    expect(text).toMatch(/tp_fix_sessions_logged_on\{[^}]*session="a"[^}]*\} 1/);
    expect(text).toMatch(/tp_fix_messages_total\{[^}]*direction="in"[^}]*msg_type="D"[^}]*\} [1-9]/);
    expect(text).toMatch(/tp_fix_new_order_ack_seconds_count\{[^}]*session="a"[^}]*\} [1-9]/);
    expect(text).toMatch(/tp_fix_new_order_ack_seconds_count\{[^}]*session="b"[^}]*\} [1-9]/);
    expect(text).toMatch(/tp_fix_business_rejects_total\{(?=[^}]*session="a")(?=[^}]*reason="3")[^}]*\} 1\n/);
  });

  it("replaces, reports status, cancels", async () => {
    const from = a.received.length;
    a.send("D", "11=rest-1|55=INFY|54=1|38=10|40=2|44=990.00", { sender: "BROKER_A" });
    await a.waitFor((f) => f[11] === "rest-1" && f[150] === "0", from);
    a.send("G", "11=rest-2|41=rest-1|55=INFY|54=1|38=7|40=2|44=991.00", { sender: "BROKER_A" });
    expect(await a.waitFor((f) => f[150] === "5", from)).toMatchObject({
      11: "rest-2",
      41: "rest-1",
      38: "7",
      44: "991.00",
      39: "0",
      151: "7",
    });
    a.send("H", "11=rest-2|55=INFY|54=1|790=st-1", { sender: "BROKER_A" });
    expect(await a.waitFor((f) => f[150] === "I", from)).toMatchObject({
      11: "rest-2",
      39: "0",
      151: "7",
      790: "st-1",
    });
    a.send("F", "11=cxl-1|41=rest-2|55=INFY|54=1", { sender: "BROKER_A" });
    expect(await a.waitFor((f) => f[150] === "4", from)).toMatchObject({
      11: "cxl-1",
      41: "rest-2",
      39: "4",
      151: "0",
    });
    a.send("F", "11=cxl-2|41=rest-2|55=INFY|54=1", { sender: "BROKER_A" });
    expect(await a.waitFor((f) => f[35] === "9", from)).toMatchObject({ 11: "cxl-2", 434: "1" });
  });

  it("refuses an order off tick with a reason, and answers a mass cancel", async () => {
    const from = a.received.length;
    a.send("D", "11=odd-1|55=INFY|54=1|38=1|40=2|44=1000.005", { sender: "BROKER_A" });
    expect(await a.waitFor((f) => f[11] === "odd-1", from)).toMatchObject({ 150: "8", 39: "8", 103: "18" });
    a.send("D", "11=mc-o1|55=TCS|54=1|38=1|40=2|44=999.00", { sender: "BROKER_A" });
    a.send("D", "11=mc-o2|55=TCS|54=1|38=1|40=2|44=998.00", { sender: "BROKER_A" });
    await a.waitFor((f) => f[11] === "mc-o2" && f[150] === "0", from);
    a.send("q", "11=mc-1|530=7", { sender: "BROKER_A" });
    expect(await a.waitFor((f) => f[35] === "r", from)).toMatchObject({ 11: "mc-1", 530: "7", 531: "7", 533: "2" });
  });

  it("cancels on disconnect only the orders of the session that disconnected", async () => {
    const a2 = await logon("BROKER_A2");
    const fromA = a.received.length;
    a.send("D", "11=keep-1|55=TCS|54=1|38=1|40=2|44=990.00", { sender: "BROKER_A" });
    await a.waitFor((f) => f[11] === "keep-1" && f[150] === "0", fromA);
    a2.send("D", "11=drop-1|55=TCS|54=1|38=1|40=2|44=990.00", { sender: "BROKER_A2" });
    await a2.waitFor((f) => f[11] === "drop-1" && f[150] === "0");
    a2.close();
    // keep-1 still works: a status request shows it open; drop-1 is cancelled (seen via its status).
    const from = a.received.length;
    for (let i = 0; i < 50; i++) {
      a.send("H", `11=drop-1|55=TCS|54=1|790=s${i}`, { sender: "BROKER_A" });
      const st = await a.waitFor((f) => f[790] === `s${i}` || (f[11] === "drop-1" && f[35] === "8"), from);
      if (st[39] === "4") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    a.send("H", "11=drop-1|55=TCS|54=1|790=final", { sender: "BROKER_A" });
    expect(await a.waitFor((f) => f[790] === "final", from)).toMatchObject({ 39: "4" });
    a.send("H", "11=keep-1|55=TCS|54=1|790=kept", { sender: "BROKER_A" });
    expect(await a.waitFor((f) => f[790] === "kept", from)).toMatchObject({ 39: "0" });
  });

  it("holds the reports of a logged-out session and sends them at its next Logon", async () => {
    b.send("D", "11=held-1|55=TCS|54=2|38=3|40=2|44=1005.00|59=1", { sender: "BROKER_B" });
    await b.waitFor((f) => f[11] === "held-1" && f[150] === "0");
    b.send("5", "", { sender: "BROKER_B" });
    await b.waitClosed();
    const fromA = a.received.length;
    a.send("D", "11=take-1|55=TCS|54=1|38=3|40=2|44=1005.00|59=3", { sender: "BROKER_A" });
    await a.waitFor((f) => f[11] === "take-1" && f[39] === "2", fromA);
    b = await FixClient.connect(venue.gateway.fixPort, b.seq);
    b.send("A", "98=0|108=30", { sender: "BROKER_B" });
    expect(await b.waitFor((f) => f[11] === "held-1" && f[150] === "F")).toMatchObject({ 39: "2", 14: "3", 151: "0" });
  });

  it("sends each ExecutionReport exactly once (one account report stream per account, never a second copy)", async () => {
    // Late copies would arrive after the answers the tests above waited for.
    await new Promise((r) => setTimeout(r, 1_500));
    const reports = a.received.filter((f) => f[35] === "8" && f[43] !== "Y" && f[150] !== "I");
    const perExecId = new Map<string, number>();
    for (const f of reports) perExecId.set(f[17]!, (perExecId.get(f[17]!) ?? 0) + 1);
    expect([...perExecId].filter(([, n]) => n !== 1)).toEqual([]);
    const count = (clOrdId: string) => reports.filter((f) => f[11] === clOrdId).length;
    // NEW, partial fill, fill; NEW (then replaced); the replace; the cancel; the refusal.
    expect([count("buy-1"), count("rest-1"), count("rest-2"), count("cxl-1"), count("odd-1")]).toEqual([3, 1, 1, 1, 1]);
  });
});
