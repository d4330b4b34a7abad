import { describe, expect, it } from "vitest";
import {
  killSwitchRepairs,
  repairKey,
  type EngagedSwitch,
  type SwitchRepair,
} from "../../src/domain/kill-switch-convergence.ts";

const on = (account: string, keepOpenOrders = false): EngagedSwitch => ({
  account,
  reason: `stop ${account}`,
  keepOpenOrders,
});
const block = (account: string, partitions: number[], cancel = true): SwitchRepair => ({
  account,
  engaged: true,
  partitions,
  cancel,
  reason: `stop ${account}`,
});
const unblock = (account: string, partitions: number[]): SwitchRepair => ({
  account,
  engaged: false,
  partitions,
  cancel: false,
  reason: "kill switch not engaged in the accounts bucket",
});

describe("kill switches of the accounts bucket against the engine's blocks", () => {
  const P = [0, 1];
  const cases: [string, EngagedSwitch[], [string, number][], SwitchRepair[]][] = [
    ["nothing engaged, nothing blocked: nothing to write", [], [], []],
    [
      "an engaged switch blocked on every partition: in step",
      [on("alice")],
      [
        ["alice", 0],
        ["alice", 1],
      ],
      [],
    ],
    [
      "engaged in KV, blocked nowhere (a crash between the two writes): block and cancel everywhere",
      [on("alice")],
      [],
      [block("alice", [0, 1])],
    ],
    [
      "engaged in KV, blocked on one partition: block and cancel the other only",
      [on("alice")],
      [["alice", 1]],
      [block("alice", [0])],
    ],
    [
      "engaged with keep_open_orders: block without the mass cancel",
      [on("alice", true)],
      [],
      [block("alice", [0, 1], false)],
    ],
    ["the venue's switch engaged in KV and not in the engine", [on("")], [["", 0]], [block("", [1])]],
    [
      "blocked in the engine, released in KV (a crash after the delete): unblock",
      [],
      [
        ["bob", 0],
        ["bob", 1],
      ],
      [unblock("bob", [0, 1])],
    ],
    ["the venue's block without its switch: unblock the venue", [], [["", 1]], [unblock("", [1])]],
    [
      "an account's own block does not stand for the venue's, nor the venue's for an account's",
      [on(""), on("alice")],
      [
        ["", 0],
        ["", 1],
      ],
      [block("alice", [0, 1])],
    ],
    ["blocks on partitions this venue's config does not have are left alone", [], [["carol", 7]], []],
    [
      "several at once: the venue first, then accounts by name, blocks before unblocks",
      [on("zed"), on("")],
      [
        ["amy", 0],
        ["zed", 0],
      ],
      [block("", [0, 1]), unblock("amy", [0]), block("zed", [1])],
    ],
  ];
  it.each(cases)("%s", (_name, engaged, blocks, repairs) => {
    expect(killSwitchRepairs(engaged, blocks, P)).toEqual(repairs);
  });

  it("names a repair by switch and direction, not by partitions (a difference seen twice is the same one)", () => {
    expect(repairKey(block("alice", [0]))).toBe(repairKey(block("alice", [0, 1])));
    expect(repairKey(block("alice", [0]))).not.toBe(repairKey(unblock("alice", [0])));
    expect(repairKey(block("", [0]))).not.toBe(repairKey(block("alice", [0])));
  });
});
