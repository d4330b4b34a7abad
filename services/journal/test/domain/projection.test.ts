import { describe, expect, it } from "vitest";
import { EngineEvent, Side, type EngineEvent as Event } from "@tradeplane/contracts";
import { mergeOrderUpdates, projectBatch, type StreamMessage } from "../../src/domain/projection.ts";
import fc from "fast-check";
import type { OrderUpdate } from "../../src/domain/rows.ts";
import { mergeOrderUpdatesReference } from "./order-merge-reference.ts";

const SUBJECT = "tp.spot.evt.1.INFY";
const at = { seconds: 1_767_225_600, nanos: 5_000 };

function event(commandSeq: number, index: number, body: Event["body"]): Event {
  return EngineEvent.fromPartial({ commandSeq, index, timestamp: at, instrument: "INFY", body });
}
const accepted = (commandSeq: number, qty = 10): Event =>
  event(commandSeq, 0, {
    $case: "accepted",
    value: { orderId: commandSeq, clientOrderId: `c${commandSeq}`, account: "a1", side: Side.BUY, price: 100, qty },
  } as Event["body"]);
const trade = (
  commandSeq: number,
  index: number,
  maker: number,
  taker: number,
  qty: number,
  makerLeaves: number,
): Event =>
  event(commandSeq, index, {
    $case: "trade",
    value: {
      tradeId: 1,
      price: 100,
      qty,
      aggressorSide: Side.SELL,
      makerOrderId: maker,
      makerAccount: "a1",
      makerClientOrderId: "",
      makerLeavesQty: makerLeaves,
      takerOrderId: taker,
      takerAccount: "a2",
      takerClientOrderId: "",
      takerLeavesQty: 0,
    },
  });
const message = (seq: number, ...events: Event[]): StreamMessage => ({ seq, subject: SUBJECT, events });

describe("projectBatch", () => {
  it("writes a trade as one trade, an execution per side and an audit row per order", () => {
    const w = projectBatch([message(7, accepted(5), trade(6, 1, 5, 6, 4, 6))]);
    expect(w.trades.map((t) => [t.commandSeq, t.index, t.partition, t.aggressorSide])).toEqual([[6, 1, 1, "SELL"]]);
    expect(w.executions.map((x) => [x.role, x.account, x.side, x.qty, x.leavesQty])).toEqual([
      ["maker", "a1", "BUY", 4, 6],
      ["taker", "a2", "SELL", 4, 0],
    ]);
    expect(w.orderEvents.map((e) => [e.kind, e.orderId, e.streamSeq, e.timeUs])).toEqual([
      ["accepted", 5, 7, 1_767_225_600_000_005],
      ["trade", 5, 7, 1_767_225_600_000_005],
      ["trade", 6, 7, 1_767_225_600_000_005],
    ]);
    expect(w.resumeAfter).toBe(7);
  });

  it.each([
    [
      "an undecodable message",
      { seq: 3, subject: SUBJECT, undecodable: "bad wire type", data: new Uint8Array([1]) },
      -1,
      "UNDECODABLE",
    ],
    ["a subject that is not an event subject", message(3, accepted(5)), -1, "BAD_SUBJECT", "tp.spot.evt.x.INFY"],
    ["an event without a body", message(3, event(5, 0, undefined)), 0, "MISSING_BODY"],
    ["an event with command sequence 0", message(3, event(0, 0, accepted(5).body)), 0, "BAD_KEY"],
    ["an accepted order with quantity 0", message(3, accepted(5, 0)), 0, "BAD_FIELD"],
  ] as const)(
    "dead-letters %s and still moves the resume position past it",
    (_name, m, position, reason, subject?: string) => {
      const w = projectBatch([{ ...m, subject: subject ?? m.subject } as StreamMessage]);
      expect(w.deadLetters.map((d) => [d.streamSeq, d.position, d.reason])).toEqual([[3, position, reason]]);
      expect(w.orderEvents).toEqual([]);
      expect(w.resumeAfter).toBe(3);
    },
  );

  it("skips book deltas, which are market data", () => {
    const w = projectBatch([message(2, event(5, 1, { $case: "bookDelta", value: { changes: [] } }))]);
    expect(w.orderEvents).toEqual([]);
    expect(w.deadLetters).toEqual([]);
  });

  it("journals fences and kill-switch blocks (ADR 0003) as audit rows about no order", () => {
    const fenced = event(8, 0, { $case: "accountFenced", value: { account: "a1", epoch: 12 } });
    const blocked = event(9, 0, {
      $case: "accountBlockChanged",
      value: { account: "", allAccounts: true, blocked: true, reason: "risk desk" },
    });
    const w = projectBatch([message(5, { ...fenced, instrument: "_" }, { ...blocked, instrument: "_" })]);
    expect(w.deadLetters).toEqual([]);
    expect(w.orderEvents.map((e) => [e.kind, e.orderId, e.account, e.instrument])).toEqual([
      ["accountFenced", 0, "a1", "_"],
      ["accountBlockChanged", 0, "", "_"],
    ]);
    expect(JSON.parse(w.orderEvents[1]!.detail)).toMatchObject({ accountBlockChanged: { allAccounts: true } });
  });

  it("journals the good events of a message beside its bad ones", () => {
    const w = projectBatch([message(4, accepted(5), event(0, 1, accepted(6).body))]);
    expect(w.orderEvents.map((e) => e.orderId)).toEqual([5]);
    expect(w.deadLetters.map((d) => d.position)).toEqual([1]);
  });
});

