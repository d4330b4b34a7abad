import { describe, expect, it } from "vitest";
import { RejectReason, Side } from "@tradeplane/contracts";
import { checkNewOrder, isVenueHalted, PASS, type AccountView, type CheckContext } from "../src/checks.ts";
import { effectiveLimits, type LimitOverrides } from "../src/limits.ts";
import { newOrderRateWindow } from "../src/order-rate-window.ts";

function context(
  overrides: {
    order?: Partial<CheckContext["order"]>;
    account?: Partial<AccountView>;
    limits?: LimitOverrides;
    instrument?: Partial<CheckContext["instrument"]>;
    venueHalted?: boolean;
    venueKillSwitch?: boolean;
  } = {},
): CheckContext {
  return {
    order: {
      account: "a1",
      instrument: "INFY",
      side: Side.BUY,
      price: 150_000,
      qty: 10,
      clientOrderId: "c1",
      ...overrides.order,
    },
    account: {
      authenticated: true,
      permitted: true,
      disabled: false,
      killSwitch: false,
      limits: effectiveLimits(overrides.limits),
      clientOrderIds: new Set(["used"]),
      throttle: newOrderRateWindow(),
      position: 0,
      openBuyQty: 0,
      openSellQty: 0,
      openExposure: 0,
      ...overrides.account,
    },
    instrument: {
      halted: false,
      lastPrice: 150_000,
      referencePrice: 149_000,
      notionalPerTickLot: 1,
      ...overrides.instrument,
    },
    venueHalted: overrides.venueHalted ?? false,
    venueKillSwitch: overrides.venueKillSwitch ?? false,
    nowNs: 0,
  };
}

