import { describe, expect, it } from "vitest";
import {
  CancelReason,
  InstrumentState,
  RejectReason,
  Side,
  type Command,
  type EngineEvent,
} from "@tradeplane/contracts";
import { commandStream, newLimitOrder, testInstrumentSettings } from "@tradeplane/testkit";
import { Partition, restorePartition } from "../src/partition.ts";
import { SnapshotError } from "../src/codec.ts";
import { engineConfigOf } from "../src/engine-config.ts";

const ts = { seconds: 1_767_225_600, nanos: 0 };
const newPartition = () => Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });

function order(account: string, side: Side, price: number, qty: number, clientOrderId: string): Command {
  return {
    timestamp: ts,
    account,
    source: "t",
    traceparent: "",
    ownerEpoch: 0,
    body: newLimitOrder({ clientOrderId, side, price, qty }),
  };
}

function run(p: Partition, seq: number, command: Command | undefined, error?: string): EngineEvent[] {
  p.apply(seq, command, error);
  return p.wireEvents();
}

const cases = (events: EngineEvent[]) => events.map((e) => e.body?.$case);

describe("Partition: log commands to engine events", () => {
  it("names both sides of a trade with their accounts and client order ids, numbers trades, groups book deltas", () => {
    const p = newPartition();
    run(p, 1, order("alice", Side.SELL, 100_010, 5, "a1"));
    const events = run(p, 2, order("bob", Side.BUY, 100_010, 3, "b1"));
    expect(cases(events)).toEqual(["accepted", "trade", "bookDelta"]);
    expect(events[1]!.body).toMatchObject({
      $case: "trade",
      value: {
        tradeId: 1,
        price: 100_010,
        qty: 3,
        aggressorSide: Side.BUY,
        makerOrderId: 1,
        makerAccount: "alice",
        makerClientOrderId: "a1",
        makerLeavesQty: 2,
        takerOrderId: 2,
        takerAccount: "bob",
        takerClientOrderId: "b1",
        takerLeavesQty: 0,
      },
    });
    expect(events.map((e) => [e.commandSeq, e.index, e.lastInCommand])).toEqual([
      [2, 0, false],
      [2, 1, false],
      [2, 2, true],
    ]);
    const next = run(p, 3, order("carol", Side.BUY, 100_010, 2, "c1"));
    expect(next.find((e) => e.body?.$case === "trade")!.body).toMatchObject({ value: { tradeId: 2 } });
  });

  it("reports another account's order as unknown", () => {
    const p = newPartition();
    run(p, 1, order("alice", Side.SELL, 100_010, 5, "a1"));
    const events = run(p, 2, {
      timestamp: ts,
      account: "mallory",
      source: "t",
      traceparent: "",
      ownerEpoch: 0,
      body: { $case: "cancelOrder", value: { instrument: "INFY", orderId: 1, clientOrderId: "m1", reason: 0 } },
    });
    expect(events[0]!.body).toMatchObject({
      $case: "rejected",
      value: { reason: RejectReason.UNKNOWN_ORDER, orderId: 1, account: "mallory" },
    });
  });

  it.each([
    ["a listed instrument: that instrument", "TCS", "TCS"],
    ["no listed instrument: the unrouted token", "NOPE", "_"],
  ])("names, on a refused cancel of an unknown order, %s", (_name, instrument, expected) => {
    const events = run(newPartition(), 1, {
      timestamp: ts,
      account: "alice",
      source: "t",
      traceparent: "",
      ownerEpoch: 0,
      body: { $case: "cancelOrder", value: { instrument, orderId: 77, clientOrderId: "x", reason: 0 } },
    });
    expect(events).toMatchObject([{ instrument: expected, body: { $case: "rejected" } }]);
  });

  it("ends a mass cancel with its count, and carries the request's reason", () => {
    const p = newPartition();
    run(p, 1, order("alice", Side.SELL, 100_010, 5, "a1"));
    run(p, 2, order("alice", Side.BUY, 99_990, 5, "a2"));
    run(p, 3, order("bob", Side.BUY, 99_980, 5, "b1"));
    const events = run(p, 4, {
      timestamp: ts,
      account: "alice",
      source: "t",
      traceparent: "",
      ownerEpoch: 0,
      body: {
        $case: "massCancel",
        value: { instrument: "", side: 0, allAccounts: false, reason: CancelReason.KILL_SWITCH, clientOrderId: "k1" },
      },
    });
    const cancelled = events.filter((e) => e.body?.$case === "cancelled");
    expect(cancelled).toHaveLength(2);
    expect(cancelled[0]!.body).toMatchObject({ value: { reason: CancelReason.KILL_SWITCH, account: "alice" } });
    expect(events.at(-1)!.body).toMatchObject({
      $case: "massCancelCompleted",
      value: { account: "alice", cancelledCount: 2, clientOrderId: "k1" },
    });
  });

  it("refuses a state change from a state the command does not allow", () => {
    const p = newPartition();
    const resume = (seq: number) =>
      run(p, seq, {
        timestamp: ts,
        account: "ops:test",
        source: "t",
        traceparent: "",
        ownerEpoch: 0,
        body: {
          $case: "setInstrumentState",
          value: {
            instrument: "INFY",
            state: InstrumentState.CONTINUOUS,
            reason: "resume",
            fromStates: [InstrumentState.HALTED],
          },
        },
      });
    expect(resume(1)[0]!.body).toMatchObject({ value: { reason: RejectReason.INVALID_STATE_TRANSITION } });
  });

  it("records bytes that are not a command as a malformed-command rejection", () => {
    const p = newPartition();
    const events = run(p, 1, undefined, "command does not decode: index out of range");
    expect(events).toHaveLength(1);
    expect(events[0]!.body).toMatchObject({ $case: "rejected", value: { reason: RejectReason.MALFORMED_COMMAND } });
    expect(p.lastSeq).toBe(1);
  });

  it.each([
    ["truncated", (b: Uint8Array) => b.subarray(0, b.length - 3)],
    ["a table byte flipped", (b: Uint8Array) => b.map((x, i) => (i === b.length - 5 ? x ^ 0xff : x))],
    ["another version", (b: Uint8Array) => b.map((x, i) => (i === 4 ? 9 : x))],
    ["empty", () => new Uint8Array(0)],
  ])("refuses a partition snapshot that is %s with SnapshotError", (_name, spoil) => {
    const p = newPartition();
    commandStream(500, 3).forEach((c, i) => p.apply(i + 1, c));
    expect(() => restorePartition(spoil(p.snapshot()))).toThrow(SnapshotError);
  });

  it("restores from a snapshot to the same digest and the same future", () => {
    const commands = commandStream(3_000, 17);
    const whole = newPartition();
    const half = newPartition();
    commands.forEach((c, i) => {
      whole.apply(i + 1, c);
      if (i < 1_500) half.apply(i + 1, c);
    });
    const restored = restorePartition(half.snapshot());
    expect(restored.digest()).toBe(half.digest());
    const tail: EngineEvent[][] = [];
    const tailWhole: EngineEvent[][] = [];
    const replayed = newPartition();
    commands.forEach((c, i) => {
      replayed.apply(i + 1, c);
      if (i >= 1_500) tailWhole.push(replayed.wireEvents());
    });
    commands.slice(1_500).forEach((c, i) => {
      restored.apply(1_501 + i, c);
      tail.push(restored.wireEvents());
    });
    expect(tail).toEqual(tailWhole);
    expect(restored.digest()).toBe(whole.digest());
  });

  it("writes a snapshot in steps as of when it began, while commands (replaces too) go on between steps", () => {
    const commands = commandStream(100_000, 23);
    const p = newPartition();
    commands.slice(0, 70_000).forEach((c, i) => p.apply(i + 1, c));
    const atOnce = p.snapshot();
    const digest = p.digest();
    const steps = p.snapshotSteps(64);
    let taken = 0;
    let next = 70_000;
    let r = steps.next();
    while (!r.done) {
      taken++;
      for (let k = 0; k < 500 && next < commands.length; k++, next++) p.apply(next + 1, commands[next]!);
      r = steps.next();
    }
    expect(taken).toBeGreaterThan(1);
    expect(next).toBeGreaterThan(70_000);
    expect(Buffer.from(r.value).equals(Buffer.from(atOnce))).toBe(true);
    expect(restorePartition(r.value).digest()).toBe(digest);
  });

  it("refuses a damaged snapshot with a typed error", () => {
    const p = newPartition();
    p.apply(1, order("alice", Side.SELL, 100_010, 5, "a1"));
    const bytes = p.snapshot();
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    expect(() => restorePartition(bytes)).toThrow(/checksum|snapshot/);
    expect(() => restorePartition(new Uint8Array(5))).toThrow(/truncated/);
  });
});
