import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExecType,
  RejectReason,
  Side,
  type OrderRequest,
  type RequestAck,
  type SessionResponse,
  type SubmitOrderRequest,
} from "@tradeplane/contracts";
import { retry } from "@tradeplane/testkit";
import { auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

/**
 * Position and credit limits count the orders the gateway has written to the log and the
 * engine has not applied yet: a burst of orders, each within the limit alone, cannot together
 * exceed it before the first comes back as open.
 */
describe("pre-trade limits count orders in flight", () => {
  let venue: Venue;
  // INFY at 100,000 ticks: 4 lots of 1 at 100,010 are 400,040 of notional (one lot per unit here).
  const buy = (clientOrderId: string, qty: number): SubmitOrderRequest =>
    order({ clientOrderId, instrument: "INFY", side: Side.BUY, price: 100_010, qty });

  beforeAll(async () => {
    venue = await startVenue({
      venue: "inflight",
      accounts: [
        { name: "pos", limits: { maxPosition: 10 } },
        { name: "credit", limits: { creditLimit: 1_000_000 } },
        { name: "grow", limits: { maxPosition: 12 } },
      ],
    });
  });

  afterAll(async () => {
    await venue?.close();
  });

  /** Sends one Session batch for `account` and returns its acks. */
  async function sessionBatch(account: string, requests: OrderRequest["request"][]): Promise<RequestAck[]> {
    const session = venue.orderEntry.session(auth(tokenOf(account)));
    const received: SessionResponse[] = [];
    session.on("data", (m: SessionResponse) => received.push(m));
    session.on("error", () => undefined);
    session.write({
      sequence: 1,
      message: {
        $case: "open",
        value: { account: "", cancelOnDisconnect: false, heartbeatIntervalMs: 0, acksOnly: false },
      },
    });
    session.write({
      sequence: 2,
      message: {
        $case: "batch",
        value: { requests: requests.map((request) => ({ request, traceparent: "" })) },
      },
    });
    const acks = await retry(
      async () => {
        const m = received.find((r) => r.message?.$case === "acks");
        return m?.message?.$case === "acks" ? m.message.value.acks : Promise.reject(new Error("no acks yet"));
      },
      10_000,
      20,
    );
    session.end();
    return acks;
  }

  it("refuses the order of a Session batch that takes the batch past the position limit", async () => {
    const acks = await sessionBatch(
      "pos",
      [buy("p-1", 4), buy("p-2", 4), buy("p-3", 4), buy("p-4", 2)].map((value) => ({ $case: "submitOrder", value })),
    );
    expect(acks.map((a) => [a.accepted, a.rejectReason])).toEqual([
      [true, RejectReason.UNSPECIFIED],
      [true, RejectReason.UNSPECIFIED],
      [false, RejectReason.POSITION_LIMIT],
      [true, RejectReason.UNSPECIFIED],
    ]);
    // Once applied the orders are open: the account is at its limit of 10.
    const res = await retry(
      async () => {
        const r = await venue.submit(tokenOf("pos"), buy("p-5", 1));
        return r.reports[0]?.rejectReason === RejectReason.POSITION_LIMIT ? r : Promise.reject(new Error("not yet"));
      },
      10_000,
      50,
    );
    expect(res.reports.map((r) => r.execType)).toEqual([ExecType.REJECTED]);
  });

  it("refuses the concurrent call that takes the account past its credit limit", async () => {
    // 1,000,000 of credit: two orders of 400,040 fit, a third does not, whichever comes first.
    const results = await Promise.all(["c-1", "c-2", "c-3"].map((id) => venue.submit(tokenOf("credit"), buy(id, 4))));
    const outcomes = results.map((r) => r.reports[0]!.rejectReason).sort();
    expect(outcomes).toEqual([RejectReason.UNSPECIFIED, RejectReason.UNSPECIFIED, RejectReason.CREDIT_LIMIT].sort());
  });

  it("refuses the replace of a Session batch that grows the orders past the position limit together", async () => {
    for (const id of ["g-1", "g-2"]) {
      const res = await venue.submit(tokenOf("grow"), buy(id, 5));
      expect(res.reports[0]!.execType).toBe(ExecType.NEW);
    }
    // Each replace alone leaves the account at 12 lots; both together would make 14.
    const grow = (orig: string, id: string): OrderRequest["request"] => ({
      $case: "replaceOrder",
      value: {
        account: "",
        instrument: "INFY",
        target: { $case: "origClientOrderId", value: orig },
        clientOrderId: id,
        price: 100_010,
        stopPrice: 0,
        qty: 7,
      },
    });
    const acks = await sessionBatch("grow", [grow("g-1", "g-1a"), grow("g-2", "g-2a")]);
    expect(acks.map((a) => [a.accepted, a.rejectReason])).toEqual([
      [true, RejectReason.UNSPECIFIED],
      [false, RejectReason.POSITION_LIMIT],
    ]);
  });
});
