import { describe, expect, it } from "vitest";
import { ExecType, ExecutionReport, OrderStatus, Side, type Order } from "@tradeplane/contracts";
import { AccountState } from "../../src/account/account-state.ts";

function order(o: Partial<Order>): Partial<Order> {
  return { orderId: 1, clientOrderId: "a1", account: "acc", instrument: "INFY", side: Side.BUY, price: 100, ...o };
}

function report(sequence: number, execType: number, o: Partial<Order>, fill?: { price: number; qty: number }) {
  return ExecutionReport.fromPartial({
    sequence,
    execType: execType as ExecType,
    order: order(o),
    lastPrice: fill?.price ?? 0,
    lastQty: fill?.qty ?? 0,
  });
}

const working = (qty: number, leaves = qty) => ({ qty, leavesQty: leaves, status: OrderStatus.NEW });

describe("AccountState", () => {
  it("keeps working orders and FIFO positions from reports in sequence", () => {
    const s = new AccountState(() => 10);
    expect(s.apply(report(1, ExecType.NEW, working(5)))).toBe("applied");
    expect(s.openQty("INFY", Side.BUY)).toBe(5);
    expect(s.openExposure()).toBe(100 * 5 * 10);
    s.apply(
      report(
        2,
        ExecType.TRADE,
        { ...working(5, 2), status: OrderStatus.PARTIALLY_FILLED, cumQty: 3 },
        { price: 100, qty: 3 },
      ),
    );
    expect(s.netQty("INFY")).toBe(3);
    expect(s.openQty("INFY", Side.BUY)).toBe(2);
    s.apply(report(3, ExecType.NEW, { orderId: 2, clientOrderId: "a2", side: Side.SELL, price: 110, ...working(3) }));
    s.apply(
      report(
        4,
        ExecType.TRADE,
        {
          orderId: 2,
          clientOrderId: "a2",
          side: Side.SELL,
          price: 110,
          qty: 3,
          leavesQty: 0,
          status: OrderStatus.FILLED,
        },
        { price: 110, qty: 3 },
      ),
    );
    expect(s.netQty("INFY")).toBe(0);
    expect(s.pnl("INFY")).toEqual({ realised: (110 - 100) * 3 * 10, unrealised: 0 });
    expect(s.openOrders().map((o) => o.clientOrderId)).toEqual(["a1"]);
    expect(s.lastSequence).toBe(4);
  });

  it("hands out one frozen list of working orders per instrument until a report changes them", () => {
    const s = new AccountState(() => 1);
    s.apply(report(1, ExecType.NEW, working(5)));
    s.apply(report(2, ExecType.NEW, { orderId: 2, clientOrderId: "t1", instrument: "TCS", ...working(1) }));
    const view = s.openOrdersView("INFY");
    expect(view.map((o) => o.clientOrderId)).toEqual(["a1"]);
    expect(Object.isFrozen(view)).toBe(true);
    expect(s.openOrdersView("INFY")).toBe(view);
    expect(s.openOrdersView("").map((o) => o.clientOrderId)).toEqual(["a1", "t1"]);
    s.apply(report(3, ExecType.NEW, { orderId: 3, clientOrderId: "a2", ...working(2) }));
    expect(s.openOrdersView("INFY").map((o) => o.clientOrderId)).toEqual(["a1", "a2"]);
    expect(view.map((o) => o.clientOrderId)).toEqual(["a1"]);
  });

  it.each([
    ["a repeated report is a duplicate and changes nothing", [1, 1], ["applied", "duplicate"]],
    ["a skipped sequence is a gap and is not applied", [1, 3], ["applied", "gap"]],
    ["a risk reject (sequence 0) is applied without moving the sequence", [1, 0, 2], ["applied", "applied", "applied"]],
  ])("%s", (_name, seqs, verdicts) => {
    const s = new AccountState(() => 1);
    expect(seqs.map((q) => s.apply(report(q, ExecType.NEW, working(1))))).toEqual(verdicts);
  });

  it("counts an order sent but not answered as working until its report or its refusal", () => {
    const s = new AccountState(() => 1);
    s.addPending("p1", { instrument: "INFY", side: Side.SELL, price: 100, qty: 4 });
    s.addPending("p2", { instrument: "INFY", side: Side.SELL, price: 100, qty: 1 });
    expect(s.openQty("INFY", Side.SELL)).toBe(5);
    expect(s.hasClientOrderId("p1")).toBe(true);
    s.apply(report(1, ExecType.NEW, { clientOrderId: "p1", side: Side.SELL, ...working(4) }));
    s.refused("p2");
    expect(s.openQty("INFY", Side.SELL)).toBe(4);
    expect(s.pendingCount).toBe(0);
  });

  it("loads the gateway's baseline, then applies only what each part has not seen", () => {
    const s = new AccountState(() => 1);
    s.load({
      orders: [{ ...order({ orderId: 7, clientOrderId: "o7", side: Side.SELL, price: 105 }), ...working(2) } as Order],
      ordersAsOf: 6,
      positions: [
        {
          account: "acc",
          instrument: "INFY",
          netQty: 4,
          boughtQty: 4,
          soldQty: 0,
          openBuyQty: 0,
          openSellQty: 2,
          openCost: 4 * 100,
          markPrice: 100,
          realisedPnl: 0,
          unrealisedPnl: 0,
          openLots: [100, 4],
        },
      ],
      positionsAsOf: 5,
    });
    expect(s.resumeFrom).toBe(6);
    // Report 6 is in the orders' baseline already, not in the positions'.
    s.apply(
      report(
        6,
        ExecType.TRADE,
        { orderId: 7, clientOrderId: "o7", side: Side.SELL, price: 105, qty: 2, leavesQty: 1, cumQty: 1 },
        { price: 105, qty: 1 },
      ),
    );
    expect(s.openQty("INFY", Side.SELL)).toBe(2);
    expect(s.netQty("INFY")).toBe(3);
    expect(s.pnl("INFY").realised).toBe(5);
    expect(s.resumeFrom).toBe(7);
  });
});
