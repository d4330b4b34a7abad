// Interoperability with QuickFIX: a C++ initiator built against Debian's libquickfix-dev
// trades through the FIX gateway in front of a real local venue, and resumes its session
// (sequence numbers on both sides) after the gateway restarts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildInitiator, QuickFixInitiator } from "../support/quickfix.ts";
import { startFixVenue, type FixVenue } from "../support/venue.ts";

let venue: FixVenue;
let binary: string;
let a: QuickFixInitiator;
let b: QuickFixInitiator;

beforeAll(async () => {
  binary = buildInitiator(mkdtempSync(join(tmpdir(), "quickfix-build-")));
  venue = await startFixVenue("qfinterop", [
    { id: "qf-a", compId: "QF_A", account: "acc1" },
    { id: "qf-b", compId: "QF_B", account: "acc2" },
  ]);
  const port = venue.gateway.fixPort;
  a = new QuickFixInitiator(binary, { port, senderCompId: "QF_A", targetCompId: "VENUE" });
  b = new QuickFixInitiator(binary, { port, senderCompId: "QF_B", targetCompId: "VENUE" });
});
afterAll(async () => {
  a?.kill();
  b?.kill();
  await venue?.close();
});

describe("QuickFIX C++ initiator against the FIX gateway", () => {
  it("logs on, trades, replaces, asks status, cancels, mass cancels, resumes after a gateway restart, logs out", async () => {
    await a.waitFor(() => a.logons === 1, "QF_A logon");
    await b.waitFor(() => b.logons === 1, "QF_B logon");

    // new order, partial fill and fill against the other session's orders
    a.send("35=D|11=qa-1|55=INFY|54=1|38=10|40=2|44=1000.00|59=0|60=20260301-12:00:00.000");
    expect(await a.message((f) => f[11] === "qa-1" && f[150] === "0", "qa-1 new")).toMatchObject({
      39: "0",
      151: "10",
    });
    b.send("35=D|11=qb-1|55=INFY|54=2|38=4|40=2|44=1000.00|59=3|60=20260301-12:00:00.000");
    expect(await a.message((f) => f[11] === "qa-1" && f[39] === "1", "qa-1 partial")).toMatchObject({
      150: "F",
      32: "4",
      14: "4",
      151: "6",
      31: "1000.00",
    });
    b.send("35=D|11=qb-2|55=INFY|54=2|38=6|40=2|44=1000.00|59=3|60=20260301-12:00:00.000");
    expect(await a.message((f) => f[11] === "qa-1" && f[39] === "2", "qa-1 filled")).toMatchObject({
      14: "10",
      151: "0",
    });
    expect(await b.message((f) => f[11] === "qb-2" && f[39] === "2", "qb-2 filled")).toMatchObject({ 150: "F" });

    // replace, status, cancel
    a.send("35=D|11=qa-2|55=INFY|54=1|38=5|40=2|44=990.00|59=1|60=20260301-12:00:00.000");
    await a.message((f) => f[11] === "qa-2" && f[150] === "0", "qa-2 new");
    a.send("35=G|11=qa-3|41=qa-2|55=INFY|54=1|38=3|40=2|44=991.00|60=20260301-12:00:00.000");
    expect(await a.message((f) => f[150] === "5", "replaced")).toMatchObject({
      11: "qa-3",
      41: "qa-2",
      38: "3",
      44: "991.00",
    });
    a.send("35=H|11=qa-3|55=INFY|54=1|790=status-1");
    expect(await a.message((f) => f[790] === "status-1", "status")).toMatchObject({ 150: "I", 39: "0", 151: "3" });
    a.send("35=F|11=qa-4|41=qa-3|55=INFY|54=1|60=20260301-12:00:00.000");
    expect(await a.message((f) => f[11] === "qa-4", "cancelled")).toMatchObject({ 150: "4", 39: "4", 41: "qa-3" });

    // mass cancel
    a.send("35=D|11=qa-5|55=TCS|54=1|38=1|40=2|44=990.00|59=1|60=20260301-12:00:00.000");
    a.send("35=D|11=qa-6|55=TCS|54=2|38=1|40=2|44=1010.00|59=1|60=20260301-12:00:00.000");
    await a.message((f) => f[11] === "qa-6" && f[150] === "0", "qa-6 new");
    a.send("35=q|11=qa-7|530=7|60=20260301-12:00:00.000");
    expect(await a.message((f) => f[35] === "r", "mass cancel report")).toMatchObject({ 531: "7", 533: "2" });

    // an order resting through the restart
    a.send("35=D|11=qa-9|55=INFY|54=1|38=2|40=2|44=985.00|59=1|60=20260301-12:00:00.000");
    await a.message((f) => f[11] === "qa-9" && f[150] === "0", "qa-9 new");

    // gateway restart: QuickFIX reconnects on its own and both sides go on from their numbers
    const beforeRestart = a.received.length;
    const lastSeqIn = Math.max(...a.received.map((f) => Number(f[34])));
    await venue.restartFixGateway();
    await a.waitFor(() => a.logons === 2, "QF_A logon after the restart");
    const logon = await a.message((f) => f[35] === "A", "the gateway's Logon", beforeRestart);
    expect(Number(logon[34])).toBeGreaterThan(lastSeqIn);
    expect(logon[141]).toBeUndefined();
    a.send("35=D|11=qa-8|55=INFY|54=1|38=1|40=2|44=980.00|59=0|60=20260301-12:00:00.000");
    expect(await a.message((f) => f[11] === "qa-8", "qa-8 after the restart", beforeRestart)).toMatchObject({
      150: "0",
    });
    // the order from before the restart still gets its fill
    await b.waitFor(() => b.logons === 2, "QF_B logon after the restart");
    b.send("35=D|11=qb-3|55=INFY|54=2|38=2|40=2|44=985.00|59=3|60=20260301-12:00:00.000");
    expect(
      await a.message((f) => f[11] === "qa-9" && f[150] === "F", "qa-9 filled after the restart", beforeRestart),
    ).toMatchObject({ 39: "2", 14: "2" });
    // The old session ended with our Logout ("gateway shutting down"); nothing was rejected.
    expect(a.received.slice(beforeRestart).filter((f) => f[35] === "3" || f[35] === "j")).toEqual([]);

    await a.quit();
    expect(a.logouts).toBeGreaterThanOrEqual(2);
    expect(a.received.at(-1)).toMatchObject({ 35: "5" });
  });
});
