import { describe, expect, it } from "vitest";
import { mayReadOrder, mayReadRegister, scopedAccount, type CallerScope } from "../../src/domain/caller-scope.ts";

const admin: CallerScope = { kind: "admin", principal: "ops:admin" };
const alice: CallerScope = { kind: "account", principal: "alice", accounts: ["alice"] };
const desk: CallerScope = { kind: "account", principal: "desk", accounts: ["desk-1", "desk-2"] };
const none: CallerScope = { kind: "account", principal: "gone", accounts: [] };

describe("scopedAccount", () => {
  it.each([
    ["an admin, every account", admin, "", { ok: true, account: "" }],
    ["an admin, any one account", admin, "bob", { ok: true, account: "bob" }],
    ["an account caller naming none: its only account", alice, "", { ok: true, account: "alice" }],
    ["an account caller naming its own", alice, "alice", { ok: true, account: "alice" }],
    ["a caller of two accounts naming one", desk, "desk-2", { ok: true, account: "desk-2" }],
  ])("lets %s through", (_name, scope, requested, decision) => {
    expect(scopedAccount(scope, requested)).toEqual(decision);
  });

  it.each([
    ["an account caller naming another", alice, "bob", "may not read that account"],
    ["a caller of two accounts naming none", desk, "", "name one"],
    ["a token whose principal no enabled account lists", none, "", "may read no account"],
  ])("refuses %s", (_name, scope, requested, message) => {
    const decision = scopedAccount(scope, requested);
    expect(decision.ok).toBe(false);
    expect(decision.ok ? "" : decision.message).toContain(message);
  });
});

describe("orders and the register", () => {
  it.each([
    [admin, "bob", true],
    [alice, "alice", true],
    [alice, "bob", false],
  ])("%j reads an order of %s: %s", (scope, account, may) => {
    expect(mayReadOrder(scope, account)).toBe(may);
  });

  it("lets only admins read the register, which names every counterparty", () => {
    expect([admin, alice, desk].map(mayReadRegister)).toEqual([true, false, false]);
  });
});
