import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAllocationProfile } from "../src/allocation-profile.ts";

describe("startAllocationProfile", () => {
  it("does nothing without a directory", async () => {
    expect(await startAllocationProfile("svc", undefined)).toBeUndefined();
    expect(await startAllocationProfile("svc", "")).toBeUndefined();
  });

  it("writes a sampling heap profile that counts collected objects too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tp-alloc-"));
    const stop = await startAllocationProfile("svc", dir);
    let kept = 0;
    for (let i = 0; i < 200_000; i++) kept += { n: i, s: `x${i}` }.s.length; // garbage at once
    await stop!();
    const [file] = readdirSync(dir);
    expect(file).toBe(`svc-${process.pid}.heapprofile`);
    const profile = JSON.parse(readFileSync(join(dir, file!), "utf8")) as { head: unknown; samples: unknown[] };
    expect(profile.head).toBeDefined();
    // Everything allocated above died at once: only a profile that keeps collected objects has samples of it.
    expect(profile.samples.length).toBeGreaterThan(10);
    expect(kept).toBeGreaterThan(0);
  });
});