describe("checkNewOrder", () => {
  it.each([
    ["passes a plain order within every limit", context(), PASS],
    [
      "rejects an unauthenticated session",
      context({ account: { authenticated: false } }),
      RejectReason.UNAUTHENTICATED,
    ],
    [
      "rejects an account the session may not trade",
      context({ account: { permitted: false } }),
      RejectReason.ACCOUNT_NOT_PERMITTED,
    ],
    ["rejects a disabled account", context({ account: { disabled: true } }), RejectReason.ACCOUNT_DISABLED],
    [
      "rejects when the instrument is halted",
      context({ instrument: { halted: true } }),
      RejectReason.INSTRUMENT_HALTED,
    ],
    ["rejects when the venue is halted", context({ venueHalted: true }), RejectReason.INSTRUMENT_HALTED],
    [
      "rejects when the instrument is closed, with MARKET_CLOSED",
      context({ instrument: { closed: true } }),
      RejectReason.MARKET_CLOSED,
    ],
    [
      "says halted, not closed, when the venue is halted",
      context({ venueHalted: true, instrument: { closed: true } }),
      RejectReason.INSTRUMENT_HALTED,
    ],
    ["rejects behind an account kill switch", context({ account: { killSwitch: true } }), RejectReason.KILL_SWITCH],
    ["rejects behind the venue kill switch", context({ venueKillSwitch: true }), RejectReason.KILL_SWITCH],
    [
      "rejects a restricted instrument",
      context({ limits: { restrictedInstruments: ["INFY"] } }),
      RejectReason.RESTRICTED_INSTRUMENT,
    ],
    [
      "rejects a client order id in use",
      context({ order: { clientOrderId: "used" } }),
      RejectReason.DUPLICATE_CLIENT_ORDER_ID,
    ],
    ["passes the largest quantity allowed", context({ limits: { maxOrderQty: 10 } }), PASS],
    [
      "rejects one lot more than the largest quantity",
      context({ order: { qty: 11 }, limits: { maxOrderQty: 10 } }),
      RejectReason.ACCOUNT_MAX_ORDER_QTY,
    ],
    ["passes the largest notional allowed", context({ limits: { maxOrderNotional: 1_500_000 } }), PASS],
    [
      "rejects a notional over the limit",
      context({ limits: { maxOrderNotional: 1_499_999 } }),
      RejectReason.ACCOUNT_MAX_ORDER_VALUE,
    ],
    [
      "values a market order at the last price",
      context({ order: { price: 0 }, limits: { maxOrderNotional: 1_499_999 } }),
      RejectReason.ACCOUNT_MAX_ORDER_VALUE,
    ],
    [
      "passes a price on the collar's edge",
      context({ order: { price: 157_500 }, limits: { priceCollarBps: 500 } }),
      PASS,
    ],
    [
      "rejects a price just past the collar",
      context({ order: { price: 157_501 }, limits: { priceCollarBps: 500 } }),
      RejectReason.PRICE_COLLAR,
    ],
    [
      "measures the collar from the reference before any trade",
      context({ order: { price: 157_000 }, instrument: { lastPrice: 0 }, limits: { priceCollarBps: 500 } }),
      RejectReason.PRICE_COLLAR,
    ],
    [
      "counts open buys toward the long limit",
      context({ account: { position: 80, openBuyQty: 11 }, limits: { maxPosition: 100 } }),
      RejectReason.POSITION_LIMIT,
    ],
    [
      "passes a buy that reaches the long limit exactly",
      context({ account: { position: 80, openBuyQty: 10 }, limits: { maxPosition: 100 } }),
      PASS,
    ],
    [
      "counts open sells toward the short limit",
      context({
        order: { side: Side.SELL },
        account: { position: -80, openSellQty: 11 },
        limits: { maxPosition: 100 },
      }),
      RejectReason.POSITION_LIMIT,
    ],
    [
      "lets a sell reduce a long position",
      context({ order: { side: Side.SELL, qty: 100 }, account: { position: 100 }, limits: { maxPosition: 100 } }),
      PASS,
    ],
    [
      "rejects exposure past the credit limit",
      context({ account: { openExposure: 9_000_000 }, limits: { creditLimit: 10_000_000 } }),
      RejectReason.CREDIT_LIMIT,
    ],
    [
      "rejects a notional that overflows exact integers",
      context({
        order: { qty: 2 ** 40 },
        instrument: { notionalPerTickLot: 2 ** 20 },
        limits: { creditLimit: 10 ** 15 },
      }),
      RejectReason.CREDIT_LIMIT,
    ],
  ])("%s", (_name, ctx, expected) => {
    expect(checkNewOrder(ctx)).toBe(expected);
  });

  describe("a limit of 0 blocks every order its check applies to", () => {
    const market = { price: 0 };
    const noPrice = { lastPrice: 0, referencePrice: 0 };
    it.each([
      ["max_order_qty 0 blocks one lot", context({ order: { qty: 1 }, limits: { maxOrderQty: 0 } })],
      ["max_order_qty 0 blocks a market order", context({ order: market, limits: { maxOrderQty: 0 } })],
      [
        "max_order_notional 0 blocks a market order with nothing to value it at",
        context({ order: market, instrument: noPrice, limits: { maxOrderNotional: 0 } }),
      ],
      ["price_collar_bps 0 blocks a limit order at the last price", context({ limits: { priceCollarBps: 0 } })],
      [
        "price_collar_bps 0 blocks a limit order with no reference to measure from",
        context({ instrument: noPrice, limits: { priceCollarBps: 0 } }),
      ],
      [
        "max_position 0 blocks a buy that would reduce a short",
        context({ account: { position: -5 }, order: { qty: 1 }, limits: { maxPosition: 0 } }),
      ],
      [
        "max_position 0 blocks a sell that would reduce a long",
        context({ account: { position: 5 }, order: { side: Side.SELL, qty: 1 }, limits: { maxPosition: 0 } }),
      ],
      [
        "credit_limit 0 blocks a market order with nothing to value it at",
        context({ order: market, instrument: noPrice, limits: { creditLimit: 0 } }),
      ],
      ["max_orders_per_second 0 blocks the very first order", context({ limits: { maxOrdersPerSecond: 0 } })],
    ])("%s", (_name, ctx) => {
      expect(checkNewOrder(ctx)).not.toBe(PASS);
    });

    it("names the check that blocked", () => {
      const reasons = (
        [
          [{ maxOrderQty: 0 }, RejectReason.ACCOUNT_MAX_ORDER_QTY],
          [{ maxOrderNotional: 0 }, RejectReason.ACCOUNT_MAX_ORDER_VALUE],
          [{ priceCollarBps: 0 }, RejectReason.PRICE_COLLAR],
          [{ maxPosition: 0 }, RejectReason.POSITION_LIMIT],
          [{ creditLimit: 0 }, RejectReason.CREDIT_LIMIT],
          [{ maxOrdersPerSecond: 0 }, RejectReason.THROTTLED],
        ] as const
      ).map(([limits, reason]) => [checkNewOrder(context({ limits })), reason]);
      for (const [got, want] of reasons) expect(got).toBe(want);
    });

    it("leaves a market order alone under a price collar of 0 (the collar applies to limit prices)", () => {
      expect(checkNewOrder(context({ order: market, limits: { priceCollarBps: 0 } }))).toBe(PASS);
    });

    it("keeps 0 from a more specific layer over a venue default", () => {
      expect(effectiveLimits({ maxOrderQty: 1000 }, { maxOrderQty: 0 }).maxOrderQty).toBe(0);
    });
  });

  it("checks in the promised order: the kill switch wins over a bad quantity", () => {
    expect(
      checkNewOrder(context({ account: { killSwitch: true }, order: { qty: 11 }, limits: { maxOrderQty: 10 } })),
    ).toBe(RejectReason.KILL_SWITCH);
  });

  it("throttles at the limit, and admits again once the first order is a second old", () => {
    const ctx = context({ limits: { maxOrdersPerSecond: 2 } });
    expect([checkNewOrder(ctx), checkNewOrder(ctx), checkNewOrder(ctx)]).toEqual([PASS, PASS, RejectReason.THROTTLED]);
    expect(checkNewOrder({ ...ctx, nowNs: 999_999_999 })).toBe(RejectReason.THROTTLED);
    expect(checkNewOrder({ ...ctx, nowNs: 1_000_000_000 })).toBe(PASS);
  });

  it("counts no order an earlier check rejects toward the rate", () => {
    const ctx = context({ limits: { maxOrdersPerSecond: 1 }, account: { killSwitch: true } });
    for (let i = 0; i < 5; i++) checkNewOrder(ctx);
    expect(ctx.account.throttle.size).toBe(0);
  });

  it.each([
    ["a burst at one instant", 5, () => 0],
    ["orders spread evenly at twice the rate", 50, (i: number) => i * 10_000_000],
    ["orders in bursts a little under a second apart", 10, (i: number) => Math.floor(i / 10) * 900_000_000],
    ["orders at random times", 100, (i: number) => Math.floor(((i * 7919) % 1000) * 3_000_000 + i * 1_000_000)],
  ])("admits no more than the limit in any one-second window: %s", (_name, limit, timeOf) => {
    const ctx = context({ limits: { maxOrdersPerSecond: limit } });
    const times = Array.from({ length: limit * 6 }, (_, i) => timeOf(i)).sort((a, b) => a - b);
    const admitted = times.filter((nowNs) => checkNewOrder({ ...ctx, nowNs }) === PASS);
    expect(admitted.length).toBeGreaterThanOrEqual(limit);
    // Every window [t, t + 1 s) that starts at an admitted order holds at most `limit` of them.
    for (const start of admitted)
      expect(admitted.filter((t) => t >= start && t < start + 1_000_000_000).length).toBeLessThanOrEqual(limit);
  });
});

describe("isVenueHalted", () => {
  it.each([
    ["halted when every listed instrument is halted", 2, 2, true],
    ["not halted while one instrument trades", 1, 2, false],
    ["not halted with nothing halted", 0, 2, false],
    ["not halted with no instruments listed", 0, 0, false],
  ])("%s", (_name, haltedCount, listed, want) => {
    expect(isVenueHalted(haltedCount, listed)).toBe(want);
  });
});

describe("effectiveLimits", () => {
  it("lets the most specific layer win and accumulates restrictions", () => {
    const limits = effectiveLimits(
      { maxOrderQty: 1000, restrictedInstruments: ["A"] },
      { maxOrderQty: 10, creditLimit: 5 },
      { restrictedInstruments: ["B"] },
    );
    expect(limits.maxOrderQty).toBe(10);
    expect(limits.creditLimit).toBe(5);
    expect(limits.maxPosition).toBe(Infinity);
    expect([...limits.restricted]).toEqual(["A", "B"]);
  });
});
