import { describe, expect, it } from "vitest";
import {
  CancelReason,
  ExecType,
  LiquidityIndicator,
  OrderStatus,
  OrderType,
  RejectReason,
  RequestKind,
  Side,
  TimeInForce,
  type ExecutionReport,
  type Order,
} from "@tradeplane/contracts";
import { FixEncoder } from "../../src/domain/fix-encoder.ts";
import { writeReport, msgTypeOf } from "../../src/domain/execution-reports.ts";
import { fieldsOf } from "../support/session-harness.ts";
import { instruments } from "../support/instruments.ts";

// INFY: tick 0.05, lot 1, 5 notional units per tick-lot.
function order(o: Partial<Order>): Order {
  return {
    orderId: 42,
    clientOrderId: "c1",
    account: "acc1",
    instrument: "INFY",
    side: Side.BUY,
    orderType: OrderType.LIMIT,
    timeInForce: TimeInForce.DAY,
    price: 30_000,
    stopPrice: 0,
    qty: 10,
    leavesQty: 10,
    cumQty: 0,
    cumNotional: 0,
    status: OrderStatus.NEW,
    postOnly: false,
    stpMode: 0,
    expireTime: undefined,
    createTime: undefined,
    displayQty: 0,
    updateTime: undefined,
    ...o,
  };
}

function report(r: Partial<ExecutionReport>): ExecutionReport {
  return {
    sequence: 7,
    execType: ExecType.NEW,
    order: order({}),
    requestKind: RequestKind.UNSPECIFIED,
    requestClientOrderId: "",
    origClientOrderId: "",
    tradeId: 0,
    lastPrice: 0,
    lastQty: 0,
    lastNotional: 0,
    liquidity: LiquidityIndicator.UNSPECIFIED,
    rejectReason: RejectReason.UNSPECIFIED,
    cancelReason: CancelReason.UNSPECIFIED,
    text: "",
    commandSeq: 1,
    eventIndex: 0,
    transactTime: { seconds: 1_772_366_400, nanos: 0 },
    ...r,
  };
}

function written(r: ExecutionReport) {
  const e = new FixEncoder().start(msgTypeOf(r));
  writeReport(e, r, instruments, String(r.sequence), 0);
  return fieldsOf(e.finish());
}

const FILLED_4 = { cumQty: 4, cumNotional: 4 * 30_000 * 5, leavesQty: 6, status: OrderStatus.PARTIALLY_FILLED };

describe("writeReport: ExecType, OrdStatus, CumQty, LeavesQty, AvgPx, LastPx, LastQty on every path", () => {
  it.each([
    ["new", report({}), { 35: "8", 150: "0", 39: "0", 14: "0", 151: "10", 6: "0", 31: "0", 32: "0", 44: "1500.00" }],
    [
      "partial fill",
      report({
        execType: ExecType.TRADE,
        order: order(FILLED_4),
        lastPrice: 30_000,
        lastQty: 4,
        liquidity: LiquidityIndicator.ADDED,
      }),
      { 150: "F", 39: "1", 14: "4", 151: "6", 6: "1500.00", 31: "1500.00", 32: "4", 851: "1" },
    ],
    [
      "fill at two prices",
      report({
        execType: ExecType.TRADE,
        order: order({
          cumQty: 10,
          cumNotional: (4 * 30_000 + 6 * 30_010) * 5,
          leavesQty: 0,
          status: OrderStatus.FILLED,
        }),
        lastPrice: 30_010,
        lastQty: 6,
        liquidity: LiquidityIndicator.REMOVED,
      }),
      { 150: "F", 39: "2", 14: "10", 151: "0", 6: "1500.30", 31: "1500.50", 32: "6", 851: "2" },
    ],
    [
      "cancel after a partial fill",
      report({
        execType: ExecType.CANCELLED,
        order: order({ ...FILLED_4, leavesQty: 0, status: OrderStatus.CANCELLED }),
        requestKind: RequestKind.CANCEL_ORDER,
        requestClientOrderId: "cx1",
      }),
      { 150: "4", 39: "4", 11: "cx1", 41: "c1", 14: "4", 151: "0", 6: "1500.00", 31: "0", 32: "0" },
    ],
    [
      "replace",
      report({
        execType: ExecType.REPLACED,
        order: order({ clientOrderId: "c2", qty: 8, leavesQty: 8, price: 30_010 }),
        requestKind: RequestKind.REPLACE_ORDER,
        requestClientOrderId: "c2",
        origClientOrderId: "c1",
      }),
      { 150: "5", 39: "0", 11: "c2", 41: "c1", 38: "8", 44: "1500.50", 151: "8", 14: "0" },
    ],
    [
      "reject",
      report({
        sequence: 0,
        execType: ExecType.REJECTED,
        order: order({ orderId: 0, leavesQty: 0, status: OrderStatus.REJECTED }),
        rejectReason: RejectReason.OFF_TICK,
      }),
      { 150: "8", 39: "8", 37: "NONE", 103: "18", 14: "0", 151: "0", 58: "OFF_TICK" },
    ],
    [
      "expiry after a partial fill",
      report({ execType: ExecType.EXPIRED, order: order({ ...FILLED_4, leavesQty: 0, status: OrderStatus.EXPIRED }) }),
      { 150: "C", 39: "C", 14: "4", 151: "0", 6: "1500.00" },
    ],
    [
      "self-trade prevention cancel",
      report({
        execType: ExecType.CANCELLED,
        order: order({ leavesQty: 0, status: OrderStatus.CANCELLED }),
        cancelReason: CancelReason.SELF_TRADE_PREVENTION,
      }),
      { 150: "4", 39: "4", 14: "0", 151: "0", 11: "c1" },
    ],
    [
      "stop triggered",
      report({ execType: ExecType.TRIGGERED, order: order({ orderType: OrderType.LIMIT, stopPrice: 29_000 }) }),
      { 150: "L", 39: "0", 99: "1450.00" },
    ],
  ])("%s", (_name, r, expected) => {
    expect(written(r)).toMatchObject(expected);
  });

  it("answers a refused cancel with an OrderCancelReject", () => {
    const r = report({
      execType: ExecType.REJECTED,
      order: order({ leavesQty: 0, status: OrderStatus.FILLED, cumQty: 10 }),
      requestKind: RequestKind.CANCEL_ORDER,
      requestClientOrderId: "cx2",
      rejectReason: RejectReason.ORDER_FINISHED,
    });
    expect(written(r)).toMatchObject({ 35: "9", 11: "cx2", 41: "c1", 39: "2", 434: "1", 102: "0" });
  });
});
