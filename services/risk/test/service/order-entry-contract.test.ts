import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import {
  ExecType,
  OrderType,
  RejectReason,
  RequestKind,
  Side,
  StpMode,
  TimeInForce,
  type CancelOrderRequest,
  type CancelOrderResponse,
  type ExecutionReport,
  type ListOpenOrdersResponse,
  type MassCancelResponse,
  type OrderRequest,
  type ReplaceOrderRequest,
  type ReplaceOrderResponse,
  type RequestAck,
  type SessionRequest,
  type SessionResponse,
  type StreamExecutionReportsResponse,
} from "@tradeplane/contracts";
import { unary } from "@tradeplane/testkit";
import { auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

/**
 * OrderEntry's contract, RPC by RPC: the gRPC status codes and reject reasons that
 * order_entry.proto, common.proto and docs/api.md promise, each as a row of a table.
 */
describe("OrderEntry: every RPC's documented errors and reject reasons", () => {
  let venue: Venue;
  let n = 0;
  const id = (prefix: string) => `${prefix}-${++n}`;
  const alice = tokenOf("alice");

  beforeAll(async () => {
    venue = await startVenue({
      venue: "oec",
      accounts: [
        { name: "alice", limits: { maxOrderQty: 100 } },
        { name: "bob" },
        { name: "slow", limits: { maxOrdersPerSecond: 5 } },
      ],
    });
  });

  afterAll(async () => {
    await venue?.close();
  });

  const failure = (call: Promise<unknown>): Promise<ServiceError> =>
    call.then(
      () => Promise.reject(new Error("the call succeeded")),
      (err: ServiceError) => err,
    );
  const noToken = new Metadata();
  const cancel = (token: string, r: Partial<CancelOrderRequest>, md = auth(token)) =>
    unary<CancelOrderResponse>((cb) =>
      venue.orderEntry.cancelOrder(
        { account: "", instrument: "INFY", target: undefined, clientOrderId: "", ...r },
        md,
        cb,
      ),
    );
  const replace = (token: string, r: Partial<ReplaceOrderRequest>) =>
    unary<ReplaceOrderResponse>((cb) =>
      venue.orderEntry.replaceOrder(
        {
          account: "",
          instrument: "INFY",
          target: undefined,
          clientOrderId: id("r"),
          price: 100_000,
          stopPrice: 0,
          qty: 1,
          ...r,
        },
        auth(token),
        cb,
      ),
    );
  const rest = async (token = alice) =>
    (await venue.submit(token, order({ clientOrderId: id("rest"), side: Side.SELL, price: 109_000 }))).reports[0]!
      .order!;

  describe("SubmitOrder", () => {
    it.each([
      ["no credentials", noToken, {}, status.UNAUTHENTICATED],
      ["an unknown token", auth("no-such-token-0123456789"), {}, status.UNAUTHENTICATED],
      ["another account", auth(alice), { account: "bob" }, status.PERMISSION_DENIED],
      ["an account name that cannot be one", auth(alice), { account: "bad name!" }, status.INVALID_ARGUMENT],
    ])("refuses %s with a gRPC status", async (_n, md, o, code) => {
      const err = await failure(
        unary((cb) => venue.orderEntry.submitOrder(order({ clientOrderId: id("s"), ...o }), md, cb)),
      );
      expect(err.code).toBe(code);
    });

    it.each([
      ["an unlisted instrument", { instrument: "NOPE" }, RejectReason.UNKNOWN_INSTRUMENT],
      ["a client order id of 37 characters", { clientOrderId: "x".repeat(37) }, RejectReason.MALFORMED_REQUEST],
      ["no side", { side: Side.UNSPECIFIED }, RejectReason.MALFORMED_REQUEST],
      ["no order type", { orderType: OrderType.UNSPECIFIED }, RejectReason.MALFORMED_REQUEST],
      [
        "a MARKET order that is not IOC or FOK",
        { orderType: OrderType.MARKET, price: 0, timeInForce: TimeInForce.DAY },
        RejectReason.MALFORMED_REQUEST,
      ],
      ["a zero quantity", { qty: 0 }, RejectReason.MALFORMED_REQUEST],
      ["GTD without an expire time", { timeInForce: TimeInForce.GTD }, RejectReason.MALFORMED_REQUEST],
      ["STP_MODE_NONE, which is not offered", { stpMode: StpMode.NONE }, RejectReason.UNSUPPORTED_ORDER],
      ["a quantity above the account's max_order_qty", { qty: 101 }, RejectReason.ACCOUNT_MAX_ORDER_QTY],
      ["a price outside the band", { price: 150_000 }, RejectReason.OUTSIDE_PRICE_BAND],
      ["a display quantity above the quantity", { displayQty: 2 }, RejectReason.MALFORMED_REQUEST],
    ])("answers %s with a REJECTED report that says why", async (_n, o, reason) => {
      const report = (await venue.submit(alice, order({ clientOrderId: id("s"), ...o }))).reports[0]!;
      expect(report).toMatchObject({
        execType: ExecType.REJECTED,
        rejectReason: reason,
        requestKind: RequestKind.NEW_ORDER,
      });
      expect(report.text).not.toBe("");
    });

    it("refuses a client order id that is live, and one whose order was cancelled this session", async () => {
      const live = await rest();
      const again = await venue.submit(alice, order({ clientOrderId: live.clientOrderId, price: 90_000 }));
      expect(again.reports[0]!.rejectReason).toBe(RejectReason.DUPLICATE_CLIENT_ORDER_ID);
      await cancel(alice, { target: { $case: "orderId", value: live.orderId } });
      const reused = await venue.submit(alice, order({ clientOrderId: live.clientOrderId, price: 90_000 }));
      expect(reused.reports[0]).toMatchObject({
        execType: ExecType.REJECTED,
        rejectReason: RejectReason.DUPLICATE_CLIENT_ORDER_ID,
      });
    });

    it("accepts a plain order: NEW, with the resolved STP mode (CANCEL_MAKER by default)", async () => {
      const report = (await venue.submit(alice, order({ clientOrderId: id("ok"), price: 90_000 }))).reports[0]!;
      expect(report).toMatchObject({ execType: ExecType.NEW, order: { stpMode: StpMode.CANCEL_MAKER } });
    });
  });

  describe("CancelOrder", () => {
    it.each([
      ["an order id no order has", { target: { $case: "orderId" as const, value: 987_654_321 } }],
      [
        "a client order id the account does not know",
        { target: { $case: "origClientOrderId" as const, value: "nope" } },
      ],
      ["no target", { target: undefined }],
    ])("answers %s with UNKNOWN_ORDER", async (_n, r) => {
      expect((await cancel(alice, r)).report).toMatchObject({
        execType: ExecType.REJECTED,
        rejectReason: RejectReason.UNKNOWN_ORDER,
        requestKind: RequestKind.CANCEL_ORDER,
      });
    });

    it("answers a cancel of a cancelled order with ORDER_FINISHED and the order's id, by id and by client order id", async () => {
      const o = await rest();
      const first = await cancel(alice, { target: { $case: "orderId", value: o.orderId } });
      expect(first.report).toMatchObject({ execType: ExecType.CANCELLED });
      for (const target of [
        { $case: "orderId" as const, value: o.orderId },
        { $case: "origClientOrderId" as const, value: o.clientOrderId },
      ]) {
        const again = await cancel(alice, { target });
        expect(again.report).toMatchObject({
          execType: ExecType.REJECTED,
          rejectReason: RejectReason.ORDER_FINISHED,
          order: { orderId: o.orderId, clientOrderId: o.clientOrderId },
        });
      }
    });

    it("answers a malformed request id with MALFORMED_REQUEST, and no credentials with UNAUTHENTICATED", async () => {
      const o = await rest();
      expect(
        (await cancel(alice, { target: { $case: "orderId", value: o.orderId }, clientOrderId: "a b" })).report!
          .rejectReason,
      ).toBe(RejectReason.MALFORMED_REQUEST);
      const err = await failure(cancel(alice, { target: { $case: "orderId", value: o.orderId } }, noToken));
      expect(err.code).toBe(status.UNAUTHENTICATED);
    });
  });

  describe("ReplaceOrder", () => {
    it.each([
      ["an unknown order", { target: { $case: "orderId" as const, value: 987_654_321 } }, RejectReason.UNKNOWN_ORDER],
      ["no client order id", { clientOrderId: "" }, RejectReason.MALFORMED_REQUEST],
      ["a zero quantity", { qty: 0 }, RejectReason.MALFORMED_REQUEST],
      ["a zero price", { price: 0 }, RejectReason.MALFORMED_REQUEST],
    ])("answers %s with a REJECTED report", async (_n, r, reason) => {
      const res = await replace(alice, r);
      expect(res.reports[0]).toMatchObject({
        execType: ExecType.REJECTED,
        rejectReason: reason,
        requestKind: RequestKind.REPLACE_ORDER,
      });
    });

    it("answers a replace of a finished order with ORDER_FINISHED, and one past a limit with the limit's reason", async () => {
      const o = await rest();
      const bigger = await replace(alice, { target: { $case: "orderId", value: o.orderId }, price: 109_000, qty: 101 });
      expect(bigger.reports[0]!.rejectReason).toBe(RejectReason.ACCOUNT_MAX_ORDER_QTY);
      await cancel(alice, { target: { $case: "orderId", value: o.orderId } });
      const finished = await replace(alice, { target: { $case: "orderId", value: o.orderId }, price: 109_000 });
      expect(finished.reports[0]).toMatchObject({
        rejectReason: RejectReason.ORDER_FINISHED,
        order: { orderId: o.orderId },
      });
    });
  });

  describe("MassCancel", () => {
    const mass = (token: string, instrument: string, account = "") =>
      unary<MassCancelResponse>((cb) =>
        venue.orderEntry.massCancel(
          { account, instrument, side: Side.UNSPECIFIED, clientOrderId: "" },
          auth(token),
          cb,
        ),
      );
    it("cancels the account's open orders and counts them", async () => {
      await rest(tokenOf("bob"));
      await rest(tokenOf("bob"));
      expect((await mass(tokenOf("bob"), "INFY")).cancelledCount).toBe(2);
    });
    it.each([
      ["an unlisted instrument", "NOPE", "", status.INVALID_ARGUMENT],
      ["another account", "", "alice", status.PERMISSION_DENIED],
    ])("refuses %s", async (_n, instrument, account, code) => {
      expect((await failure(mass(tokenOf("bob"), instrument, account))).code).toBe(code);
    });
  });

  describe("ListOpenOrders", () => {
    it.each([
      ["no credentials", noToken, "", status.UNAUTHENTICATED],
      ["another account", auth(alice), "bob", status.PERMISSION_DENIED],
    ])("refuses %s", async (_n, md, account, code) => {
      const err = await failure(
        unary<ListOpenOrdersResponse>((cb) => venue.orderEntry.listOpenOrders({ account, instrument: "" }, md, cb)),
      );
      expect(err.code).toBe(code);
    });
  });

  describe("StreamExecutionReports", () => {
    const firstOf = (md: Metadata, account: string): Promise<StreamExecutionReportsResponse | ServiceError> =>
      new Promise((resolve) => {
        const s = venue.orderEntry.streamExecutionReports({ account, fromSequence: 1 }, md);
        s.on("data", (m: StreamExecutionReportsResponse) => {
          resolve(m);
          s.cancel();
        });
        s.on("error", (err: ServiceError) => resolve(err));
      });
    it.each([
      ["no credentials", noToken, "", status.UNAUTHENTICATED],
      ["another account", auth(alice), "bob", status.PERMISSION_DENIED],
    ])("refuses %s", async (_n, md, account, code) => {
      expect(await firstOf(md, account)).toMatchObject({ code });
    });
    it("replays the account's reports from sequence 1", async () => {
      expect(await firstOf(auth(alice), "")).toMatchObject({ sequence: 1, message: { $case: "report" } });
    });
  });

  describe("Session", () => {
    /** Opens a session, writes `messages`, and returns what came back until the stream ended or settled. */
    const session = (token: string, messages: SessionRequest["message"][], until: (r: SessionResponse[]) => boolean) =>
      new Promise<{ responses: SessionResponse[]; error?: ServiceError }>((resolve) => {
        const s = venue.orderEntry.session(auth(token));
        const responses: SessionResponse[] = [];
        s.on("data", (m: SessionResponse) => {
          responses.push(m);
          if (until(responses)) {
            s.end();
            resolve({ responses });
          }
        });
        s.on("error", (error: ServiceError) => resolve({ responses, error }));
        messages.forEach((message, i) => s.write({ sequence: i + 1, message }));
      });
    const open = (account = "", acksOnly = false) =>
      ({ $case: "open", value: { account, cancelOnDisconnect: false, heartbeatIntervalMs: 0, acksOnly } }) as const;
    const batch = (requests: OrderRequest[]) => ({ $case: "batch", value: { requests } }) as const;
    const submitRequest = (token: string, price = 90_000): OrderRequest => ({
      request: { $case: "submitOrder", value: order({ clientOrderId: id(token.slice(0, 4)), price }) },
      traceparent: "",
    });
    const never = () => false;

    it.each([
      ["a first message that is not open", [batch([submitRequest("a")])], status.FAILED_PRECONDITION],
      ["a second open", [open(), open()], status.INVALID_ARGUMENT],
      ["an empty batch", [open(), batch([])], status.INVALID_ARGUMENT],
      [
        "a batch over max_batch_size",
        [open(), batch(new Array(1_001).fill(submitRequest("a")))],
        status.INVALID_ARGUMENT,
      ],
      ["an empty message", [open(), undefined], status.INVALID_ARGUMENT],
      ["an open for another account", [open("bob")], status.PERMISSION_DENIED],
      [
        "an acks_only open that asks for reports_from_sequence",
        [{ $case: "open", value: { ...open("", true).value, reportsFromSequence: 1 } }],
        status.INVALID_ARGUMENT,
      ],
    ])("ends a session with %s", async (_n, messages, code) => {
      const { error } = await session(alice, messages as SessionRequest["message"][], never);
      expect(error?.code).toBe(code);
    });

    it("ends a session whose message sequence skips one with INVALID_ARGUMENT", async () => {
      const err = await new Promise<ServiceError>((resolve) => {
        const s = venue.orderEntry.session(auth(alice));
        s.on("data", () => undefined);
        s.on("error", resolve);
        s.write({ sequence: 1, message: open() });
        s.write({ sequence: 3, message: { $case: "heartbeat", value: { time: undefined } } });
      });
      expect(err.code).toBe(status.INVALID_ARGUMENT);
    });

    it("acks each request in order: accepted with its order id, or refused with a reason and a text", async () => {
      const { responses } = await session(
        alice,
        [
          open(),
          batch([
            submitRequest("a"),
            { request: undefined, traceparent: "" },
            {
              request: { $case: "submitOrder", value: order({ account: "bob", clientOrderId: id("x") }) },
              traceparent: "",
            },
            { request: { $case: "submitOrder", value: order({ clientOrderId: id("x"), qty: 101 }) }, traceparent: "" },
          ]),
        ],
        (r) => r.some((m) => m.message?.$case === "acks"),
      );
      const acks = (responses.find((m) => m.message?.$case === "acks")!.message as { value: { acks: RequestAck[] } })
        .value.acks;
      expect(acks.map((a) => [a.index, a.accepted, a.rejectReason])).toEqual([
        [0, true, RejectReason.UNSPECIFIED],
        [1, false, RejectReason.MALFORMED_REQUEST],
        [2, false, RejectReason.ACCOUNT_NOT_PERMITTED],
        [3, false, RejectReason.ACCOUNT_MAX_ORDER_QTY],
      ]);
      expect(acks[0]!.orderId).toBeGreaterThan(0);
      for (const a of acks.slice(1)) expect(a.text).not.toBe("");
    });

    describe("acks_only", () => {
      /** A session kept open: everything it received, and a wait for a response that matches. */
      const liveSession = (token: string, acksOnly: boolean) => {
        const s = venue.orderEntry.session(auth(token));
        const responses: SessionResponse[] = [];
        let sequence = 0;
        let failed: ServiceError | undefined;
        s.on("data", (m: SessionResponse) => responses.push(m));
        s.on("error", (err: ServiceError) => (failed = err));
        const send = (message: SessionRequest["message"]): number => {
          s.write({ sequence: ++sequence, message });
          return sequence;
        };
        const until = async (pred: (r: SessionResponse) => boolean): Promise<SessionResponse> => {
          for (let i = 0; i < 400; i++) {
            const hit = responses.find(pred);
            if (hit !== undefined) return hit;
            if (failed !== undefined) throw failed;
            await new Promise((r) => setTimeout(r, 25));
          }
          throw new Error(`no such response; received ${JSON.stringify(responses)}`);
        };
        const acksOf = async (requestSequence: number): Promise<RequestAck[]> => {
          const m = await until(
            (r) => r.message?.$case === "acks" && r.message.value.requestSequence === requestSequence,
          );
          return (m.message as { value: { acks: RequestAck[] } }).value.acks;
        };
        const kinds = () => responses.map((r) => r.message?.$case).filter((k) => k !== "heartbeat");
        send(open("", acksOnly));
        return { send, until, acksOf, kinds, end: () => s.end() };
      };
      const reportOf = (orderId: number) => (r: SessionResponse) =>
        r.message?.$case === "reports" && r.message.value.reports.some((x) => x.order?.orderId === orderId);

      it("carries the acks, each for its batch and request, and none of the account's reports; a session without it carries them", async () => {
        const plain = liveSession(alice, false);
        const quiet = liveSession(alice, true);
        await plain.until((r) => r.message?.$case === "opened");
        await quiet.until((r) => r.message?.$case === "opened");

        const order = submitRequest("quiet");
        const clientOrderId = (order.request!.value as { clientOrderId: string }).clientOrderId;
        const first = quiet.send(batch([order, { request: undefined, traceparent: "" }]));
        const acks = await quiet.acksOf(first);
        expect(acks.map((a) => [a.index, a.accepted, a.clientOrderId, a.rejectReason])).toEqual([
          [0, true, clientOrderId, RejectReason.UNSPECIFIED],
          [1, false, "", RejectReason.MALFORMED_REQUEST],
        ]);
        const orderId = acks[0]!.orderId;
        expect(orderId).toBeGreaterThan(0);

        // Without acks_only, the account's report of that order comes on the session.
        await plain.until(reportOf(orderId));
        // Both sessions follow the same account on the same gateway: the quiet one would have
        // had the report queued by now. Its next ack is written after anything queued before.
        const second = quiet.send(batch([{ request: undefined, traceparent: "" }]));
        expect((await quiet.acksOf(second)).map((a) => a.rejectReason)).toEqual([RejectReason.MALFORMED_REQUEST]);
        expect(quiet.kinds()).toEqual(["opened", "acks", "acks"]);

        // The plain session's own acks correlate as before, beside its reports.
        const mine = submitRequest("plain");
        const third = plain.send(batch([mine]));
        const [ack] = await plain.acksOf(third);
        expect(ack).toMatchObject({
          index: 0,
          accepted: true,
          clientOrderId: (mine.request!.value as { clientOrderId: string }).clientOrderId,
        });
        await plain.until(reportOf(ack!.orderId));
        plain.end();
        quiet.end();
      });
    });

    it("lets no more than max_orders_per_second orders through in one second (a batch of 13 at a limit of 5)", async () => {
      const { responses } = await session(
        tokenOf("slow"),
        [open(), batch(Array.from({ length: 13 }, () => submitRequest("slow")))],
        (r) => r.some((m) => m.message?.$case === "acks"),
      );
      const acks = (responses.find((m) => m.message?.$case === "acks")!.message as { value: { acks: RequestAck[] } })
        .value.acks;
      expect(acks.filter((a) => a.accepted)).toHaveLength(5);
      expect(acks.filter((a) => a.rejectReason === RejectReason.THROTTLED)).toHaveLength(8);
    });
  });

  it("never puts an empty text on a reject the engine made", async () => {
    const reports: ExecutionReport[] = (await venue.submit(alice, order({ clientOrderId: id("band"), price: 150_000 })))
      .reports;
    expect(reports[0]).toMatchObject({ rejectReason: RejectReason.OUTSIDE_PRICE_BAND });
    expect(reports[0]!.commandSeq).toBeGreaterThan(0);
    expect(reports[0]!.text).not.toBe("");
  });
});
