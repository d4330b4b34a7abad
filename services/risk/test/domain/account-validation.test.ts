import { describe, expect, it } from "vitest";
import { StpMode, type RiskLimits } from "@tradeplane/contracts";
import {
  accountNameProblem,
  accountProblem,
  afterNameOf,
  DEFAULT_PAGE_SIZE,
  limitsProblem,
  overridesOf,
  pageOf,
  pageSizeOf,
  pageTokenOf,
  wireLimitsOf,
  type AccountFields,
} from "../../src/domain/account-validation.ts";

const known = (symbol: string) => symbol === "INFY" || symbol === "TCS";

function account(overrides: Partial<AccountFields> = {}): AccountFields {
  return { name: "desk-1", displayName: "Desk one", principals: ["alice"], defaultStpMode: 0, ...overrides };
}

function limits(overrides: Partial<RiskLimits> = {}): RiskLimits {
  return { restrictedInstruments: [], ...overrides };
}

describe("accountNameProblem", () => {
  it.each([
    ["accepts a letter", "a"],
    ["accepts a digit first", "7desk"],
    ["accepts dots, dashes and underscores inside", "desk_1.eq-cash"],
    ["accepts 64 characters", "a".repeat(64)],
  ])("%s", (_name, name) => {
    expect(accountNameProblem("account.name", name)).toBeUndefined();
  });

  it.each([
    ["refuses an empty name", "", "required"],
    ["refuses 65 characters", "a".repeat(65), "1..64"],
    ["refuses a leading dot", ".desk", "starting with a letter or digit"],
    ["refuses a leading dash", "-desk", "starting with a letter or digit"],
    ["refuses a space", "desk 1", "[A-Za-z0-9_.-]"],
    ["refuses a wildcard", "desk*", "[A-Za-z0-9_.-]"],
    ["refuses a non-ASCII letter", "dësk", "[A-Za-z0-9_.-]"],
    ["refuses a trailing dot (not a bucket key)", "desk.", "accounts bucket"],
    ["refuses two dots in a row (not a bucket key)", "desk..1", "accounts bucket"],
  ])("%s", (_name, name, reason) => {
    const problem = accountNameProblem("account.name", name);
    expect(problem?.field).toBe("account.name");
    expect(problem?.message).toContain(reason);
  });
});

describe("accountProblem", () => {
  it("accepts a plain account", () => {
    expect(accountProblem("account", account())).toBeUndefined();
  });

  it.each([
    ["names the name field", account({ name: "" }), "account.name"],
    ["refuses a long display name", account({ displayName: "x".repeat(257) }), "account.display_name"],
    [
      "refuses too many principals",
      account({ principals: Array.from({ length: 101 }, (_, i) => `p${i}`) }),
      "account.principals",
    ],
    ["refuses an empty principal", account({ principals: ["alice", ""] }), "account.principals[1]"],
    ["refuses a principal with a space", account({ principals: ["a b"] }), "account.principals[0]"],
    ["refuses a principal listed twice", account({ principals: ["alice", "alice"] }), "account.principals[1]"],
    ["refuses an unknown stp mode", account({ defaultStpMode: 42 }), "account.default_stp_mode"],
    ["refuses the UNRECOGNIZED marker as an stp mode", account({ defaultStpMode: -1 }), "account.default_stp_mode"],
    [
      "refuses STP_MODE_NONE as a default: self-trades are never allowed",
      account({ defaultStpMode: 1 }),
      "account.default_stp_mode",
    ],
  ])("%s", (_name, a, field) => {
    expect(accountProblem("account", a)?.field).toBe(field);
  });

  it("accepts every offered stp mode (all but NONE)", () => {
    for (const mode of Object.values(StpMode).filter((v) => v >= 0 && v !== StpMode.NONE))
      expect(accountProblem("account", account({ defaultStpMode: mode }))).toBeUndefined();
  });
});