describe("mergeOrderUpdates", () => {
  it("records which event set each field group", () => {
    const merged = mergeOrderUpdates([
      u(9, { account: "a", price: 100, qty: 10, status: "NEW", leavesQty: 10 }),
      u(10, { price: 101, qty: 8, clientOrderId: "r", leavesQty: 8 }),
      u(11, { status: "CANCELLED", leavesQty: 0 }),
    ]);
    expect(merged[0]!.keys).toEqual({ price: [10, 0], terms: [10, 0], status: [11, 0], leaves: [11, 0] });
    expect(merged[0]).toMatchObject({ price: 101, qty: 8, status: "CANCELLED", leavesQty: 0 });
  });

  const base = { partition: 0, instrument: "INFY", timeUs: 1 };
  const u = (seq: number, fields: Partial<OrderUpdate>): OrderUpdate => ({
    ...base,
    orderId: 9,
    lastCommandSeq: seq,
    lastIndex: 0,
    ...fields,
  });

  it.each([
    ["in order", [u(9, { account: "a", status: "NEW", leavesQty: 10 }), u(12, { status: "FILLED", leavesQty: 0 })]],
    ["out of order", [u(12, { status: "FILLED", leavesQty: 0 }), u(9, { account: "a", status: "NEW", leavesQty: 10 })]],
  ])("folds one order's updates %s into the newest state with the first terms", (_name, updates) => {
    expect(mergeOrderUpdates(updates)).toEqual([
      u(12, { account: "a", status: "FILLED", leavesQty: 0, keys: { status: [12, 0], leaves: [12, 0] } }),
    ]);
  });

  it("folds any updates as the plain reference fold does", () => {
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const update = fc.record({
      orderId: fc.integer({ min: 1, max: 4 }),
      lastCommandSeq: fc.integer({ min: 1, max: 30 }),
      lastIndex: fc.integer({ min: 0, max: 3 }),
      partition: fc.integer({ min: 0, max: 2 }),
      instrument: fc.constantFrom("INFY", "TCS"),
      timeUs: fc.nat(),
      account: maybe(fc.constantFrom("a", "b")),
      clientOrderId: maybe(fc.constantFrom("c1", "c2")),
      side: maybe(fc.constantFrom("BUY", "SELL")),
      orderType: maybe(fc.constantFrom("LIMIT", "MARKET")),
      timeInForce: maybe(fc.constantFrom("DAY", "IOC")),
      price: maybe(fc.nat()),
      stopPrice: maybe(fc.nat()),
      qty: maybe(fc.nat()),
      leavesQty: maybe(fc.nat()),
      status: maybe(fc.constantFrom("NEW" as const, "FILLED" as const, "CANCELLED" as const)),
      acceptedCommandSeq: maybe(fc.nat()),
    });
    fc.assert(
      fc.property(fc.array(update, { maxLength: 40 }), (updates) => {
        expect(mergeOrderUpdates(updates)).toEqual(mergeOrderUpdatesReference(updates));
      }),
      { numRuns: 500 },
    );
  });
});
