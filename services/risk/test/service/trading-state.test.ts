import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, status } from "@grpc/grpc-js";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  commandStreamName,
  ExecType,
  InstrumentState,
  KillSwitchScope,
  RejectReason,
  Side,
  VenueAdminClient,
  type CancelOrderResponse,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { retry, unary } from "@tradeplane/testkit";
import {
  ADMIN_TOKEN,
  auth,
  ENGINE_ADMIN_TOKEN,
  order,
  replaceOrder,
  sample,
  scrape,
  startVenue,
  tokenOf,
  type Venue,
} from "./gateway-fixture.ts";

const VENUE = "hlt";

describe("the venue's trading state at the gateway: halts, closes and the venue kill switch", () => {
  let venue: Venue;
  let engineAdmin: VenueAdminClient;
  let n = 0;
  const id = (prefix: string) => `${prefix}-${++n}`;

  beforeAll(async () => {
    venue = await startVenue({ venue: VENUE, accounts: [{ name: "alice" }, { name: "bob" }] });
    engineAdmin = new VenueAdminClient(`127.0.0.1:${venue.engine.grpcPort}`, credentials.createInsecure());
  });

  afterAll(async () => {
    engineAdmin?.close();
    await venue?.close();
  });

  const commandCount = async () =>
    (await (await jetstreamManager(venue.nc)).streams.info(commandStreamName(VENUE))).state.messages;

  /** A resting buy far from the market, to probe what the gateway answers now. */
  const probe = (instrument: string): Promise<SubmitOrderResponse> =>
    venue.submit(tokenOf("bob"), order({ clientOrderId: id("probe"), instrument, price: 95_000 }));

  /** Waits until the gateway has applied the engine's events, seen through its answers. */
  const untilGatewaySays = (instrument: string, reason: number) =>
    retry(
      async () => {
        const r = (await probe(instrument)).reports[0]!;
        if (r.rejectReason !== reason || r.commandSeq !== 0) throw new Error(`gateway still says ${r.rejectReason}`);
      },
      10_000,
      50,
    );

  const replace = (token: string, clientOrderId: string, origClientOrderId: string, price: number) =>
    replaceOrder(venue, token, { origClientOrderId, clientOrderId, price, qty: 3 });

  it("refuses new orders and replaces on every instrument of a halted venue without writing to the log; cancels still go", async () => {
    const resting = await venue.submit(
      tokenOf("alice"),
      order({ clientOrderId: "rest", side: Side.SELL, price: 100_500, qty: 3 }),
    );
    expect(resting.reports[0]!.execType).toBe(ExecType.NEW);

    await unary((cb) =>
      engineAdmin.halt({ instrument: "", reason: "market-wide circuit breaker" }, auth(ENGINE_ADMIN_TOKEN), cb),
    );
    await untilGatewaySays("INFY", RejectReason.INSTRUMENT_HALTED);
    await untilGatewaySays("TCS", RejectReason.INSTRUMENT_HALTED);
    const halted = await scrape(venue);
    expect(sample(halted, "tp_risk_venue_halted")).toBe(1);
    expect(sample(halted, "tp_risk_instruments_halted")).toBe(2);

    const before = await commandCount();
    for (const instrument of ["INFY", "TCS"]) {
      const res = await venue.submit(tokenOf("alice"), order({ clientOrderId: id("h"), instrument, side: Side.SELL }));
      expect(res.reports[0]).toMatchObject({
        execType: ExecType.REJECTED,
        rejectReason: RejectReason.INSTRUMENT_HALTED,
        commandSeq: 0,
      });
    }
    const replaced = await replace(tokenOf("alice"), "rest-2", "rest", 100_400);
    expect(replaced.reports[0]).toMatchObject({
      execType: ExecType.REJECTED,
      rejectReason: RejectReason.INSTRUMENT_HALTED,
      commandSeq: 0,
    });
    expect(replaced.reports[0]!.text).toContain("halted");
    expect(await commandCount()).toBe(before);

    // Cancels are accepted while halted (common.proto): they go through the log.
    const cancelled = await unary<CancelOrderResponse>((cb) =>
      venue.orderEntry.cancelOrder(
        { account: "", instrument: "INFY", target: { $case: "origClientOrderId", value: "rest" }, clientOrderId: "" },
        auth(tokenOf("alice")),
        cb,
      ),
    );
    expect(cancelled.report).toMatchObject({ execType: ExecType.CANCELLED });

    await unary((cb) =>
      engineAdmin.resume(
        { instrument: "", state: InstrumentState.UNSPECIFIED, reason: "calm" },
        auth(ENGINE_ADMIN_TOKEN),
        cb,
      ),
    );
    for (const instrument of ["INFY", "TCS"])
      await retry(
        async () => {
          if ((await probe(instrument)).reports[0]!.execType !== ExecType.NEW) throw new Error("still refused");
        },
        10_000,
        50,
      );
    expect(sample(await scrape(venue), "tp_risk_venue_halted")).toBe(0);
  });

  it("refuses orders and replaces for a closed instrument with MARKET_CLOSED, and lets the others trade", async () => {
    const resting = await venue.submit(
      tokenOf("alice"),
      order({ clientOrderId: "tcs-rest", instrument: "TCS", side: Side.SELL, price: 100_500 }),
    );
    expect(resting.reports[0]!.execType).toBe(ExecType.NEW);
    await unary((cb) =>
      engineAdmin.changeSession(
        { instrument: "TCS", state: InstrumentState.CLOSED, reason: "end of day", referencePrice: undefined },
        auth(ENGINE_ADMIN_TOKEN),
        cb,
      ),
    );
    await untilGatewaySays("TCS", RejectReason.MARKET_CLOSED);
    expect((await probe("INFY")).reports[0]!.execType).toBe(ExecType.NEW);
    await unary((cb) =>
      engineAdmin.changeSession(
        { instrument: "TCS", state: InstrumentState.CONTINUOUS, reason: "open", referencePrice: undefined },
        auth(ENGINE_ADMIN_TOKEN),
        cb,
      ),
    );
    await retry(
      async () => {
        if ((await probe("TCS")).reports[0]!.execType !== ExecType.NEW) throw new Error("still closed");
      },
      10_000,
      50,
    );
  });

  it("blocks every account behind the venue kill switch until it is released, and keeps serving bad requests", async () => {
    const engage = () =>
      unary((cb) =>
        venue.admin.engageKillSwitch(
          { scope: KillSwitchScope.VENUE, account: "", reason: "venue incident", keepOpenOrders: true },
          auth(ADMIN_TOKEN),
          cb,
        ),
      );
    await engage();
    await retry(
      async () => {
        const r = (await probe("INFY")).reports[0]!;
        if (r.rejectReason !== RejectReason.KILL_SWITCH) throw new Error("not yet");
      },
      10_000,
      50,
    );
    expect(sample(await scrape(venue), "tp_risk_kill_switches_engaged", { scope: "venue" })).toBe(1);
    const before = await commandCount();
    for (const who of ["alice", "bob"]) {
      const res = await venue.submit(tokenOf(who), order({ clientOrderId: id("k"), price: 99_000 }));
      expect(res.reports[0]).toMatchObject({ rejectReason: RejectReason.KILL_SWITCH, commandSeq: 0 });
    }
    expect(await commandCount()).toBe(before);
    await expect(
      unary((cb) =>
        venue.admin.engageKillSwitch(
          { scope: KillSwitchScope.VENUE, account: "", reason: " ", keepOpenOrders: true },
          auth(ADMIN_TOKEN),
          cb,
        ),
      ),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await unary((cb) =>
      venue.admin.releaseKillSwitch(
        { scope: KillSwitchScope.VENUE, account: "", reason: "resolved" },
        auth(ADMIN_TOKEN),
        cb,
      ),
    );
    await retry(
      async () => {
        if ((await probe("INFY")).reports[0]!.execType !== ExecType.NEW) throw new Error("still blocked");
      },
      10_000,
      50,
    );
    expect(sample(await scrape(venue), "tp_risk_kill_switches_engaged", { scope: "venue" })).toBe(0);
  });
});
