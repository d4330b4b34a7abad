import { describe, expect, it } from "vitest";
import { Health } from "../src/index.ts";

describe("Health", () => {
  it("is not ready with no checks, or until every check is ok", () => {
    const health = new Health();
    expect(health.report().ready).toBe(false);
    health.register("nats");
    health.register("engine");
    health.set("nats", "ok");
    expect(health.report().ready).toBe(false);
    health.set("engine", "ok");
    expect(health.report().ready).toBe(true);
  });

  it("tells listeners only when readiness flips", () => {
    const health = new Health();
    const seen: boolean[] = [];
    health.onChange((ready) => seen.push(ready));
    health.set("a", "ok");
    health.set("a", "ok", "still");
    health.set("a", "degraded", "lag");
    health.set("a", "ok");
    expect(seen).toEqual([true, false, true]);
  });
});
