/**
 * ADR 0003 on one partition: fences (account ownership by lease between gateway replicas) and
 * kill-switch blocks, as log commands in and wire events out.
 */
import { describe, expect, it } from "vitest";
import {
  CancelReason,
  InstrumentState,
  OrderType,
  RejectReason,
  RequestKind,
  Side,
  type Command,
  type EngineEvent,
} from "@tradeplane/contracts";
import { commandStream, newLimitOrder, testInstrumentSettings } from "@tradeplane/testkit";
import { createHash } from "node:crypto";
import { Partition, restorePartition } from "../src/partition.ts";
import { restoreEngine, SnapshotError } from "../src/index.ts";
import { engineConfigOf } from "../src/engine-config.ts";

const ts = { seconds: 1_767_225_600, nanos: 0 };
const newPartition = () => Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });

function command(account: string, body: Command["body"], ownerEpoch = 0): Command {
  return { timestamp: ts, account, source: "t", traceparent: "", ownerEpoch, body };
}

const newOrder = (
  account: string,
  side: Side,
  price: number,
  qty: number,
  clientOrderId: string,
  ownerEpoch = 0,
  more: { orderType?: OrderType; stopPrice?: number } = {},
): Command => command(account, newLimitOrder({ clientOrderId, side, price, qty, ...more }), ownerEpoch);
const cancel = (account: string, orderId: number, ownerEpoch = 0): Command =>
  command(
    account,
    { $case: "cancelOrder", value: { instrument: "INFY", orderId, clientOrderId: "x1", reason: 0 } },
    ownerEpoch,
  );
const replace = (account: string, orderId: number, ownerEpoch = 0): Command =>
  command(
    account,
    {
      $case: "replaceOrder",
      value: { instrument: "INFY", orderId, clientOrderId: "r1", price: 99_000, stopPrice: 0, qty: 4 },
    },
    ownerEpoch,
  );
const massCancel = (account: string, ownerEpoch = 0, reason: CancelReason = CancelReason.UNSPECIFIED): Command =>
  command(
    account,
    { $case: "massCancel", value: { instrument: "", side: 0, allAccounts: false, reason, clientOrderId: "m1" } },
    ownerEpoch,
  );
const fence = (account: string, epoch: number, ownerEpoch = epoch): Command =>
  command(account, { $case: "fenceAccount", value: { epoch } }, ownerEpoch);
const block = (account: string, blocked: boolean, allAccounts = false, ownerEpoch = 0): Command =>
  command(account, { $case: "blockAccount", value: { blocked, allAccounts, reason: "risk desk" } }, ownerEpoch);
const halt = (): Command =>
  command("ops", {
    $case: "setInstrumentState",
    value: { instrument: "INFY", state: InstrumentState.HALTED, reason: "test", fromStates: [] },
  });
const tick = (): Command => command("ops", { $case: "timeTick", value: {} });

/** A partition and a driver that numbers the commands. */
function venue() {
  const p = newPartition();
  let seq = 0;
  return {
    p,
    run(c: Command): EngineEvent[] {
      p.apply(++seq, c);
      return p.wireEvents();
    },
    get seq() {
      return seq;
    },
  };
}

const rejectionOf = (events: EngineEvent[]) =>
  events[0]?.body?.$case === "rejected" ? events[0].body.value : undefined;

