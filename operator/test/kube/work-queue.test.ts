import { describe, expect, it } from "vitest";
import { backoffDelay, WorkQueue } from "../../src/kube/work-queue.ts";

describe("backoffDelay", () => {
  it.each([
    [1, 500],
    [2, 1_000],
    [5, 8_000],
    [20, 300_000],
  ])("retry %i waits %i ms (doubling, capped at five minutes)", (retries, ms) => {
    expect(backoffDelay(retries, 500, 300_000)).toBe(ms);
  });
});

describe("WorkQueue", () => {
  it("never runs one key on two workers at once, and reruns a key added while it ran", async () => {
    const queue = new WorkQueue({ workers: 4 });
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    queue.start(async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      if (runs === 1) await gate;
      running--;
      return "done";
    });
    queue.add("ns/a");
    await new Promise((r) => setImmediate(r));
    queue.add("ns/a");
    queue.add("ns/a");
    release();
    await new Promise((r) => setTimeout(r, 20));
    await queue.shutdown();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it("retries a failing key with growing delays and forgets them after a success", async () => {
    const retries: number[] = [];
    const queue = new WorkQueue({ workers: 1, baseDelayMs: 1, maxDelayMs: 4 });
    let calls = 0;
    const done = new Promise<void>((resolve) =>
      queue.start(
        async () => {
          calls++;
          if (calls < 4) throw new Error("conflict");
          resolve();
          return "done";
        },
        (_key, n, delay) => retries.push(n, delay),
      ),
    );
    queue.add("k");
    await done;
    await new Promise((r) => setImmediate(r));
    expect(retries).toEqual([1, 1, 2, 2, 3, 4]);
    expect(queue.retries("k")).toBe(0);
    await queue.shutdown();
  });
});
