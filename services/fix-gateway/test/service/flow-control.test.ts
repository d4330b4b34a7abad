// Flow control against a real venue: a client that sends orders far faster than the venue
// answers them is slowed by TCP back-pressure (its socket is not read past the in-flight
// bound), and every order is answered; none is refused for load.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FixClient } from "../support/fix-client.ts";
import { startFixVenue, type FixVenue } from "../support/venue.ts";

const LIMITS = { sessionMaxInFlight: 8, sessionResumeInFlight: 4, gatewayMaxInFlight: 12, gatewayResumeInFlight: 6 };
const ORDERS = 600;

let venue: FixVenue;

const logon = (compId: string) => FixClient.logon(venue.gateway.fixPort, compId);

beforeAll(async () => {
  venue = await startFixVenue(
    "fixflowctl",
    [
      { id: "a", compId: "BROKER_A", account: "acc1" },
      { id: "b", compId: "BROKER_B", account: "acc2" },
    ],
    { flow: LIMITS },
  );
});
afterAll(async () => {
  await venue?.close();
});

describe("flow control of OrderEntry requests", () => {
  it("answers every order of two sessions that send all at once, with in-flight bounded", async () => {
    const a = await logon("BROKER_A");
    const b = await logon("BROKER_B");
    const clients: [FixClient, string][] = [
      [a, "BROKER_A"],
      [b, "BROKER_B"],
    ];
    // Resting orders far from each other (no fills): each is answered by one ExecutionReport.
    for (const [c, sender] of clients)
      for (let i = 0; i < ORDERS; i++)
        c.send(
          "D",
          `11=${sender}-${i}|55=INFY|54=${sender === "BROKER_A" ? 1 : 2}|38=1|40=2|44=${sender === "BROKER_A" ? "990.00" : "1010.00"}|59=0`,
          {
            sender,
          },
        );
    for (const [c, sender] of clients) {
      await c.waitFor((f) => f[35] === "8" && f[11] === `${sender}-${ORDERS - 1}`, 0, 120_000);
      const acks = c.received.filter((f) => f[35] === "8" && f[150] === "0");
      expect(new Set(acks.map((f) => f[11])).size).toBe(ORDERS);
      // Exactly one ExecutionReport per order: none comes twice (the Session stream's copy of a report is not sent too).
      await new Promise((r) => setTimeout(r, 1_000));
      const perOrder = new Map<string, number>();
      for (const f of c.received) if (f[35] === "8") perOrder.set(f[11]!, (perOrder.get(f[11]!) ?? 0) + 1);
      expect([...perOrder.values()].filter((n) => n !== 1)).toEqual([]);
      expect(perOrder.size).toBe(ORDERS);
      expect(c.received.filter((f) => f[35] === "j" || f[35] === "3" || f[150] === "8")).toEqual([]);
    }
    const flow = venue.gateway.flow;
    expect(flow.peakInFlight).toBeLessThanOrEqual(LIMITS.gatewayMaxInFlight);
    expect(flow.pauses).toBeGreaterThan(0);
    expect(flow.gatewayInFlight).toBe(0);
    expect(flow.pausedSessions).toBe(0);

    const text = await (await fetch(`http://127.0.0.1:${venue.gateway.opsPort}/metrics`)).text();
    expect(text).toMatch(/tp_fix_order_entry_in_flight\{[^}]*session="a"[^}]*\} 0/);
    expect(text).toMatch(/tp_fix_sessions_paused\{[^}]*\} 0/);
    a.close();
    b.close();
  }, 180_000);
});