describe("fences (FenceAccountCommand, owner_epoch)", () => {
  // alice's fence is 5; her resting order is order 1 and bob's is order 2.
  it.each<[string, (epoch: number) => Command, number, boolean]>([
    ["a new order below the fence", (e) => newOrder("alice", Side.BUY, 99_000, 1, "n", e), 4, true],
    ["a new order at the fence", (e) => newOrder("alice", Side.BUY, 99_000, 1, "n", e), 5, false],
    ["a new order above the fence", (e) => newOrder("alice", Side.BUY, 99_000, 1, "n", e), 6, false],
    ["a new order with no epoch (0)", (e) => newOrder("alice", Side.BUY, 99_000, 1, "n", e), 0, true],
    ["a cancel below the fence", (e) => cancel("alice", 1, e), 4, true],
    ["a cancel at the fence", (e) => cancel("alice", 1, e), 5, false],
    ["a replace below the fence", (e) => replace("alice", 1, e), 4, true],
    ["a replace at the fence", (e) => replace("alice", 1, e), 5, false],
    ["a mass cancel below the fence", (e) => massCancel("alice", e), 4, true],
    ["a kill switch's mass cancel below the fence", (e) => massCancel("alice", e, CancelReason.KILL_SWITCH), 4, false],
    ["a fence below the fence", (e) => fence("alice", 9, e), 4, true],
    ["a block below the fence", (e) => block("alice", true, false, e), 4, false],
    ["bob's new order with no epoch (bob is not fenced)", () => newOrder("bob", Side.BUY, 99_000, 1, "n"), 0, false],
    ["an instrument state change", () => halt(), 0, false],
    ["a time tick", () => tick(), 0, false],
  ])("%s", (_name, make, epoch, refused) => {
    const v = venue();
    v.run(newOrder("alice", Side.SELL, 101_000, 5, "a1"));
    v.run(newOrder("bob", Side.SELL, 101_000, 5, "b1"));
    v.run(fence("alice", 5));
    const events = v.run(make(epoch));
    const rejection = rejectionOf(events);
    if (refused) {
      expect(events).toHaveLength(1);
      expect(rejection?.reason).toBe(RejectReason.FENCED);
      expect(rejection?.text).toContain("below its fence 5");
    } else expect(rejection?.reason).not.toBe(RejectReason.FENCED);
  });

  it("answers a refused command as the other refusals do: request kind, order id, client order id, account", () => {
    const v = venue();
    v.run(newOrder("alice", Side.SELL, 101_000, 5, "a1", 3));
    v.run(fence("alice", 4));
    const cases: [Command, string, object][] = [
      [
        newOrder("alice", Side.BUY, 99_000, 1, "n1", 3),
        "INFY",
        { requestKind: RequestKind.NEW_ORDER, orderId: 0, clientOrderId: "n1", account: "alice" },
      ],
      [cancel("alice", 1, 3), "INFY", { requestKind: RequestKind.CANCEL_ORDER, orderId: 1, clientOrderId: "x1" }],
      [replace("alice", 1, 3), "INFY", { requestKind: RequestKind.REPLACE_ORDER, orderId: 1, clientOrderId: "r1" }],
      // A mass cancel of every instrument is answered on the partition-wide token, as always.
      [massCancel("alice", 3), "_", { requestKind: RequestKind.MASS_CANCEL, clientOrderId: "m1" }],
    ];
    for (const [c, instrument, expected] of cases) {
      const events = v.run(c);
      expect(events).toMatchObject([
        {
          instrument,
          lastInCommand: true,
          body: { $case: "rejected", value: { ...expected, reason: RejectReason.FENCED } },
        },
      ]);
    }
    // Nothing happened: alice's order still rests whole.
    expect(v.p.liveOrderCount).toBe(1);
  });

  it.each<[string, number[], number, number | "malformed" | "fenced"]>([
    ["a first fence", [], 3, 3],
    ["a higher fence", [3], 7, 7],
    ["the same fence again", [7], 7, 7],
    ["a lower fence, written by the current owner: changes nothing", [7], 2, 7],
    ["epoch 0", [], 0, "malformed"],
  ])("%s", (_name, before, epoch, expected) => {
    const v = venue();
    for (const f of before) v.run(fence("alice", f));
    const events = v.run(fence("alice", epoch, Math.max(epoch, ...before)));
    if (expected === "malformed")
      expect(rejectionOf(events)).toMatchObject({ reason: RejectReason.MALFORMED_COMMAND, account: "alice" });
    else
      expect(events).toEqual([
        expect.objectContaining({
          instrument: "_",
          lastInCommand: true,
          body: { $case: "accountFenced", value: { account: "alice", epoch: expected } },
        }),
      ]);
  });
});

