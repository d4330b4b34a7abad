import { describe, expect, it } from "vitest";
import {
  FlowControl,
  InvalidFlowLimitsError,
  shouldRead,
  validFlowLimits,
  type FlowLimits,
} from "../../src/domain/flow-control.ts";

const L: FlowLimits = {
  sessionMaxInFlight: 4,
  sessionResumeInFlight: 2,
  gatewayMaxInFlight: 6,
  gatewayResumeInFlight: 3,
};

describe("shouldRead", () => {
  it.each([
    // paused, session, gateway, read
    [false, 0, 0, true],
    [false, 3, 3, true],
    [false, 4, 4, false], // session bound
    [false, 1, 6, false], // gateway bound
    [false, 3, 5, true],
    [true, 3, 3, false], // above the session's resume mark: stays paused
    [true, 2, 4, false], // above the gateway's resume mark
    [true, 2, 3, true],
    [true, 0, 0, true],
  ] as const)("paused=%s session=%i gateway=%i -> %s", (paused, session, gateway, read) => {
    expect(shouldRead(paused, session, gateway, L)).toBe(read);
  });
});

describe("validFlowLimits", () => {
  it.each([
    ["resume at the bound", { ...L, sessionResumeInFlight: 4 }],
    ["gateway resume above its bound", { ...L, gatewayResumeInFlight: 7 }],
    ["zero bound", { ...L, sessionMaxInFlight: 0, sessionResumeInFlight: 0 }],
    ["negative resume", { ...L, gatewayResumeInFlight: -1 }],
    ["fraction", { ...L, sessionMaxInFlight: 2.5 }],
  ])("refuses %s", (_name, limits) => {
    expect(() => validFlowLimits(limits)).toThrow(InvalidFlowLimitsError);
  });

  it("takes resume marks below their bounds", () => {
    expect(validFlowLimits(L)).toBe(L);
  });
});

/** Runs steps ("+a" started by a, "-a" finished by a) and returns the changes as "pause a" / "resume a". */
function run(f: FlowControl, steps: string[]): string[] {
  const out: string[] = [];
  for (const step of steps) {
    const s = step.slice(1);
    const c = step[0] === "+" ? f.started(s) : f.finished(s);
    for (const p of c.pause) out.push(`pause ${p}`);
    for (const r of c.resume) out.push(`resume ${r}`);
  }
  return out;
}

describe("FlowControl", () => {
  it.each([
    ["under the bounds nothing changes", ["+a", "+a", "-a", "+b"], []],
    ["a session pauses at its bound", ["+a", "+a", "+a", "+a"], ["pause a"]],
    [
      "and resumes at its resume mark, not one answer earlier",
      ["+a", "+a", "+a", "+a", "-a", "-a"],
      ["pause a", "resume a"],
    ],
    ["the gateway bound pauses every session", ["+a", "+a", "+a", "+b", "+b", "+b"], ["pause a", "pause b"]],
    [
      "at the gateway's resume mark, sessions low enough resume",
      ["+a", "+a", "+a", "+b", "+b", "+b", "-b", "-b", "-b"],
      ["pause a", "pause b", "resume b"],
    ],
    [
      "a session still above its own mark waits for its own answers",
      ["+a", "+a", "+a", "+b", "+b", "+b", "-b", "-b", "-b", "-a"],
      ["pause a", "pause b", "resume b", "resume a"],
    ],
    ["answers after a reset never go below zero", ["-a", "-a", "+a"], []],
  ])("%s", (_name, steps, changes) => {
    const f = new FlowControl(L);
    f.admit("a");
    f.admit("b");
    expect(run(f, steps)).toEqual(changes);
  });

  it("counts in flight per session and in total, and paused sessions", () => {
    const f = new FlowControl(L);
    run(f, ["+a", "+a", "+a", "+a", "+b"]);
    expect([f.sessionInFlight("a"), f.sessionInFlight("b"), f.gatewayInFlight, f.pausedSessions]).toEqual([4, 1, 5, 1]);
  });

  it("admits a reconnecting session paused while the gateway is at its bound", () => {
    const f = new FlowControl(L);
    run(f, ["+a", "+a", "+a", "+b", "+b", "+b"]);
    f.forget("b");
    expect(f.admit("b")).toEqual({ pause: ["b"], resume: [] });
    expect(f.admit("c")).toEqual({ pause: ["c"], resume: [] });
    expect(run(f, ["-b", "-b", "-b"])).toEqual(["resume b", "resume c"]);
  });
});
