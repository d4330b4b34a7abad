import { describe, expect, it } from "vitest";
import { runInSteps } from "../src/steps.ts";

describe("runInSteps", () => {
  it("runs every step, lets other work run between steps, and returns the result", async () => {
    const trace: string[] = [];
    function* work(): Generator<void, number, void> {
      for (let i = 0; i < 3; i++) {
        trace.push(`step ${i}`);
        yield;
      }
      return 42;
    }
    const running = runInSteps(work());
    setImmediate(() => trace.push("other"));
    expect(await running).toBe(42);
    expect(trace[0]).toBe("step 0");
    expect(trace).toContain("other");
    expect(trace.indexOf("other")).toBeLessThan(trace.indexOf("step 2"));
  });

  it("passes on an error thrown by a step", async () => {
    function* failing(): Generator<void, never, void> {
      yield;
      throw new Error("broken step");
    }
    await expect(runInSteps(failing())).rejects.toThrow("broken step");
  });
});