describe("kill-switch blocks (BlockAccountCommand)", () => {
  it.each<[string, Command[], (v: ReturnType<typeof venue>) => Command, RejectReason | undefined]>([
    [
      "a blocked account's new order",
      [block("alice", true)],
      () => newOrder("alice", Side.BUY, 99_000, 1, "n"),
      RejectReason.KILL_SWITCH,
    ],
    ["a blocked account's replace", [block("alice", true)], () => replace("alice", 1), RejectReason.KILL_SWITCH],
    ["a blocked account's cancel", [block("alice", true)], () => cancel("alice", 1), undefined],
    ["a blocked account's mass cancel", [block("alice", true)], () => massCancel("alice"), undefined],
    ["another account's new order", [block("alice", true)], () => newOrder("bob", Side.BUY, 99_000, 1, "n"), undefined],
    [
      "a new order under the venue's switch",
      [block("ops", true, true)],
      () => newOrder("bob", Side.BUY, 99_000, 1, "n"),
      RejectReason.KILL_SWITCH,
    ],
    [
      "a new order after the release",
      [block("alice", true), block("alice", false)],
      () => newOrder("alice", Side.BUY, 99_000, 1, "n"),
      undefined,
    ],
    [
      "a new order of a blocked account after the venue's release (the switches are independent)",
      [block("ops", true, true), block("alice", true), block("ops", false, true)],
      () => newOrder("alice", Side.BUY, 99_000, 1, "n"),
      RejectReason.KILL_SWITCH,
    ],
    [
      "another account's new order after the venue's release",
      [block("ops", true, true), block("alice", true), block("ops", false, true)],
      () => newOrder("bob", Side.BUY, 99_000, 1, "n"),
      undefined,
    ],
  ])("%s", (_name, blocks, make, expected) => {
    const v = venue();
    v.run(newOrder("alice", Side.SELL, 101_000, 5, "a1"));
    for (const b of blocks) v.run(b);
    const events = v.run(make(v));
    const rejection = rejectionOf(events);
    if (expected === undefined) expect(rejection).toBeUndefined();
    else expect(rejection).toMatchObject({ reason: expected, text: expect.stringContaining("kill switch") });
  });

  it("answers a block with AccountBlockChanged on the partition-wide token", () => {
    const v = venue();
    expect(v.run(block("alice", true))).toEqual([
      expect.objectContaining({
        instrument: "_",
        body: {
          $case: "accountBlockChanged",
          value: { account: "alice", allAccounts: false, blocked: true, reason: "risk desk" },
        },
      }),
    ]);
    expect(v.run(block("ops", false, true))[0]!.body).toEqual({
      $case: "accountBlockChanged",
      value: { account: "", allAccounts: true, blocked: false, reason: "risk desk" },
    });
    expect(rejectionOf(v.run(block("", true)))?.reason).toBe(RejectReason.MALFORMED_COMMAND);
    expect(rejectionOf(v.run(fence("", 3)))?.reason).toBe(RejectReason.MALFORMED_COMMAND);
    const long = command("ops", {
      $case: "blockAccount",
      value: { blocked: true, allAccounts: true, reason: "x".repeat(257) },
    });
    expect(rejectionOf(v.run(long))?.reason).toBe(RejectReason.MALFORMED_COMMAND);
  });

  it("cancels, never triggers, a stop of a blocked account (a triggered stop is a new order); triggers it once released", () => {
    for (const blocked of [true, false]) {
      const v = venue();
      v.run(newOrder("alice", Side.BUY, 0, 3, "stop1", 0, { orderType: OrderType.STOP, stopPrice: 100_020 }));
      v.run(newOrder("bob", Side.SELL, 100_030, 10, "b1"));
      if (blocked) v.run(block("alice", true));
      v.run(newOrder("carol", Side.SELL, 100_020, 1, "c1"));
      const events = v.run(newOrder("dave", Side.BUY, 100_020, 1, "d1"));
      const stop = events.filter((e) => e.body?.$case === "cancelled" || e.body?.$case === "triggered");
      if (blocked)
        expect(stop).toMatchObject([
          { body: { $case: "cancelled", value: { orderId: 1, account: "alice", reason: CancelReason.KILL_SWITCH } } },
        ]);
      else expect(stop[0]).toMatchObject({ body: { $case: "triggered", value: { orderId: 1, account: "alice" } } });
      const aliceTrades = events.filter((e) => e.body?.$case === "trade" && e.body.value.takerAccount === "alice");
      expect(aliceTrades).toHaveLength(blocked ? 0 : 1);
    }
  });

  it("lets the switch's entry (block, then mass cancel) leave no order of the account, and refuses what follows", () => {
    const v = venue();
    v.run(newOrder("alice", Side.SELL, 101_000, 5, "a1", 2));
    v.run(fence("alice", 2));
    v.run(block("alice", true, false, 0));
    const cancelled = v.run(massCancel("alice", 0, CancelReason.KILL_SWITCH));
    expect(cancelled.map((e) => e.body?.$case)).toEqual(["cancelled", "bookDelta", "massCancelCompleted"]);
    // The owner (epoch 2) and a stale replica (epoch 1) alike.
    expect(rejectionOf(v.run(newOrder("alice", Side.BUY, 99_000, 1, "n", 2)))?.reason).toBe(RejectReason.KILL_SWITCH);
    expect(rejectionOf(v.run(newOrder("alice", Side.BUY, 99_000, 1, "n", 1)))?.reason).toBe(RejectReason.FENCED);
  });
});

