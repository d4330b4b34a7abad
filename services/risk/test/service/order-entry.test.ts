import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, credentials, status } from "@grpc/grpc-js";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import {
  accountsBucket,
  CommandBatch,
  commandStreamName,
  entrySeqOf,
  positionOf,
  ExecType,
  KillSwitchScope,
  OrderEntryClient,
  RiskAdminClient,
  VenueAdminClient,
  type EngageKillSwitchResponse,
  type GetPositionsResponse,
  type RequestAck,
  type SessionResponse,
  RejectReason,
  Side,
  type OrderType,
  type StpMode,
  type TimeInForce,
  type CancelOrderResponse,
  type ListOpenOrdersResponse,
  type StreamExecutionReportsResponse,
  type SubmitOrderRequest,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { provision, venueProvisioningPlan, type StartedService } from "@tradeplane/platform";
import { connectTo, NatsServer, prng, retry, testInstrumentSettings, unary } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import type { NatsConnection } from "@nats-io/transport-node";
import { putAccount, putToken } from "@tradeplane/accounts";
import { main } from "../../src/main.ts";
import { ADMIN_TOKEN, auth, ENGINE_ADMIN_TOKEN, order } from "./gateway-fixture.ts";

const VENUE = "gw";
const TOKENS = { alice: "alice-token-0123456789abcdef", bob: "bob-token-0123456789abcdef" };

describe("OrderEntry over gRPC against the real engine and a real nats-server", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let engine: EngineProcess;
  let gateway: StartedService;
  let client: OrderEntryClient;

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connectTo(server.url);
    await provision(nc, venueProvisioningPlan({ venue: VENUE }));
    const kv = await new Kvm(nc).open(accountsBucket(VENUE));
    for (const name of ["alice", "bob"] as const) {
      await putAccount(kv, {
        name,
        disabled: false,
        principals: [name],
        limits: name === "bob" ? { maxOrderQty: 100 } : {},
        defaultStpMode: 0,
      });
      await putToken(kv, TOKENS[name], name);
    }
    engine = new EngineProcess({
      natsUrl: server.url,
      venue: VENUE,
      instanceId: "engine",
      instruments: testInstrumentSettings,
      env: { TP_ADMIN_TOKENS_VENUE_OPERATOR: ENGINE_ADMIN_TOKEN },
    });
    await engine.start();
    gateway = await main({
      natsUrl: [server.url],
      venue: VENUE,
      instanceId: "gw-test",
      instruments: testInstrumentSettings.map((i) => ({
        symbol: i.symbol,
        partition: 0,
        referencePrice: i.referencePrice,
        notionalPerTickLot: 1,
      })),
      defaultLimits: {},
      commandTimeoutMs: 10_000,
      adminTokens: { venueOperator: [ADMIN_TOKEN], riskOfficer: [ADMIN_TOKEN] },
      grpcHost: "127.0.0.1",
      grpcPort: 0,
      opsHost: "127.0.0.1",
      opsPort: 0,
      logLevel: "silent",
      tracing: "none",
    });
    client = new OrderEntryClient(`127.0.0.1:${gateway.grpcPort}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await gateway?.shutdown.run();
    await EngineProcess.killAll();
    await nc?.close();
    await server?.dispose();
  });

  const submit = (token: string, req: SubmitOrderRequest) =>
    unary<SubmitOrderResponse>((cb) => client.submitOrder(req, auth(token), cb));

  it("carries the client's trace context from gRPC metadata into the command log", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const metadata = auth(TOKENS.bob);
    metadata.set("traceparent", `00-${traceId}-00f067aa0ba902b7-01`);
    const res = await unary<SubmitOrderResponse>((cb) =>
      client.submitOrder(order({ clientOrderId: "traced", price: 99_000 }), metadata, cb),
    );
    const seq = res.reports[0]!.commandSeq;
    const jsm = await jetstreamManager(nc);
    const entry = await jsm.streams.getMessage(commandStreamName(VENUE), { seq: entrySeqOf(seq) });
    const command = CommandBatch.decode(entry!.data).commands[positionOf(seq)]!;
    expect(command.traceparent).toContain(traceId);
  });

  it("refuses a caller without a valid token", async () => {
    await expect(submit("nope", order({}))).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("refuses to act for another account", async () => {
    await expect(submit(TOKENS.bob, order({ account: "alice" }))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });

  it("enters orders and answers with the engine's reports: NEW, then the fill on entry", async () => {
    const sell = await submit(TOKENS.alice, order({ clientOrderId: "a-sell", side: Side.SELL, qty: 10 }));
    expect(sell.reports.map((r) => r.execType)).toEqual([ExecType.NEW]);
    const buy = await submit(TOKENS.bob, order({ clientOrderId: "b-buy", qty: 4 }));
    expect(buy.reports.map((r) => r.execType)).toEqual([ExecType.NEW, ExecType.TRADE]);
    expect(buy.reports[1]).toMatchObject({ lastPrice: 100_010, lastQty: 4, order: { account: "bob", leavesQty: 0 } });
    const open = await unary<ListOpenOrdersResponse>((cb) =>
      client.listOpenOrders({ account: "", instrument: "" }, auth(TOKENS.alice), cb),
    );
    expect(open.orders).toMatchObject([{ clientOrderId: "a-sell", leavesQty: 6, cumQty: 4 }]);
  });

  it("answers every one of many concurrent orders on several instruments, which share log entries", async () => {
    const symbols = ["INFY", "TCS"];
    const placed = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        submit(
          TOKENS.bob,
          order({ clientOrderId: `burst-${i}`, instrument: symbols[i % 2]!, price: 99_000 - (i % 5), qty: 1 }),
        ),
      ),
    );
    placed.forEach((res, i) =>
      expect(res.reports).toMatchObject([{ execType: ExecType.NEW, order: { clientOrderId: `burst-${i}` } }]),
    );
    const ids = placed.map((res) => res.reports[0]!.order!.orderId);
    expect(new Set(ids).size).toBe(ids.length);
    const cancelled = await Promise.all(
      ids.map((orderId, i) =>
        unary<CancelOrderResponse>((cb) =>
          client.cancelOrder(
            {
              account: "",
              instrument: symbols[i % 2]!,
              target: { $case: "orderId", value: orderId },
              clientOrderId: `burst-x-${i}`,
            },
            auth(TOKENS.bob),
            cb,
          ),
        ),
      ),
    );
    for (const res of cancelled)
      expect(res.report).toMatchObject({ execType: ExecType.CANCELLED, order: { leavesQty: 0 } });
  });

  it("rejects by pre-trade risk without writing to the command log", async () => {
    const jsm = await jetstreamManager(nc);
    const before = (await jsm.streams.info(commandStreamName(VENUE))).state.messages;
    const res = await submit(TOKENS.bob, order({ clientOrderId: "too-big", qty: 101 }));
    expect(res.reports).toMatchObject([
      { execType: ExecType.REJECTED, rejectReason: RejectReason.ACCOUNT_MAX_ORDER_QTY },
    ]);
    const malformed = await submit(TOKENS.bob, order({ clientOrderId: "x".repeat(37) }));
    expect(malformed.reports[0]).toMatchObject({ rejectReason: RejectReason.MALFORMED_REQUEST });
    expect(malformed.reports[0]!.text).toContain("client_order_id");
    const duplicate = await submit(TOKENS.alice, order({ clientOrderId: "a-sell", side: Side.SELL }));
    expect(duplicate.reports[0]).toMatchObject({ rejectReason: RejectReason.DUPLICATE_CLIENT_ORDER_ID });
    expect((await jsm.streams.info(commandStreamName(VENUE))).state.messages).toBe(before);
  });

  it("never lets one account cancel another's order", async () => {
    const open = await unary<ListOpenOrdersResponse>((cb) =>
      client.listOpenOrders({ account: "", instrument: "" }, auth(TOKENS.alice), cb),
    );
    const orderId = open.orders[0]!.orderId;
    const res = await unary<CancelOrderResponse>((cb) =>
      client.cancelOrder(
        { account: "", instrument: "INFY", target: { $case: "orderId", value: orderId }, clientOrderId: "b-x" },
        auth(TOKENS.bob),
        cb,
      ),
    );
    expect(res.report).toMatchObject({ execType: ExecType.REJECTED, rejectReason: RejectReason.UNKNOWN_ORDER });
    const own = await unary<CancelOrderResponse>((cb) =>
      client.cancelOrder(
        {
          account: "",
          instrument: "INFY",
          target: { $case: "origClientOrderId", value: "a-sell" },
          clientOrderId: "a-x",
        },
        auth(TOKENS.alice),
        cb,
      ),
    );
    expect(own.report).toMatchObject({ execType: ExecType.CANCELLED, order: { leavesQty: 0 } });
  });

  it("survives random bytes and random field values, and answers a good order correctly afterwards", async () => {
    const raw = new Client(`127.0.0.1:${gateway.grpcPort}`, credentials.createInsecure());
    const rnd = prng(99);
    const codes = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      const code = await new Promise<number>((resolve) =>
        raw.makeUnaryRequest(
          "/tradeplane.v1.OrderEntry/SubmitOrder",
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          auth(TOKENS.bob),
          (err) => resolve(err === null ? status.OK : (err as { code: number }).code),
        ),
      );
      codes.add(code);
    }
    raw.close();
    expect([...codes].every((c) => c === status.OK || c === status.INVALID_ARGUMENT)).toBe(true);
    for (let i = 0; i < 200; i++) {
      const pick = () => [0, 1, -1, 2 ** 40, 2 ** 53 - 1, Math.floor(rnd() * 1e6), 100_010][Math.floor(rnd() * 7)]!;
      const res = await submit(
        TOKENS.bob,
        order({
          clientOrderId: rnd() < 0.1 ? "" : `f${i}`,
          instrument: rnd() < 0.1 ? "NOPE" : "TCS",
          side: Math.floor(rnd() * 4) as Side,
          orderType: Math.floor(rnd() * 6) as OrderType,
          timeInForce: Math.floor(rnd() * 7) as TimeInForce,
          price: pick(),
          stopPrice: rnd() < 0.8 ? 0 : pick(),
          qty: pick(),
          displayQty: rnd() < 0.8 ? 0 : pick(),
          stpMode: Math.floor(rnd() * 7) as StpMode,
        }),
      );
      expect(res.reports.length).toBeGreaterThan(0);
      const first = res.reports[0]!;
      expect([ExecType.NEW, ExecType.REJECTED]).toContain(first.execType);
      if (first.execType === ExecType.REJECTED) expect(first.rejectReason).not.toBe(RejectReason.UNSPECIFIED);
    }
    const good = await submit(
      TOKENS.alice,
      order({ clientOrderId: "after-fuzz", instrument: "TCS", side: Side.SELL, price: 100_090, qty: 1 }),
    );
    expect(good.reports).toMatchObject([
      { execType: ExecType.NEW, order: { clientOrderId: "after-fuzz", leavesQty: 1 } },
    ]);
  });

  it("reports positions to operators, marked to the last trade", async () => {
    const admin = new RiskAdminClient(`127.0.0.1:${gateway.grpcPort}`, credentials.createInsecure());
    await expect(
      unary<GetPositionsResponse>((cb) => admin.getPositions({ account: "bob", instrument: "" }, auth("wrong"), cb)),
    ).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
    const res = await unary<GetPositionsResponse>((cb) =>
      admin.getPositions({ account: "bob", instrument: "INFY" }, auth(ADMIN_TOKEN), cb),
    );
    expect(res.positions).toMatchObject([
      { instrument: "INFY", netQty: 4, boughtQty: 4, markPrice: 100_010, unrealisedPnl: 0 },
    ]);
    admin.close();
  });

  it("engages a kill switch: cancels the account's orders, refuses new ones until released", async () => {
    const admin = new RiskAdminClient(`127.0.0.1:${gateway.grpcPort}`, credentials.createInsecure());
    await submit(
      TOKENS.alice,
      order({ clientOrderId: "ks-1", instrument: "TCS", side: Side.SELL, price: 100_050, qty: 2 }),
    );
    const engaged = await unary<EngageKillSwitchResponse>((cb) =>
      admin.engageKillSwitch(
        { scope: KillSwitchScope.ACCOUNT, account: "alice", reason: "runaway algo", keepOpenOrders: false },
        auth(ADMIN_TOKEN),
        cb,
      ),
    );
    expect(engaged.killSwitch).toMatchObject({ engaged: true, account: "alice", changedBy: "ops:admin" });
    await retry(
      async () => {
        const open = await unary<ListOpenOrdersResponse>((cb) =>
          client.listOpenOrders({ account: "", instrument: "" }, auth(TOKENS.alice), cb),
        );
        if (open.orders.length > 0) throw new Error(`${open.orders.length} orders still open`);
      },
      10_000,
      50,
    );
    const refused = await submit(TOKENS.alice, order({ clientOrderId: "ks-2", side: Side.SELL, price: 100_050 }));
    expect(refused.reports[0]).toMatchObject({ rejectReason: RejectReason.KILL_SWITCH });
    const other = await submit(TOKENS.bob, order({ clientOrderId: "ks-bob", price: 99_000 }));
    expect(other.reports[0]!.execType).toBe(ExecType.NEW);
    await unary((cb) =>
      admin.releaseKillSwitch(
        { scope: KillSwitchScope.ACCOUNT, account: "alice", reason: "fixed" },
        auth(ADMIN_TOKEN),
        cb,
      ),
    );
    await retry(
      async () => {
        const again = await submit(
          TOKENS.alice,
          order({ clientOrderId: `ks-3-${Date.now()}`, side: Side.SELL, price: 100_060 }),
        );
        if (again.reports[0]!.execType !== ExecType.NEW) throw new Error("still refused");
      },
      10_000,
      50,
    );
    admin.close();
  });

  it("carries batches on a Session stream: acks in order, reports in batches, cancel on disconnect", async () => {
    const session = client.session(auth(TOKENS.alice));
    const received: SessionResponse[] = [];
    const waitFor = (predicate: () => boolean) =>
      retry(async () => (predicate() ? undefined : Promise.reject(new Error("not yet"))), 10_000, 20);
    session.on("data", (m: SessionResponse) => received.push(m));
    session.on("error", () => undefined);
    session.write({
      sequence: 1,
      message: {
        $case: "open",
        value: { account: "", cancelOnDisconnect: true, heartbeatIntervalMs: 0, acksOnly: false },
      },
    });
    const sell = (clientOrderId: string, price: number) => ({
      request: {
        $case: "submitOrder" as const,
        value: order({ clientOrderId, instrument: "TCS", side: Side.SELL, price, qty: 3 }),
      },
      traceparent: "",
    });
    session.write({
      sequence: 2,
      message: {
        $case: "batch",
        value: {
          requests: [
            sell("s-1", 100_070),
            sell("s-1", 100_071),
            sell("bad id with spaces", 100_072),
            sell("s-2", 100_073),
          ],
        },
      },
    });
    await waitFor(() => received.some((m) => m.message?.$case === "acks"));
    const acks = received.find((m) => m.message?.$case === "acks")!.message as { value: { acks: RequestAck[] } };
    expect(acks.value.acks.map((a) => [a.accepted, a.rejectReason])).toEqual([
      [true, RejectReason.UNSPECIFIED],
      [false, RejectReason.DUPLICATE_CLIENT_ORDER_ID],
      [false, RejectReason.MALFORMED_REQUEST],
      [true, RejectReason.UNSPECIFIED],
    ]);
    expect(acks.value.acks[0]!.orderId).toBeGreaterThan(0);
    await waitFor(
      () => received.flatMap((m) => (m.message?.$case === "reports" ? m.message.value.reports : [])).length >= 2,
    );
    expect(received.map((m) => m.sequence)).toEqual(received.map((_, i) => i + 1));
    const open = async () =>
      (
        await unary<ListOpenOrdersResponse>((cb) =>
          client.listOpenOrders({ account: "", instrument: "TCS" }, auth(TOKENS.alice), cb),
        )
      ).orders;
    expect((await open()).map((o) => o.clientOrderId)).toEqual(expect.arrayContaining(["s-1", "s-2"]));
    session.end();
    await retry(
      async () => ((await open()).length === 0 ? undefined : Promise.reject(new Error("still open"))),
      10_000,
      50,
    );
  });

  it("pipelines a Session's batches: each is appended on arrival, acks go out in batch order", async () => {
    const session = client.session(auth(TOKENS.alice));
    const received: SessionResponse[] = [];
    session.on("data", (m: SessionResponse) => received.push(m));
    session.on("error", () => undefined);
    const sell = (clientOrderId: string) => ({
      request: {
        $case: "submitOrder" as const,
        value: order({ clientOrderId, instrument: "TCS", side: Side.SELL, price: 100_090, qty: 1 }),
      },
      traceparent: "",
    });
    const batch = (sequence: number, requests: ReturnType<typeof sell>[]) =>
      session.write({ sequence, message: { $case: "batch", value: { requests } } });
    session.write({
      sequence: 1,
      message: {
        $case: "open",
        value: { account: "", cancelOnDisconnect: true, heartbeatIntervalMs: 0, acksOnly: false },
      },
    });
    // Written back to back: the second batch is refused at once (it is not written to the
    // log), the third names the first's client order id while the first may not be stored yet.
    batch(2, [sell("pipe-1")]);
    batch(3, [sell("bad id with spaces")]);
    batch(4, [sell("pipe-1"), sell("pipe-2")]);
    await retry(
      async () =>
        received.filter((m) => m.message?.$case === "acks").length === 3
          ? undefined
          : Promise.reject(new Error("not yet")),
      10_000,
      20,
    );
    const acks = received.flatMap((m) => (m.message?.$case === "acks" ? [m.message.value] : []));
    expect(acks.map((a) => a.requestSequence)).toEqual([2, 3, 4]);
    expect(acks.map((a) => a.acks.map((x) => [x.accepted, x.rejectReason]))).toEqual([
      [[true, RejectReason.UNSPECIFIED]],
      [[false, RejectReason.MALFORMED_REQUEST]],
      [
        [false, RejectReason.DUPLICATE_CLIENT_ORDER_ID],
        [true, RejectReason.UNSPECIFIED],
      ],
    ]);
    // The log holds them in session order: order ids are command sequences.
    expect(acks[2]!.acks[1]!.orderId).toBeGreaterThan(acks[0]!.acks[0]!.orderId);
    session.end();
  });

  it("refuses orders for a halted instrument at the gateway, and takes them again after resume", async () => {
    const venueAdmin = new VenueAdminClient(`127.0.0.1:${engine.grpcPort}`, credentials.createInsecure());
    await unary((cb) => venueAdmin.halt({ instrument: "TCS", reason: "volatility" }, auth(ENGINE_ADMIN_TOKEN), cb));
    await retry(
      async () => {
        const res = await submit(
          TOKENS.bob,
          order({ clientOrderId: `h-${Date.now()}`, instrument: "TCS", price: 99_000 }),
        );
        if (res.reports[0]!.rejectReason !== RejectReason.INSTRUMENT_HALTED || res.reports[0]!.commandSeq !== 0)
          throw new Error("not yet refused at the gateway");
      },
      10_000,
      50,
    );
    await unary((cb) =>
      venueAdmin.resume({ instrument: "TCS", state: 0, reason: "calm" }, auth(ENGINE_ADMIN_TOKEN), cb),
    );
    await retry(
      async () => {
        const res = await submit(
          TOKENS.bob,
          order({ clientOrderId: `r-${Date.now()}`, instrument: "TCS", price: 99_000 }),
        );
        if (res.reports[0]!.execType !== ExecType.NEW) throw new Error("still refused");
      },
      10_000,
      50,
    );
    venueAdmin.close();
  });

  it("streams an account's reports from any sequence, gap-free", async () => {
    const stream = client.streamExecutionReports({ account: "", fromSequence: 1 }, auth(TOKENS.alice));
    const got: number[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (m: StreamExecutionReportsResponse) => {
        if (m.message?.$case === "report") got.push(m.sequence);
        if (got.length === 3) resolve();
      });
      stream.on("error", reject);
    });
    stream.cancel();
    expect(got).toEqual([1, 2, 3]);
  });
});
