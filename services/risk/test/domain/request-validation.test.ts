import { describe, expect, it } from "vitest";
import {
  RejectReason,
  Side,
  StpMode,
  type OrderType,
  type SubmitOrderRequest,
  type TimeInForce,
} from "@tradeplane/contracts";
import { limitOrder } from "@tradeplane/testkit";
import { submitProblem } from "../../src/domain/request-validation.ts";

function request(overrides: Partial<SubmitOrderRequest>): SubmitOrderRequest {
  return limitOrder({ account: "", clientOrderId: "c1", side: Side.BUY, price: 100_000, qty: 1, ...overrides });
}

const known = (symbol: string) => symbol === "INFY";

describe("submitProblem", () => {
  it("accepts a plain limit order", () => {
    expect(submitProblem(request({}), known)).toBeUndefined();
  });

  it("refuses an unknown instrument with its own reason, not MALFORMED_REQUEST", () => {
    expect(submitProblem(request({ instrument: "NOPE" }), known)).toEqual({
      field: "instrument",
      message: 'unknown instrument "NOPE"',
      reason: RejectReason.UNKNOWN_INSTRUMENT,
    });
    expect(submitProblem(request({ side: 9 as Side }), known)?.reason).toBeUndefined();
  });

  it.each([
    ["refuses the UNRECOGNIZED side marker", request({ side: -1 as Side }), "side"],
    ["refuses an unknown side", request({ side: 9 as Side }), "side"],
    ["refuses the UNRECOGNIZED order type marker", request({ orderType: -1 as OrderType }), "order_type"],
    ["refuses the UNRECOGNIZED time in force marker", request({ timeInForce: -1 as TimeInForce }), "time_in_force"],
    ["refuses the UNRECOGNIZED stp mode marker", request({ stpMode: -1 as SubmitOrderRequest["stpMode"] }), "stp_mode"],
  ])("%s", (_name, r, field) => {
    expect(submitProblem(r, known)?.field).toBe(field);
  });
});

describe("self-trade prevention modes", () => {
  it("refuses STP_MODE_NONE with UNSUPPORTED_ORDER and a text saying why", () => {
    const problem = submitProblem(request({ stpMode: StpMode.NONE }), known);
    expect(problem).toMatchObject({ field: "stp_mode", reason: RejectReason.UNSUPPORTED_ORDER });
    expect(problem!.message).toMatch(/never trade/);
  });
});
