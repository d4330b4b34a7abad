import { describe, expect, it } from "vitest";
import {
  ExecType,
  OrderStatus,
  RejectReason,
  RequestKind,
  Side,
  type OrderRequest,
  type RequestAck,
} from "@tradeplane/contracts";
import { limitOrder } from "@tradeplane/testkit";
import { ackOutcome } from "../../src/domain/session-acks.ts";

const NOW = 1_767_225_600_123;

const submit: OrderRequest = {
  request: {
    $case: "submitOrder",
    value: limitOrder({ account: "", clientOrderId: "o-1", side: Side.BUY, price: 100_000, qty: 10 }),
  },
  traceparent: "",
};
const cancel: OrderRequest = {
  request: {
    $case: "cancelOrder",
    value: {
      account: "",
      instrument: "INFY",
      target: { $case: "origClientOrderId", value: "o-1" },
      clientOrderId: "c-1",
    },
  },
  traceparent: "",
};
const replace: OrderRequest = {
  request: {
    $case: "replaceOrder",
    value: {
      account: "",
      instrument: "INFY",
      target: { $case: "origClientOrderId", value: "o-1" },
      clientOrderId: "r-1",
      price: 100_100,
      stopPrice: 0,
      qty: 5,
    },
  },
  traceparent: "",
};

function ack(over: Partial<RequestAck>): RequestAck {
  return {
    index: 0,
    requestKind: RequestKind.UNSPECIFIED,
    clientOrderId: "",
    accepted: false,
    orderId: 0,
    commands: [],
    rejectReason: RejectReason.UNSPECIFIED,
    text: "",
    ...over,
  };
}

describe("ackOutcome", () => {
  it.each([
    ["an accepted order", submit, ack({ accepted: true, orderId: 7 }), "accepted"],
    ["an accepted cancel", cancel, ack({ accepted: true }), "accepted"],
    [
      "a request the log did not store",
      submit,
      ack({ rejectReason: RejectReason.UNAVAILABLE, text: "retry" }),
      "unavailable",
    ],
    ["a refused order", submit, ack({ rejectReason: RejectReason.OFF_TICK, text: "off tick" }), "refused"],
    ["a refused cancel", cancel, ack({ rejectReason: RejectReason.UNKNOWN_ORDER }), "refused"],
  ] as const)("%s is %s", (_name, request, a, kind) => {
    expect(ackOutcome(request, a, "acc1", NOW).kind).toBe(kind);
  });

  it("answers a refused order with a Rejected report of the order as requested", () => {
    const out = ackOutcome(submit, ack({ rejectReason: RejectReason.OFF_TICK, text: "off tick" }), "acc1", NOW);
    expect(out.kind === "refused" && out.report).toMatchObject({
      sequence: 0,
      execType: ExecType.REJECTED,
      requestKind: RequestKind.NEW_ORDER,
      requestClientOrderId: "o-1",
      rejectReason: RejectReason.OFF_TICK,
      text: "off tick",
      order: {
        account: "acc1",
        instrument: "INFY",
        side: Side.BUY,
        qty: 10,
        price: 100_000,
        status: OrderStatus.REJECTED,
      },
      transactTime: { seconds: 1_767_225_600, nanos: 123_000_000 },
    });
  });

  it.each([
    [cancel, RequestKind.CANCEL_ORDER, "c-1"],
    [replace, RequestKind.REPLACE_ORDER, "r-1"],
  ] as const)("answers a refused cancel or replace as a cancel reject naming both orders (%#)", (request, kind, id) => {
    const out = ackOutcome(request, ack({ rejectReason: RejectReason.UNKNOWN_ORDER }), "acc1", NOW);
    expect(out.kind === "refused" && out.report).toMatchObject({
      execType: ExecType.REJECTED,
      requestKind: kind,
      requestClientOrderId: id,
      origClientOrderId: "o-1",
      order: undefined,
    });
  });
});
