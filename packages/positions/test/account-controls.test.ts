/**
 * The projection's view of fences and kill-switch blocks (ADR 0003), fed by real partitions:
 * what a new owner of an account waits for, and what a gateway replica sees of a block.
 */
import { describe, expect, it } from "vitest";
import { ExecType, RejectReason, Side, type Command } from "@tradeplane/contracts";
import { Partition } from "@tradeplane/matching-core/partition";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { newLimitOrder, testInstrumentSettings } from "@tradeplane/testkit";
import { OrderProjection, type AccountReport } from "../src/order-projection.ts";

const ts = { seconds: 1_767_225_600, nanos: 0 };
const command = (account: string, body: Command["body"], ownerEpoch = 0): Command => ({
  timestamp: ts,
  account,
  source: "t",
  traceparent: "",
  ownerEpoch,
  body,
});
const fence = (account: string, epoch: number) => command(account, { $case: "fenceAccount", value: { epoch } }, epoch);
const block = (account: string, blocked: boolean, allAccounts = false) =>
  command(account, { $case: "blockAccount", value: { blocked, allAccounts, reason: "desk" } });
const buy = (account: string, clientOrderId: string, ownerEpoch: number) =>
  command(account, newLimitOrder({ clientOrderId, side: Side.BUY, price: 99_000, qty: 1 }), ownerEpoch);

/** Two real partitions publishing into one projection. */
function venue() {
  const projection = new OrderProjection(() => ({ notionalPerTickLot: 1 }));
  const partitions = [0, 1].map(() =>
    Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) }),
  );
  let seq = 0;
  return {
    projection,
    /** Applies `c` on partition `p`; the account reports it made. */
    on(p: number, c: Command): AccountReport[] {
      partitions[p]!.apply(++seq, c);
      return partitions[p]!.wireEvents().flatMap((e) => projection.apply(e, p));
    },
  };
}

describe("OrderProjection.controls: fences per partition", () => {
  it("tells a new owner which partitions have not fenced the account at its epoch yet", () => {
    const v = venue();
    const c = v.projection.controls;
    expect(c.fenceOf("alice", 0)).toBe(0);
    expect(c.fencedEverywhere("alice", 1, [0, 1])).toBe(false);
    v.on(0, fence("alice", 7));
    expect(c.partitionsNotFenced("alice", 7, [0, 1])).toEqual([1]);
    v.on(1, fence("alice", 7));
    expect(c.fencedEverywhere("alice", 7, [0, 1])).toBe(true);
    expect([...c.fencesOf("alice")]).toEqual([
      [0, 7],
      [1, 7],
    ]);
    // A later owner's fence: the epoch-7 owner is fenced away, an epoch-9 owner waits on partition 1.
    v.on(0, fence("alice", 9));
    expect(c.partitionsNotFenced("alice", 9, [0, 1])).toEqual([1]);
    expect(c.fencedEverywhere("bob", 1, [0, 1])).toBe(false);
  });

  it.each([
    ["below the fence: FENCED", 6, RejectReason.FENCED],
    ["at the fence: accepted", 7, undefined],
  ])("reports a new order of the account written %s to the account", (_name, ownerEpoch, reason) => {
    const v = venue();
    v.on(0, fence("alice", 7));
    const [report] = v.on(0, buy("alice", "c1", ownerEpoch));
    expect(report?.account).toBe("alice");
    if (reason === undefined) expect(report?.report.execType).toBe(ExecType.NEW);
    else
      expect(report?.report).toMatchObject({
        execType: ExecType.REJECTED,
        rejectReason: reason,
        text: expect.stringContaining("no longer owns the account"),
      });
  });
});

describe("OrderProjection.controls: kill-switch blocks per partition", () => {
  it("follows each partition's account and venue blocks, independently", () => {
    const v = venue();
    const c = v.projection.controls;
    v.on(0, block("alice", true));
    expect([c.isBlocked("alice", 0), c.isBlocked("alice", 1), c.isBlocked("bob", 0)]).toEqual([true, false, false]);
    v.on(1, block("ops", true, true));
    expect([c.isBlocked("bob", 1), c.isVenueBlocked(1), c.isVenueBlocked(0)]).toEqual([true, true, false]);
    v.on(0, block("alice", false));
    v.on(1, block("ops", false, true));
    expect([c.isBlocked("alice", 0), c.isBlocked("bob", 1)]).toEqual([false, false]);
    const [report] = v.on(0, block("alice", true)).concat(v.on(0, buy("alice", "c2", 0)));
    expect(report?.report).toMatchObject({ execType: ExecType.REJECTED, rejectReason: RejectReason.KILL_SWITCH });
  });
});

describe("OrderProjection.controls in snapshots", () => {
  it("restores fences and blocks, and restores an older snapshot without them as none", () => {
    const v = venue();
    v.on(0, fence("alice", 3));
    v.on(1, fence("alice", 4));
    v.on(1, block("bob", true));
    v.on(0, block("ops", true, true));
    const snapshot = JSON.parse(JSON.stringify(v.projection.snapshot())) as Record<string, unknown>;
    const restored = OrderProjection.restore(snapshot, () => ({ notionalPerTickLot: 1 }));
    expect(restored.controls.entries()).toEqual(v.projection.controls.entries());
    expect(restored.controls.fenceOf("alice", 1)).toBe(4);
    expect(restored.controls.isBlocked("bob", 1)).toBe(true);
    expect(restored.controls.isBlocked("carol", 0)).toBe(true);
    const { fences: _f, blocks: _b, ...older } = snapshot;
    const fromOlder = OrderProjection.restore(older, () => ({ notionalPerTickLot: 1 }));
    expect(fromOlder.controls.entries()).toEqual({ fences: [], blocks: [] });
    expect(() =>
      OrderProjection.restore({ ...snapshot, fences: [["alice", 0, 0]] }, () => ({ notionalPerTickLot: 1 })),
    ).toThrow(/fences\[0\]\[2\]/);
  });
});