describe("fences and blocks are partition state", () => {
  it("survive a snapshot and give the same digest and the same future as the uninterrupted run", () => {
    const stream = commandStream(2_000, 5);
    // Fences and blocks among the stream's accounts, written before and after the snapshot point.
    const accounts = [...new Set(stream.map((c) => c.account))];
    const controls = (i: number): Command | undefined => {
      const a = accounts[i % accounts.length]!;
      if (i % 97 === 0) return fence(a, 1 + (i % 5));
      if (i % 131 === 0) return block(a, i % 2 === 0);
      if (i % 401 === 0) return block("ops", i % 3 === 0, true);
      return undefined;
    };
    const commands: Command[] = [];
    stream.forEach((c, i) => {
      const extra = controls(i);
      if (extra !== undefined) commands.push(extra);
      commands.push({ ...c, ownerEpoch: i % 7 });
    });
    const whole = newPartition();
    const half = newPartition();
    const cut = Math.floor(commands.length / 2);
    const wholeEvents: EngineEvent[][] = [];
    commands.forEach((c, i) => {
      whole.apply(i + 1, c);
      if (i >= cut) wholeEvents.push(whole.wireEvents());
      else half.apply(i + 1, c);
    });
    const reasons = wholeEvents.flat().flatMap((e) => (e.body?.$case === "rejected" ? [e.body.value.reason] : []));
    expect(reasons).toContain(RejectReason.FENCED);
    expect(reasons).toContain(RejectReason.KILL_SWITCH);
    const restored = restorePartition(half.snapshot());
    expect(restored.digest()).toBe(half.digest());
    const restoredEvents = commands.slice(cut).map((c, i) => {
      restored.apply(cut + i + 1, c);
      return restored.wireEvents();
    });
    expect(restoredEvents).toEqual(wholeEvents);
    expect(restored.digest()).toBe(whole.digest());
    expect(restored.engine.accountFences).toEqual(whole.engine.accountFences);
    expect(restored.engine.blockedAccounts).toEqual(whole.engine.blockedAccounts);
    expect(restored.engine.allBlocked).toBe(whole.engine.allBlocked);
  });

  it("keeps the digest of a partition that never saw a fence or block as it was before fences existed", () => {
    const p = newPartition();
    commandStream(3_000, 9).forEach((c, i) => p.apply(i + 1, c));
    // Computed with the code before ADR 0003's engine side (commit 3e100ca), same stream.
    expect(p.digest()).toBe("99002fdd9c5e076812d632b190705316f781f85ab8e117051e6f40b2cc4c45b2");
    p.apply(3_001, fence("nobody", 1));
    expect(p.digest()).not.toBe("99002fdd9c5e076812d632b190705316f781f85ab8e117051e6f40b2cc4c45b2");
  });

  /** A core snapshot rewritten to `version` with `body` in place of its own. */
  const reframed = (version: number, body: Uint8Array): Uint8Array => {
    const out = new Uint8Array(44 + body.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0x454d5054, true);
    v.setUint32(4, version, true);
    v.setUint32(8, body.length, true);
    out.set(createHash("sha256").update(body).digest(), 12);
    out.set(body, 44);
    return out;
  };

  it("restores a version 1 core snapshot (written before fences existed) with no fence and no block", () => {
    const p = newPartition();
    commandStream(500, 3).forEach((c, i) => p.apply(i + 1, c));
    const current = p.engine.snapshot();
    expect(new DataView(current.buffer, current.byteOffset).getUint32(4, true)).toBe(2);
    // Version 1 is version 2 without the trailing fences (u32 0), blocks (u32 0) and venue flag (u8 0).
    const body = current.subarray(44);
    expect([...body.subarray(body.length - 9)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const old = restoreEngine(reframed(1, body.subarray(0, body.length - 9)));
    expect(old.digest()).toBe(p.engine.digest());
    expect(old.accountFences).toEqual([]);
    expect(old.allBlocked).toBe(false);
    expect(() => restoreEngine(reframed(3, body))).toThrow(SnapshotError);
    // A version 1 body with the fence section is refused as trailing bytes, not misread.
    expect(() => restoreEngine(reframed(1, body))).toThrow(SnapshotError);
  });
});
