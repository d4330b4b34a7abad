import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import {
  Side,
  type GetAccountLimitsResponse,
  type GetAccountPositionsResponse,
  type GetPositionsResponse,
} from "@tradeplane/contracts";
import { retry, unary } from "@tradeplane/testkit";
import { ADMIN_TOKEN, auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

describe("OrderEntry.GetAccountPositions and GetAccountLimits: an account's own traders read its risk", () => {
  let venue: Venue;

  beforeAll(async () => {
    venue = await startVenue({
      venue: "reads",
      accounts: [{ name: "maker", limits: { maxPosition: 50, restrictedInstruments: ["TCS"] } }, { name: "taker" }],
      defaultLimits: { maxOrderQty: 1_000, priceCollarBps: 500 },
    });
    await venue.submit(tokenOf("maker"), order({ clientOrderId: "m1", side: Side.SELL, price: 100_010, qty: 5 }));
    await venue.submit(tokenOf("taker"), order({ clientOrderId: "t1", side: Side.BUY, price: 100_010, qty: 3 }));
  });

  afterAll(async () => {
    await venue?.close();
  });

  const positions = (token: string, account = "", instrument = "") =>
    unary<GetAccountPositionsResponse>((cb) =>
      venue.orderEntry.getAccountPositions({ account, instrument }, auth(token), cb),
    );
  const limits = (token: string, account = "") =>
    unary<GetAccountLimitsResponse>((cb) => venue.orderEntry.getAccountLimits({ account }, auth(token), cb));

  it("gives the caller's positions with the figures RiskAdmin gives, and the report sequence they include", async () => {
    const own = await retry(async () => {
      const r = await positions(tokenOf("maker"));
      expect(r.positions[0]?.openSellQty).toBe(2);
      return r;
    });
    const admin = await unary<GetPositionsResponse>((cb) =>
      venue.admin.getPositions({ account: "maker", instrument: "" }, auth(ADMIN_TOKEN), cb),
    );
    expect(own.positions).toEqual(admin.positions);
    expect(own.positions).toEqual([
      expect.objectContaining({
        account: "maker",
        instrument: "INFY",
        netQty: -3,
        soldQty: 3,
        markPrice: 100_010,
        openLots: [100_010, -3],
      }),
    ]);
    // NEW, then one fill: the positions include both reports.
    expect(own.asOfReportSequence).toBe(2);
    expect(own.asOfSourceSequence).toBeGreaterThan(0);
    expect((await positions(tokenOf("maker"), "maker", "TCS")).positions).toEqual([]);
  });

  it("gives the limits in force: the account's own over the venue defaults", async () => {
    const r = await limits(tokenOf("maker"));
    expect(r.effective).toEqual({
      maxOrderQty: 1_000,
      maxOrderNotional: undefined,
      priceCollarBps: 500,
      maxPosition: 50,
      creditLimit: undefined,
      maxOrdersPerSecond: undefined,
      restrictedInstruments: ["TCS"],
    });
    expect(r.revision).toBeGreaterThan(0);
  });

  it.each([
    ["another account's positions", () => positions(tokenOf("taker"), "maker"), status.PERMISSION_DENIED],
    ["another account's limits", () => limits(tokenOf("taker"), "maker"), status.PERMISSION_DENIED],
    ["positions with a bad token", () => positions("not-a-token"), status.UNAUTHENTICATED],
    ["limits with a bad token", () => limits("not-a-token"), status.UNAUTHENTICATED],
  ])("refuses %s", async (_name, call, code) => {
    await expect(call()).rejects.toMatchObject({ code });
  });
});
