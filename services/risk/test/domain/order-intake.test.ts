import { describe, expect, it } from "vitest";
import {
  OrderStatus,
  OrderType,
  RejectReason,
  RequestKind,
  Side,
  StpMode,
  TimeInForce,
  type CancelOrderRequest,
  type MassCancelRequest,
  type Order,
  type ReplaceOrderRequest,
  type SubmitOrderRequest,
} from "@tradeplane/contracts";
import { NOTHING_IN_FLIGHT } from "../../src/domain/in-flight.ts";
import { effectiveLimits, type LimitOverrides } from "@tradeplane/risk-checks/limits";
import {
  cancelSyntax,
  decideCancel,
  decideMassCancel,
  decideReplace,
  decideSubmit,
  replaceSyntax,
  rejectReport,
  resolvedStpMode,
  submitSyntax,
  type InstrumentInfo,
  type OrderFacts,
} from "../../src/domain/order-intake.ts";
import { emptyOrder } from "@tradeplane/positions/order-projection";
import { newOrderRateWindow } from "@tradeplane/risk-checks/order-rate-window";

const INSTRUMENTS: ReadonlyMap<string, InstrumentInfo> = new Map([
  ["INFY", { partition: 0, referencePrice: 150_000, notionalPerTickLot: 1 }],
  ["TCS", { partition: 1, referencePrice: 300_000, notionalPerTickLot: 1 }],
]);

function facts(
  o: {
    limits?: LimitOverrides;
    account?: Partial<OrderFacts["account"]>;
    market?: Partial<OrderFacts["market"]>;
    defaultStpMode?: number;
  } = {},
): OrderFacts {
  return {
    account: {
      record: { disabled: false, defaultStpMode: o.defaultStpMode ?? 0 },
      limits: effectiveLimits(o.limits),
      killSwitch: false,
      clientOrderIds: new Set(["used"]),
      throttle: newOrderRateWindow(),
      position: { netQty: 0, openBuyQty: 0, openSellQty: 0 },
      openExposure: 0,
      inFlight: NOTHING_IN_FLIGHT,
      ...o.account,
    },
    market: {
      instrument: INSTRUMENTS.get("INFY")!,
      halted: false,
      closed: false,
      lastPrice: 150_000,
      venueHalted: false,
      venueKillSwitch: false,
      ...o.market,
    },
    nowNs: 0,
  };
}

const submit = (o: Partial<SubmitOrderRequest> = {}): SubmitOrderRequest => ({
  account: "",
  clientOrderId: "c1",
  instrument: "INFY",
  side: Side.BUY,
  orderType: OrderType.LIMIT,
  timeInForce: TimeInForce.DAY,
  price: 150_000,
  stopPrice: 0,
  qty: 10,
  postOnly: false,
  stpMode: 0,
  expireTime: undefined,
  displayQty: 0,
  stpGroup: 0,
  ...o,
});

const resting = (o: Partial<Order> = {}): Order => ({
  ...emptyOrder("a", "INFY", "c0"),
  orderId: 7,
  side: Side.BUY,
  price: 150_000,
  qty: 10,
  leavesQty: 10,
  status: OrderStatus.NEW,
  ...o,
});

const replace = (o: Partial<ReplaceOrderRequest> = {}): ReplaceOrderRequest => ({
  account: "",
  instrument: "INFY",
  target: { $case: "orderId", value: 7 },
  clientOrderId: "c2",
  price: 150_000,
  stopPrice: 0,
  qty: 10,
  ...o,
});

const cancel = (o: Partial<CancelOrderRequest> = {}): CancelOrderRequest => ({
  account: "",
  instrument: "INFY",
  target: { $case: "orderId", value: 7 },
  clientOrderId: "",
  ...o,
});

const known = (s: string): boolean => INSTRUMENTS.has(s);

