import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status, type ServiceError } from "@grpc/grpc-js";
import {
  ExecType,
  RejectReason,
  Side,
  type CancelOrderResponse,
  type ExecutionReport,
  type ListOpenOrdersResponse,
  type ReplaceOrderResponse,
  type SessionResponse,
  type StreamExecutionReportsResponse,
} from "@tradeplane/contracts";
import { MAX_STATUS_MESSAGE_CHARS } from "@tradeplane/platform";
import { retry, unary } from "@tradeplane/testkit";
import { auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";
import { batchAcks, sessionWithBatch } from "./session-batch.ts";

/**
 * The security faults of issue 14 that order entry had: each test here failed before its
 * fix. A caller learns nothing about another account's orders; nothing a client sends is
 * echoed at more than a short excerpt.
 */
describe("OrderEntry: what a caller may learn and send", () => {
  let venue: Venue;
  let aliceOrderId: number;
  const alice = tokenOf("alice");
  const bob = tokenOf("bob");

  beforeAll(async () => {
    venue = await startVenue({ venue: "sec", accounts: [{ name: "alice" }, { name: "bob" }] });
    const res = await venue.submit(
      alice,
      order({ clientOrderId: "alice-secret-id", side: Side.SELL, price: 100_050, qty: 7 }),
    );
    aliceOrderId = res.reports[0]!.order!.orderId;
    expect(aliceOrderId).toBeGreaterThan(0);
  });

  afterAll(async () => {
    await venue?.close();
  });

  /** A reject of bob's that must say "unknown order" and nothing of alice's order. */
  const expectNothingOfAlice = (report: ExecutionReport | undefined, instrument = "INFY"): void => {
    expect(report).toMatchObject({ execType: ExecType.REJECTED, rejectReason: RejectReason.UNKNOWN_ORDER });
    expect(report!.order).toMatchObject({
      account: "bob",
      instrument,
      side: Side.UNSPECIFIED,
      price: 0,
      qty: 0,
      leavesQty: 0,
      cumQty: 0,
    });
    expect(JSON.stringify(report)).not.toMatch(/alice/);
  };

  const cancel = (account: string, instrument: string) =>
    unary<CancelOrderResponse>((cb) =>
      venue.orderEntry.cancelOrder(
        { account, instrument, target: { $case: "orderId", value: aliceOrderId }, clientOrderId: "bob-cxl" },
        auth(bob),
        cb,
      ),
    );

  it.each([
    ["under its own account", "bob", "INFY"],
    ["under no account", "", "INFY"],
    ["naming another instrument than the order's", "", "TCS"],
  ])(
    "a cancel of another account's order %s is an unknown order, and the order stays",
    async (_n, account, instrument) => {
      expectNothingOfAlice((await cancel(account, instrument)).report, instrument);
      const open = await unary<ListOpenOrdersResponse>((cb) =>
        venue.orderEntry.listOpenOrders({ account: "", instrument: "" }, auth(alice), cb),
      );
      expect(open.orders.map((o) => o.orderId)).toContain(aliceOrderId);
    },
  );

  it.each([
    ["within the account's limits", 100_040, 7],
    ["that would break a limit if it were the caller's", 100_040, 10_000_000],
  ])("a replace of another account's order %s is an unknown order", async (_n, price, qty) => {
    const res = await unary<ReplaceOrderResponse>((cb) =>
      venue.orderEntry.replaceOrder(
        {
          account: "",
          instrument: "INFY",
          target: { $case: "orderId", value: aliceOrderId },
          clientOrderId: "bob-rpl",
          price,
          stopPrice: 0,
          qty,
        },
        auth(bob),
        cb,
      ),
    );
    expect(res.reports).toHaveLength(1);
    expectNothingOfAlice(res.reports[0]);
  });

  it("keeps nothing of another account's order in the caller's report stream or Session", async () => {
    await cancel("bob", "INFY");
    const stream = venue.orderEntry.streamExecutionReports({ account: "", fromSequence: 1 }, auth(bob));
    const reports: ExecutionReport[] = [];
    stream.on("data", (m: StreamExecutionReportsResponse) => {
      if (m.message?.$case === "report") reports.push(m.message.value);
    });
    stream.on("error", () => undefined);
    await retry(
      async () => (reports.length >= 1 ? undefined : Promise.reject(new Error("no reports yet"))),
      10_000,
      20,
    );
    stream.cancel();
    for (const r of reports) expectNothingOfAlice(r, r.order!.instrument);

    const session = venue.orderEntry.session(auth(bob));
    const received: SessionResponse[] = [];
    session.on("data", (m: SessionResponse) => received.push(m));
    session.on("error", () => undefined);
    session.write({
      sequence: 1,
      message: {
        $case: "open",
        value: {
          account: "",
          cancelOnDisconnect: false,
          heartbeatIntervalMs: 0,
          reportsFromSequence: 1,
          acksOnly: false,
        },
      },
    });
    session.write({
      sequence: 2,
      message: {
        $case: "batch",
        value: {
          requests: [
            {
              request: {
                $case: "cancelOrder",
                value: {
                  account: "",
                  instrument: "INFY",
                  target: { $case: "orderId", value: aliceOrderId },
                  clientOrderId: "",
                },
              },
              traceparent: "",
            },
          ],
        },
      },
    });
    const sessionReports = (): ExecutionReport[] =>
      received.flatMap((m) => (m.message?.$case === "reports" ? m.message.value.reports : []));
    await retry(
      async () => (sessionReports().length > reports.length ? undefined : Promise.reject(new Error("not yet"))),
      10_000,
      20,
    );
    session.end();
    for (const r of sessionReports()) expectNothingOfAlice(r, r.order!.instrument);
  });

  const refusal = (call: Promise<unknown>): Promise<ServiceError> =>
    call.then(
      () => Promise.reject(new Error("the call succeeded")),
      (err: ServiceError) => err,
    );
  const MEGABYTE = "A".repeat(1_048_576);

  it.each([
    ["a 1 MB account", () => venue.submit(bob, order({ account: MEGABYTE }))],
    ["a 1 MB client order id", () => venue.submit(bob, order({ clientOrderId: MEGABYTE }))],
    ["a 1 MB instrument", () => venue.submit(bob, order({ instrument: MEGABYTE }))],
    [
      "a 1 MB orig_client_order_id",
      () =>
        unary((cb) =>
          venue.orderEntry.cancelOrder(
            {
              account: "",
              instrument: "INFY",
              target: { $case: "origClientOrderId", value: MEGABYTE },
              clientOrderId: "",
            },
            auth(bob),
            cb,
          ),
        ),
    ],
    [
      "a 1 MB account in ListOpenOrders",
      () => unary((cb) => venue.orderEntry.listOpenOrders({ account: MEGABYTE, instrument: "" }, auth(bob), cb)),
    ],
  ])("refuses %s before any lookup, with a short status message", async (_n, call) => {
    const err = await refusal(call());
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_CHARS);
    expect(err.details).not.toContain("A".repeat(41));
  });

  it("repeats nothing of a malformed client order id in its reject report, unary or in a Session", async () => {
    const id = "A".repeat(1_000);
    const res = await venue.submit(bob, order({ clientOrderId: id }));
    expect(res.reports[0]).toMatchObject({ rejectReason: RejectReason.MALFORMED_REQUEST });
    expect(JSON.stringify(res.reports)).not.toContain("A".repeat(41));
    const { session, received } = sessionWithBatch(venue.orderEntry, auth(bob), [
      { request: { $case: "submitOrder", value: order({ clientOrderId: id }) }, traceparent: "" },
    ]);
    await batchAcks({ session, received });
    session.end();
    expect(JSON.stringify(received)).not.toContain("A".repeat(41));
  });

  it("echoes at most a short excerpt of an account the caller may not trade", async () => {
    const err = await refusal(venue.submit(bob, order({ account: "z".repeat(64) })));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).not.toContain("z".repeat(41));
  });

  it("keeps answering the valid calls that share a channel with an oversized one", async () => {
    const calls = [
      refusal(venue.submit(bob, order({ account: MEGABYTE }))).then((e) => e.code),
      ...Array.from({ length: 40 }, (_, i) =>
        venue
          .submit(bob, order({ clientOrderId: `bob-many-${i}`, price: 99_000 + i }))
          .then((r) => r.reports[0]!.execType),
      ),
    ];
    const results = await Promise.all(calls);
    expect(results[0]).toBe(status.INVALID_ARGUMENT);
    expect(results.slice(1)).toEqual(new Array(40).fill(ExecType.NEW));
  });
});
