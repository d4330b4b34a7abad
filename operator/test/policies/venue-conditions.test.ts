import { describe, expect, it } from "vitest";
import {
  cpuPinningProblem,
  venueConditions,
  venueCpuPinning,
  workloadProblem,
  type WorkloadState,
} from "../../src/policies/venue-conditions.ts";
import { unsafeStreamChanges } from "../../src/policies/stream-changes.ts";
import { venueProvisioningPlan } from "@tradeplane/platform";

const ready = (name: string, replicas = 2): WorkloadState => ({
  name,
  generation: 2,
  observedGeneration: 2,
  replicas,
  readyReplicas: replicas,
  updatedReplicas: replicas,
});

describe("workloadProblem", () => {
  it.each([
    ["a missing workload is not created yet", undefined, "NotCreated"],
    ["a spec the controller has not seen is starting", { ...ready("d"), observedGeneration: 1 }, "RolloutStarting"],
    ["too few ready pods", { ...ready("d"), readyReplicas: 1 }, "PodsNotReady"],
    ["pods still on the old template", { ...ready("d"), updatedReplicas: 1 }, "RolloutInProgress"],
  ])("%s", (_name, state, reason) => {
    expect(workloadProblem("x", state)).toMatchObject({ reason });
  });

  it("finds nothing wrong with a fully rolled-out workload", () => {
    expect(workloadProblem("x", ready("d"))).toBeNull();
  });
});

describe("venueConditions", () => {
  const all = {
    streams: null,
    engines: [ready("e0")],
    engineUpdatesPending: 0,
    risk: ready("r"),
    marketData: ready("m"),
    cpu: undefined,
  };

  it("is Ready when streams, engines, risk and market data all are", () => {
    const ready = venueConditions(all).find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "True", reason: "VenueReady" });
  });

  it("names the first failing part in Ready", () => {
    const conditions = venueConditions({ ...all, risk: undefined });
    expect(conditions.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "NotCreated",
      message: expect.stringMatching(/^RiskReady: /),
    });
  });

  const fixCases = [
    ["absent without the FIX gateway, which then does not count for Ready", undefined, undefined, "True"],
    [
      "False while a session's token cannot be issued",
      { tokens: { reason: "SessionTokensFailed", message: "session tokens: down" }, workload: undefined },
      "SessionTokensFailed",
      "False",
    ],
    [
      "False while the gateway's pod is not ready",
      { tokens: null, workload: { ...ready("f", 1), readyReplicas: 0 } },
      "PodsNotReady",
      "False",
    ],
    ["True with its tokens and its pod ready", { tokens: null, workload: ready("f", 1) }, "Available", "True"],
  ] as const;
  it.each(fixCases)("has FixGatewayReady %s", (_name, fixGateway, reason, venueReady) => {
    const conditions = venueConditions({ ...all, ...(fixGateway !== undefined ? { fixGateway } : {}) });
    expect(conditions.find((c) => c.type === "FixGatewayReady")?.reason).toBe(reason);
    expect(conditions.find((c) => c.type === "Ready")?.status).toBe(venueReady);
  });

  it.each([
    ["absent without the journal", undefined, undefined],
    [
      "False while its pod is not ready",
      { problem: null, workload: { ...ready("j", 1), readyReplicas: 0 } },
      "PodsNotReady",
    ],
    [
      "False when it cannot be deployed",
      { problem: { reason: "EmbeddedDatabaseNotSupported", message: "m" }, workload: undefined },
      "EmbeddedDatabaseNotSupported",
    ],
    ["True once its pod is ready", { problem: null, workload: ready("j", 1) }, "Available"],
  ] as const)("has JournalReady %s, and Ready does not wait for it", (_name, journal, reason) => {
    const conditions = venueConditions({ ...all, ...(journal !== undefined ? { journal } : {}) });
    expect(conditions.find((c) => c.type === "JournalReady")?.reason).toBe(reason);
    expect(conditions.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("reports CpuPinned Unknown until an engine reports its CPUs", () => {
    expect(venueConditions(all).find((c) => c.type === "CpuPinned")).toMatchObject({
      status: "Unknown",
      reason: "NotReported",
    });
  });
});

describe("cpuPinningProblem", () => {
  it.each([
    ["exactly the requested CPUs", 2, "4-5", null],
    ["a list of single CPUs", 2, "3,7", null],
    ["a shared pool", 2, "0-15", "NotPinned"],
  ])("%s", (_name, requested, set, reason) => {
    const problem = cpuPinningProblem(requested, set);
    expect(problem === null ? null : problem.reason).toBe(reason);
  });
});

describe("unsafeStreamChanges", () => {
  const plan = venueProvisioningPlan({ venue: "v", storage: "file", eventMaxAgeSeconds: 3600 });
  const existing = [
    { name: "V_CMD", storage: "file" as const, maxAgeSeconds: 0, maxBytes: 0, lastSequence: 0 },
    { name: "V_EVT", storage: "file" as const, maxAgeSeconds: 7200, maxBytes: 0, lastSequence: 0 },
  ];
  it("refuses shorter retention of an existing stream", () => {
    expect(unsafeStreamChanges(existing, plan.streams)).toMatchObject({
      reason: "UnsafeStreamChange",
      message: expect.stringContaining("max age 7200 -> 3600"),
    });
  });
  it("refuses a change of storage type", () => {
    const memory = venueProvisioningPlan({ venue: "v", storage: "memory", eventMaxAgeSeconds: 7200 });
    expect(unsafeStreamChanges(existing, memory.streams)?.message).toContain("storage file -> memory");
  });
  it("allows longer retention and streams that do not exist yet", () => {
    expect(
      unsafeStreamChanges(existing, venueProvisioningPlan({ venue: "v", eventMaxAgeSeconds: 9000 }).streams),
    ).toBeNull();
    expect(unsafeStreamChanges([], plan.streams)).toBeNull();
  });
});

describe("venueCpuPinning", () => {
  it.each([
    ["every partition pinned", ["2-3", "6,7"], null],
    ["one partition on shared CPUs names it", ["2-3", "0-15"], "NotPinned"],
    ["a partition that has not reported leaves it Unknown", ["2-3", undefined], undefined],
  ])("%s", (_name, reports, expected) => {
    const result = venueCpuPinning(2, reports);
    expect(result === null || result === undefined ? result : result.reason).toBe(expected);
  });
});