describe("a new order", () => {
  it.each([
    ["a bad client order id is malformed", submit({ clientOrderId: "" }), RejectReason.MALFORMED_REQUEST],
    ["an unlisted instrument has its own reason", submit({ instrument: "XYZ" }), RejectReason.UNKNOWN_INSTRUMENT],
    ["a zero quantity is malformed", submit({ qty: 0 }), RejectReason.MALFORMED_REQUEST],
    ["a well-formed order passes the syntax", submit(), undefined],
  ])("%s", (_name, req, reason) => {
    expect(submitSyntax(req, known)?.reason).toBe(reason);
  });

  it.each([
    [
      "passes every check and is written to its instrument's partition",
      submit({ instrument: "TCS" }),
      facts({ market: { instrument: INSTRUMENTS.get("TCS")! } }),
      { ok: true, partition: 1 },
    ],
    [
      "is refused when its client order id is live",
      submit({ clientOrderId: "used" }),
      facts(),
      { ok: false, reason: RejectReason.DUPLICATE_CLIENT_ORDER_ID },
    ],
    [
      "counts what is in flight toward the position limit",
      submit({ qty: 10 }),
      facts({ limits: { maxPosition: 15 }, account: { inFlight: { buyQty: 6, sellQty: 0, exposure: 0 } } }),
      { ok: false, reason: RejectReason.POSITION_LIMIT },
    ],
    [
      "counts what is in flight toward the credit limit",
      submit({ qty: 10 }),
      facts({
        limits: { creditLimit: 2_000_000 },
        account: { inFlight: { buyQty: 0, sellQty: 0, exposure: 600_000 } },
      }),
      { ok: false, reason: RejectReason.CREDIT_LIMIT },
    ],
    [
      "counts positions at mark toward the credit limit",
      submit({ qty: 10 }),
      facts({ limits: { creditLimit: 2_000_000 }, account: { positionsNotional: 600_000 } }),
      { ok: false, reason: RejectReason.CREDIT_LIMIT },
    ],
    [
      "is refused on a halted instrument",
      submit(),
      facts({ market: { halted: true } }),
      { ok: false, reason: RejectReason.INSTRUMENT_HALTED },
    ],
    [
      "is refused for an account the registry does not know",
      submit(),
      facts({ account: { record: undefined } }),
      { ok: false, reason: RejectReason.ACCOUNT_NOT_PERMITTED },
    ],
  ])("%s", (_name, req, f, expected) => {
    expect(decideSubmit("a", req, f)).toMatchObject(expected);
  });

  it("holds its quantity and notional until the engine applies it, and carries a resolved STP mode", () => {
    const decision = decideSubmit(
      "a",
      submit({ qty: 3, price: 150_010 }),
      facts({ defaultStpMode: StpMode.CANCEL_BOTH }),
    );
    expect(decision).toMatchObject({
      ok: true,
      hold: { instrument: "INFY", side: Side.BUY, qty: 3, exposure: 450_030 },
      body: { $case: "newOrder", value: { stpMode: StpMode.CANCEL_BOTH, qty: 3 } },
    });
  });

  it("names the failing check in its text", () => {
    expect(decideSubmit("a", submit({ qty: 11 }), facts({ limits: { maxOrderQty: 10 } }))).toEqual({
      ok: false,
      reason: RejectReason.ACCOUNT_MAX_ORDER_QTY,
      text: "pre-trade check failed: ACCOUNT_MAX_ORDER_QTY",
    });
  });
});

describe("a cancel", () => {
  it.each([
    ["without a client order id of its own passes the syntax", cancel(), undefined],
    ["with a bad client order id is malformed", cancel({ clientOrderId: "a b" }), RejectReason.MALFORMED_REQUEST],
  ])("%s", (_name, req, reason) => {
    expect(cancelSyntax(req)?.reason).toBe(reason);
  });

  it.each([
    [
      "of no known order is UNKNOWN_ORDER",
      { orderId: undefined, order: undefined },
      { ok: false, reason: RejectReason.UNKNOWN_ORDER },
    ],
    [
      "of a live order goes to the order's partition",
      { orderId: 7, order: resting({ instrument: "TCS" }) },
      { ok: true, partition: 1, body: { $case: "cancelOrder", value: { orderId: 7, instrument: "TCS" } } },
    ],
    [
      "of an order the projection no longer holds still goes to the engine, which knows",
      { orderId: 7, order: undefined },
      { ok: true, partition: 0, body: { $case: "cancelOrder", value: { orderId: 7, instrument: "INFY" } } },
    ],
    [
      "of the caller's order that finished this session is ORDER_FINISHED, with the order",
      { orderId: 7, order: undefined, finished: resting({ leavesQty: 0, status: OrderStatus.CANCELLED }) },
      { ok: false, reason: RejectReason.ORDER_FINISHED, text: "order 7 is finished", order: { orderId: 7 } },
    ],
  ])("%s", (_name, target, expected) => {
    expect(decideCancel(cancel(), target, INSTRUMENTS)).toMatchObject(expected);
  });
});

