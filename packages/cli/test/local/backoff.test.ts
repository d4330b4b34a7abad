import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF, nextRestart } from "../../src/local/backoff.ts";
import { formatLogLine } from "../../src/local/log-lines.ts";

describe("restart backoff", () => {
  it("doubles on quick crashes up to the maximum", () => {
    let crashes = 0;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const next = nextRestart(DEFAULT_BACKOFF, crashes, 100);
      delays.push(next.delayMs);
      crashes = next.quickCrashes;
    }
    expect(delays).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  it("starts over after a run that stayed up", () => {
    expect(nextRestart(DEFAULT_BACKOFF, 6, 60_000)).toEqual({ delayMs: 250, quickCrashes: 0 });
  });
});

describe("service log lines on a terminal", () => {
  it.each([
    [
      '{"level":"info","time":"2026-11-22T02:37:18.367Z","service":"risk","venue":"demo","port":17401,"msg":"gRPC server listening"}',
      "02:37:18.367 INFO  gRPC server listening port=17401",
    ],
    [
      '{"level":50,"time":1700000000000,"msg":"boom","err":{"message":"x"}}',
      '22:13:20.000 ERROR boom err={"message":"x"}',
    ],
    ['{"ready":true}', '{"ready":true}'],
    ["plain text", "plain text"],
    ["{broken", "{broken"],
  ])("%s", (line, shown) => {
    expect(formatLogLine(line)).toBe(shown);
  });
});
