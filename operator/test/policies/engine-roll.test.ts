import { describe, expect, it } from "vitest";
import { nextEngineRollStep, type EnginePartitionState, type EnginePod } from "../../src/policies/engine-roll.ts";

const pod = (name: string, revision: string, ready = true, terminating = false): EnginePod => ({
  name,
  revision,
  ready,
  terminating,
});
const partition = (p: number, pods: EnginePod[], primary?: string, updateRevision = "new"): EnginePartitionState => ({
  partition: p,
  updateRevision,
  replicas: 2,
  pods,
  primary,
});

describe("nextEngineRollStep", () => {
  it.each([
    [
      "does nothing when every pod runs the new revision",
      [partition(0, [pod("v-engine-0-0", "new"), pod("v-engine-0-1", "new")])],
      true,
      { action: "none" },
    ],
    [
      "holds outside the maintenance window",
      [partition(0, [pod("v-engine-0-0", "old"), pod("v-engine-0-1", "old")])],
      false,
      { action: "hold", reason: "OutsideMaintenanceWindow" },
    ],
    [
      "restarts the standby before the primary",
      [partition(0, [pod("v-engine-0-0", "old"), pod("v-engine-0-1", "old")], "v-engine-0-1")],
      true,
      { action: "delete-pod", pod: "v-engine-0-0" },
    ],
    [
      "takes the highest ordinal first when no primary is known",
      [partition(0, [pod("v-engine-0-0", "old"), pod("v-engine-0-1", "old")])],
      true,
      { action: "delete-pod", pod: "v-engine-0-1" },
    ],
    [
      "restarts the primary once its standby runs the new revision and is ready",
      [partition(0, [pod("v-engine-0-0", "new"), pod("v-engine-0-1", "old")], "v-engine-0-1")],
      true,
      { action: "delete-pod", pod: "v-engine-0-1" },
    ],
    [
      "waits while a restarted standby catches up",
      [partition(0, [pod("v-engine-0-0", "new", false), pod("v-engine-0-1", "old")], "v-engine-0-1")],
      true,
      { action: "wait", reason: "EnginePodNotReady" },
    ],
    [
      "rolls one partition at a time",
      [
        partition(0, [pod("v-engine-0-0", "new"), pod("v-engine-0-1", "new", false)]),
        partition(1, [pod("v-engine-1-0", "old"), pod("v-engine-1-1", "old")]),
      ],
      true,
      { action: "wait" },
    ],
    [
      "waits for a pod the StatefulSet has not recreated yet",
      [partition(0, [pod("v-engine-0-0", "old")])],
      true,
      { action: "wait" },
    ],
  ])("%s", (_name, partitions, inWindow, expected) => {
    expect(nextEngineRollStep(partitions, inWindow)).toMatchObject(expected);
  });
});