describe("a replace", () => {
  it.each([
    ["with a well-formed request passes the syntax", replace(), undefined],
    ["with a zero quantity is malformed", replace({ qty: 0 }), RejectReason.MALFORMED_REQUEST],
    ["with a zero price is malformed", replace({ price: 0 }), RejectReason.MALFORMED_REQUEST],
    ["without a client order id is malformed", replace({ clientOrderId: "" }), RejectReason.MALFORMED_REQUEST],
  ])("%s", (_name, req, reason) => {
    expect(replaceSyntax(req)?.reason).toBe(reason);
  });

  it.each([
    [
      "of no known order is UNKNOWN_ORDER",
      replace(),
      { orderId: undefined, order: undefined },
      facts(),
      { ok: false, reason: RejectReason.UNKNOWN_ORDER },
    ],
    [
      "of the caller's order that finished this session is ORDER_FINISHED, with the order",
      replace(),
      { orderId: 7, order: undefined, finished: resting({ leavesQty: 0, status: OrderStatus.FILLED }) },
      facts(),
      { ok: false, reason: RejectReason.ORDER_FINISHED, order: { orderId: 7, status: OrderStatus.FILLED } },
    ],
    [
      "on a closed instrument is MARKET_CLOSED",
      replace(),
      { orderId: 7, order: resting() },
      facts({ market: { closed: true } }),
      { ok: false, reason: RejectReason.MARKET_CLOSED, text: "INFY is closed" },
    ],
    [
      "may keep the order's own client order id",
      replace({ clientOrderId: "c0" }),
      { orderId: 7, order: resting({ clientOrderId: "c0" }) },
      facts({ account: { clientOrderIds: new Set(["c0"]) } }),
      { ok: true },
    ],
    [
      "measures the order after the replace against the position limit, not on top of itself",
      replace({ qty: 12 }),
      { orderId: 7, order: resting() },
      facts({ limits: { maxPosition: 12 }, account: { position: { netQty: 0, openBuyQty: 10, openSellQty: 0 } } }),
      { ok: true },
    ],
    [
      "is refused when the grown order breaks the position limit",
      replace({ qty: 13 }),
      { orderId: 7, order: resting() },
      facts({ limits: { maxPosition: 12 }, account: { position: { netQty: 0, openBuyQty: 10, openSellQty: 0 } } }),
      { ok: false, reason: RejectReason.POSITION_LIMIT },
    ],
    [
      "holds only the growth of the order",
      replace({ qty: 12, price: 150_000 }),
      { orderId: 7, order: resting() },
      facts(),
      { ok: true, hold: { qty: 2, exposure: 300_000 } },
    ],
    [
      "of a shrinking order holds nothing",
      replace({ qty: 4 }),
      { orderId: 7, order: resting() },
      facts(),
      { ok: true, hold: { qty: 0, exposure: 0 } },
    ],
  ])("%s", (_name, req, target, f, expected) => {
    expect(decideReplace("a", req, target, f, INSTRUMENTS)).toMatchObject(expected);
  });
});

describe("a mass cancel", () => {
  const mass = (instrument: string): MassCancelRequest => ({ account: "", instrument, side: 0, clientOrderId: "" });
  it.each([
    ["of every instrument is one command per partition", mass(""), { ok: true, partitions: [0, 1] }],
    ["of one instrument goes to its partition", mass("TCS"), { ok: true, partitions: [1] }],
    [
      "of an unlisted instrument is UNKNOWN_INSTRUMENT",
      mass("XYZ"),
      { ok: false, reason: RejectReason.UNKNOWN_INSTRUMENT },
    ],
  ])("%s", (_name, req, expected) => {
    expect(decideMassCancel(req, INSTRUMENTS)).toMatchObject(expected);
  });
});

describe("rejectReport", () => {
  it.each([
    ["repeats a well-formed client order id", "c-1", "c-1"],
    ["repeats nothing of a malformed one", "x".repeat(1_000), ""],
  ])("%s", (_name, clientOrderId, echoed) => {
    const report = rejectReport(
      "a",
      RequestKind.NEW_ORDER,
      clientOrderId,
      { reason: RejectReason.MALFORMED_REQUEST, text: "t" },
      0,
    );
    expect([report.requestClientOrderId, report.order!.clientOrderId]).toEqual([echoed, echoed]);
  });
});

describe("resolvedStpMode", () => {
  it.each([
    ["the order's own mode wins", StpMode.CANCEL_BOTH, StpMode.DECREMENT, StpMode.CANCEL_BOTH],
    ["else the account's default", 0, StpMode.DECREMENT, StpMode.DECREMENT],
    ["else CANCEL_MAKER, as NSE", 0, 0, StpMode.CANCEL_MAKER],
  ])("%s", (_name, requested, accountDefault, expected) => {
    expect(resolvedStpMode(requested, accountDefault)).toBe(expected);
  });
});
