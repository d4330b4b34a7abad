import { describe, expect, it } from "vitest";
import { OrderType, Side, StpMode, TimeInForce } from "@tradeplane/contracts";
import { FixParser } from "../../src/domain/fix-parser.ts";
import {
  cancelRequest,
  massCancelRequest,
  newOrderRequest,
  OrdRejReason,
  replaceRequest,
} from "../../src/domain/order-requests.ts";
import { SessionRejectReason } from "../../src/domain/fix-tags.ts";
import { frame } from "../support/fix-text.ts";
import { instruments } from "../support/instruments.ts";

const ctx = { account: "acc1", instruments };
const HEADER = "35=D|49=C|56=V|34=2|52=20260301-12:00:00";

function msg(body: string) {
  const parser = new FixParser();
  const bytes = frame(`${HEADER}|${body}`);
  parser.parse(bytes, 0, bytes.length);
  return parser.message;
}

const LIMIT = "11=ord-1|55=INFY|54=1|38=100|40=2|44=1500.25|59=0";

describe("newOrderRequest", () => {
  it("maps a limit order to ticks and lots", () => {
    expect(newOrderRequest(msg(LIMIT), ctx)).toEqual({
      ok: true,
      request: {
        account: "acc1",
        clientOrderId: "ord-1",
        instrument: "INFY",
        side: Side.BUY,
        orderType: OrderType.LIMIT,
        timeInForce: TimeInForce.DAY,
        price: 30005,
        stopPrice: 0,
        qty: 100,
        postOnly: false,
        stpMode: StpMode.UNSPECIFIED,
        expireTime: undefined,
        displayQty: 0,
        stpGroup: 0,
      },
    });
  });

  it("maps GTD with ExpireTime, an iceberg, post-only and an STP mode", () => {
    const r = newOrderRequest(
      msg(`${LIMIT.replace("59=0", "59=6")}|126=20260302-16:00:00|111=10|18=6|7928=B|7929=7`),
      ctx,
    );
    expect(r.ok && r.request).toMatchObject({
      timeInForce: TimeInForce.GTD,
      expireTime: { seconds: Date.UTC(2026, 2, 2, 16) / 1000, nanos: 0 },
      displayQty: 10,
      postOnly: true,
      stpMode: StpMode.CANCEL_BOTH,
      stpGroup: 7,
    });
  });

  it("maps market and stop orders without a price", () => {
    const m = newOrderRequest(msg("11=m|55=INFY|54=2|38=5|40=1"), ctx);
    expect(m.ok && m.request).toMatchObject({ orderType: OrderType.MARKET, timeInForce: TimeInForce.IOC, price: 0 });
    const s = newOrderRequest(msg("11=s|55=INFY|54=2|38=5|40=3|99=1400|59=1"), ctx);
    expect(s.ok && s.request).toMatchObject({ orderType: OrderType.STOP, stopPrice: 28000, price: 0 });
  });

  it.each([
    ["a missing ClOrdID", "55=INFY|54=1|38=100|40=2|44=1500", "session-reject", SessionRejectReason.RequiredTagMissing],
    [
      "a ClOrdID of 37 characters",
      `11=${"x".repeat(37)}|55=INFY|54=1|38=1|40=2|44=1`,
      "session-reject",
      SessionRejectReason.ValueIncorrect,
    ],
    [
      "a ClOrdID with a space",
      "11=a b|55=INFY|54=1|38=1|40=2|44=1",
      "session-reject",
      SessionRejectReason.ValueIncorrect,
    ],
    [
      "a missing Price on a limit order",
      "11=a|55=INFY|54=1|38=1|40=2",
      "session-reject",
      SessionRejectReason.RequiredTagMissing,
    ],
    ["a Side of 5", "11=a|55=INFY|54=5|38=1|40=2|44=1", "session-reject", SessionRejectReason.ValueIncorrect],
    [
      "GTD without ExpireTime",
      "11=a|55=INFY|54=1|38=1|40=2|44=1|59=6",
      "session-reject",
      SessionRejectReason.RequiredTagMissing,
    ],
    [
      "a price off the tick",
      "11=a|55=INFY|54=1|38=1|40=2|44=1500.01",
      "order-reject",
      OrdRejReason.InvalidPriceIncrement,
    ],
    ["a quantity off the lot", "11=a|55=INFY|54=1|38=1.5|40=2|44=1500", "order-reject", OrdRejReason.IncorrectQuantity],
    ["an unknown symbol", "11=a|55=NOPE|54=1|38=1|40=2|44=1", "order-reject", OrdRejReason.UnknownSymbol],
    ["another account", "11=a|1=acc2|55=INFY|54=1|38=1|40=2|44=1", "order-reject", OrdRejReason.UnknownAccount],
    ["OrdType pegged", "11=a|55=INFY|54=1|38=1|40=P|44=1", "order-reject", OrdRejReason.UnsupportedOrderCharacteristic],
    [
      "TimeInForce at the opening",
      "11=a|55=INFY|54=1|38=1|40=2|44=1|59=2",
      "order-reject",
      OrdRejReason.UnsupportedOrderCharacteristic,
    ],
  ])("refuses %s", (_name, body, kind, reason) => {
    const r = newOrderRequest(msg(body), ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.refusal.kind, r.refusal.reason]).toEqual([kind, reason]);
  });
});

describe("cancel, replace and mass cancel", () => {
  it("maps a cancel by OrigClOrdID", () => {
    expect(cancelRequest(msg("11=c-1|41=ord-1|55=INFY|54=1"), ctx)).toEqual({
      ok: true,
      request: {
        account: "acc1",
        instrument: "INFY",
        target: { $case: "origClientOrderId", value: "ord-1" },
        clientOrderId: "c-1",
      },
    });
  });

  it("maps a replace's new price and quantity", () => {
    const r = replaceRequest(msg("11=r-1|41=ord-1|55=INFY|54=1|38=80|40=2|44=1500.50"), ctx);
    expect(r.ok && r.request).toMatchObject({ clientOrderId: "r-1", price: 30010, qty: 80, stopPrice: 0 });
  });

  it("maps a mass cancel by security and one of everything", () => {
    const one = massCancelRequest(msg("11=mc-1|530=1|55=INFY|54=2"), ctx);
    expect(one.ok && one.request).toMatchObject({ instrument: "INFY", side: Side.SELL, type: "1" });
    const all = massCancelRequest(msg("11=mc-2|530=7"), ctx);
    expect(all.ok && all.request).toMatchObject({ instrument: "", side: Side.UNSPECIFIED, type: "7" });
    const bad = massCancelRequest(msg("11=mc-3|530=3"), ctx);
    expect(bad.ok).toBe(false);
  });
});
