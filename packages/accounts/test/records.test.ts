import { describe, expect, it } from "vitest";
import {
  isTokenId,
  newTokenSecret,
  parseAccount,
  parseKillSwitch,
  parseToken,
  storedLimitsOf,
  tokenHash,
  tokenIdOf,
} from "../src/index.ts";

describe("accounts bucket records", () => {
  it("reads an account written by hand, keeping only what it understands", () => {
    const record = parseAccount(
      "desk",
      JSON.stringify({
        principals: ["desk", 7],
        disabled: "yes",
        limits: { maxOrderQty: 10, maxPosition: -1, creditLimit: 1.5, restrictedInstruments: ["X"] },
        createTimeMs: 1_700_000_000_000,
        updateTimeMs: "yesterday",
      }),
    );
    expect(record).toEqual({
      name: "desk",
      disabled: false,
      principals: ["desk", "7"],
      limits: { maxOrderQty: 10, restrictedInstruments: ["X"] },
      defaultStpMode: 0,
      displayName: undefined,
      createTimeMs: 1_700_000_000_000,
      updateTimeMs: undefined,
    });
  });

  it.each([
    ["absent limits", undefined, {}],
    ["a limit of 0, which blocks", { maxOrderQty: 0 }, { maxOrderQty: 0 }],
    ["negative and fractional limits, which inherit", { maxOrderQty: -5, creditLimit: 0.5 }, {}],
    ["an empty restricted list", { restrictedInstruments: [] }, {}],
  ])("reads %s", (_what, raw, expected) => {
    expect(storedLimitsOf(raw)).toEqual(expected);
  });

  it("reads token records of every age: with only a principal, with issue details, or without a principal", () => {
    expect(parseToken(JSON.stringify({ principal: "alice" }))).toMatchObject({
      principal: "alice",
      account: undefined,
    });
    expect(
      parseToken(JSON.stringify({ principal: "alice", account: "a1", issuedBy: "ops:x", createTimeMs: 5 })),
    ).toEqual({ principal: "alice", account: "a1", description: undefined, issuedBy: "ops:x", createTimeMs: 5 });
    expect(parseToken(JSON.stringify({ account: "a1" }))).toBeUndefined();
  });

  it("reads a kill switch with defaults for what is missing", () => {
    expect(parseKillSwitch(JSON.stringify({ reason: "drill" }))).toEqual({
      reason: "drill",
      changedBy: "",
      changeTimeMs: 0,
    });
    expect(parseKillSwitch(JSON.stringify({ reason: "drill", keepOpenOrders: true })).keepOpenOrders).toBe(true);
    expect(parseKillSwitch(JSON.stringify({ reason: "drill", keepOpenOrders: "yes" }))).not.toHaveProperty(
      "keepOpenOrders",
    );
  });

  it("makes new secrets of 32 URL-safe characters, ids of 16 hex digits from their hash", () => {
    const a = newTokenSecret();
    const b = newTokenSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a).not.toBe(b);
    const id = tokenIdOf(tokenHash(a));
    expect(isTokenId(id)).toBe(true);
    expect(tokenHash(a).startsWith(id)).toBe(true);
    expect(isTokenId(a)).toBe(false);
  });
});