describe("limitsProblem", () => {
  it.each([
    ["accepts no limits (everything inherits)", limits()],
    [
      "accepts 0 (blocks) in every field",
      limits({
        maxOrderQty: 0,
        maxOrderNotional: 0,
        priceCollarBps: 0,
        maxPosition: 0,
        creditLimit: 0,
        maxOrdersPerSecond: 0,
      }),
    ],
    ["accepts the largest safe integer", limits({ creditLimit: Number.MAX_SAFE_INTEGER })],
    ["accepts known restricted instruments", limits({ restrictedInstruments: ["INFY", "TCS"] })],
  ])("%s", (_name, l) => {
    expect(limitsProblem("limits", l, known)).toBeUndefined();
  });

  it.each([
    ["refuses a negative quantity", limits({ maxOrderQty: -1 }), "limits.max_order_qty", ">= 0"],
    ["refuses a negative notional", limits({ maxOrderNotional: -5 }), "limits.max_order_notional", ">= 0"],
    ["refuses a negative position", limits({ maxPosition: -1 }), "limits.max_position", ">= 0"],
    ["refuses a negative credit limit", limits({ creditLimit: -1 }), "limits.credit_limit", ">= 0"],
    ["refuses a fraction", limits({ maxOrdersPerSecond: 1.5 }), "limits.max_orders_per_second", "whole number"],
    ["refuses a collar over 1,000%", limits({ priceCollarBps: 100_001 }), "limits.price_collar_bps", "0..100000"],
    [
      "refuses an unknown instrument",
      limits({ restrictedInstruments: ["INFY", "NOPE"] }),
      "limits.restricted_instruments[1]",
      "unknown instrument",
    ],
    [
      "refuses an instrument listed twice",
      limits({ restrictedInstruments: ["TCS", "TCS"] }),
      "limits.restricted_instruments[1]",
      "twice",
    ],
  ])("%s", (_name, l, field, reason) => {
    const problem = limitsProblem("limits", l, known);
    expect(problem?.field).toBe(field);
    expect(problem?.message).toContain(reason);
  });
});

describe("limits between the wire and the store", () => {
  it("keeps 0 and leaves absent fields absent", () => {
    const stored = overridesOf(limits({ maxOrderQty: 0, creditLimit: 10, restrictedInstruments: ["INFY"] }));
    expect(stored).toEqual({ maxOrderQty: 0, creditLimit: 10, restrictedInstruments: ["INFY"] });
    expect(JSON.parse(JSON.stringify(stored))).toEqual(stored);
    expect(wireLimitsOf(stored)).toEqual(limits({ maxOrderQty: 0, creditLimit: 10, restrictedInstruments: ["INFY"] }));
  });

  it("drops stored values that are not whole numbers >= 0 (they inherit)", () => {
    expect(wireLimitsOf({ maxOrderQty: -3, maxPosition: 1.5, creditLimit: 7 })).toEqual(limits({ creditLimit: 7 }));
  });
});

describe("paging", () => {
  it.each([
    ["0 means the default", 0, DEFAULT_PAGE_SIZE],
    ["1 is the smallest", 1, 1],
    ["1000 is the largest", 1000, 1000],
  ])("page size: %s", (_name, size, want) => {
    expect(pageSizeOf(size)).toBe(want);
  });

  it("refuses a page size over 1000, naming the field", () => {
    expect(pageSizeOf(1001)).toMatchObject({ field: "page_size" });
  });

  it("round-trips a token and refuses one it did not make", () => {
    expect(afterNameOf(pageTokenOf("desk.7"))).toBe("desk.7");
    expect(afterNameOf("")).toBe("");
    for (const bad of [
      "garbage!",
      Buffer.from("v2:desk").toString("base64url"),
      Buffer.from("v1:..").toString("base64url"),
      "x".repeat(300),
    ])
      expect(afterNameOf(bad)).toMatchObject({ field: "page_token" });
  });

  it("walks sorted names page by page, each exactly once, with an empty token on the last page", () => {
    const names = ["a", "b", "c", "d", "e"];
    const seen: string[] = [];
    let after = "";
    let pages = 0;
    for (;;) {
      const page = pageOf(names, after, 2);
      seen.push(...page.names);
      pages++;
      if (page.nextPageToken === "") break;
      after = afterNameOf(page.nextPageToken) as string;
    }
    expect(seen).toEqual(names);
    expect(pages).toBe(3);
  });

  it("continues after a name that has since been deleted", () => {
    expect(pageOf(["a", "c", "d"], "b", 10)).toEqual({ names: ["c", "d"], nextPageToken: "" });
  });

  it("ends without a token when the last page is exactly full", () => {
    expect(pageOf(["a", "b"], "", 2)).toEqual({ names: ["a", "b"], nextPageToken: "" });
  });
});
