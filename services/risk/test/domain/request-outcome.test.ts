import { describe, expect, it } from "vitest";
import {
  ExecType,
  RejectReason,
  RequestKind,
  type ExecutionReport,
  type OrderRequest,
  type RequestAck,
} from "@tradeplane/contracts";
import {
  ACCEPTED,
  INVALID,
  kindOfSessionRequest,
  outcomeOfAck,
  outcomeOfReports,
  rejectedFor,
  UNAVAILABLE,
} from "../../src/domain/request-outcome.ts";

const report = (execType: ExecType, rejectReason: RejectReason = RejectReason.UNSPECIFIED) =>
  ({ execType, rejectReason }) as ExecutionReport;

const ack = (accepted: boolean, rejectReason: RejectReason = RejectReason.UNSPECIFIED): RequestAck => ({
  index: 0,
  requestKind: RequestKind.UNSPECIFIED,
  clientOrderId: "",
  accepted,
  orderId: 0,
  commands: [],
  rejectReason,
  text: "",
});

const request = (c: NonNullable<OrderRequest["request"]>["$case"] | undefined): OrderRequest =>
  ({ request: c === undefined ? undefined : { $case: c, value: {} }, traceparent: "" }) as OrderRequest;

describe("outcomeOfReports", () => {
  it.each([
    ["a NEW report is accepted", [report(ExecType.NEW)], ACCEPTED],
    ["a NEW then a TRADE is accepted", [report(ExecType.NEW), report(ExecType.TRADE)], ACCEPTED],
    [
      "a REJECTED first report is rejected with its reason",
      [report(ExecType.REJECTED, RejectReason.OUTSIDE_PRICE_BAND)],
      rejectedFor(RejectReason.OUTSIDE_PRICE_BAND),
    ],
    ["no report (a stored command that gave this account none) is accepted", [], ACCEPTED],
    ["a missing cancel report is accepted", [undefined], ACCEPTED],
  ])("%s", (_name, reports, outcome) => {
    expect(outcomeOfReports(reports)).toEqual(outcome);
  });
});

describe("kindOfSessionRequest", () => {
  it.each([
    ["submitOrder", "submit"],
    ["cancelOrder", "cancel"],
    ["replaceOrder", "replace"],
    ["massCancel", "mass_cancel"],
    [undefined, "any"],
  ] as const)("labels %s as %s", (c, kind) => {
    expect(kindOfSessionRequest(request(c))).toBe(kind);
  });
});

describe("outcomeOfAck", () => {
  it.each([
    ["an accepted ack is accepted", request("submitOrder"), ack(true), ACCEPTED],
    [
      "a refused ack is rejected with its reason",
      request("replaceOrder"),
      ack(false, RejectReason.UNKNOWN_ORDER),
      rejectedFor(RejectReason.UNKNOWN_ORDER),
    ],
    [
      "a request for another account is rejected as not permitted",
      request("submitOrder"),
      ack(false, RejectReason.ACCOUNT_NOT_PERMITTED),
      rejectedFor(RejectReason.ACCOUNT_NOT_PERMITTED),
    ],
    ["a request with no body is invalid", request(undefined), ack(false, RejectReason.MALFORMED_REQUEST), INVALID],
    ["a request without an ack is unavailable", request("submitOrder"), undefined, UNAVAILABLE],
    [
      "a request the log did not store is unavailable",
      request("cancelOrder"),
      ack(false, RejectReason.UNAVAILABLE),
      UNAVAILABLE,
    ],
  ])("%s", (_name, r, a, outcome) => {
    expect(outcomeOfAck(r, a)).toEqual(outcome);
  });
});
