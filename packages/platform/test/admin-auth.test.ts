import { Writable } from "node:stream";
import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import {
  ADMIN_ROLES,
  AdminAuthority,
  AuthError,
  createLogger,
  roleGrants,
  type AdminPermission,
} from "../src/index.ts";

const OPERATOR = "operator-token-0123456789";
const RISK = "risk-officer-token-0123456789";
const READER = "read-only-token-0123456789";
const BOTH = "operator-and-risk-0123456789";

const authority = new AdminAuthority({
  venueOperator: [OPERATOR, BOTH],
  riskOfficer: [RISK, BOTH],
  readOnly: [READER],
});

function bearer(token: string | undefined, principal?: string): Metadata {
  const m = new Metadata();
  if (token !== undefined) m.set("authorization", `Bearer ${token}`);
  if (principal !== undefined) m.set("x-tradeplane-principal", principal);
  return m;
}

function outcome(token: string | undefined, permission: AdminPermission): string {
  try {
    return authority.authorise(bearer(token), permission);
  } catch (err) {
    return (err as AuthError).code;
  }
}

describe("admin roles", () => {
  it.each([
    ["read-only", "read", true],
    ["read-only", "risk.write", false],
    ["read-only", "venue.operate", false],
    ["read-only", "accounts.write", false],
    ["risk-officer", "read", true],
    ["risk-officer", "risk.write", true],
    ["risk-officer", "venue.operate", false],
    ["risk-officer", "accounts.write", false],
    ["venue-operator", "read", true],
    ["venue-operator", "venue.operate", true],
    ["venue-operator", "accounts.write", true],
    ["venue-operator", "risk.write", false],
  ] as const)("a %s may %s: %s", (role, permission, granted) => {
    expect(roleGrants(role, permission)).toBe(granted);
  });

  it("gives every permission to some role", () => {
    for (const p of ["read", "risk.write", "venue.operate", "accounts.write"] as const)
      expect(ADMIN_ROLES.some((r) => roleGrants(r, p))).toBe(true);
  });

  it.each([
    ["no token", undefined, "read", "UNAUTHENTICATED"],
    ["an unknown token", "someone-elses-token-0123", "read", "UNAUTHENTICATED"],
    ["a prefix of an admin token", OPERATOR.slice(0, -1), "read", "UNAUTHENTICATED"],
    ["a read-only token on a write", READER, "venue.operate", "PERMISSION_DENIED"],
    ["a risk officer's token on a halt", RISK, "venue.operate", "PERMISSION_DENIED"],
    ["an operator's token on a kill switch", OPERATOR, "risk.write", "PERMISSION_DENIED"],
    ["a token listed under two roles, on either's call", BOTH, "risk.write", "ops:admin"],
    ["a token listed under two roles, on the other's", BOTH, "venue.operate", "ops:admin"],
    ["a read-only token on a read", READER, "read", "ops:admin"],
  ] as const)("answers %s with %s", (_what, token, permission, expected) => {
    expect(outcome(token, permission)).toBe(expected);
  });

  it("refuses everything when no admin token is configured", () => {
    const none = new AdminAuthority(undefined);
    expect(none.enabled).toBe(false);
    expect(() => none.authorise(bearer(OPERATOR), "read")).toThrow(/disabled/);
  });

  it("names the holder of a named token in the audit trail, whatever the caller says", () => {
    const named = new AdminAuthority({
      riskOfficer: ["carol risk-officer-carol-0123456789", "dave@desk risk-officer-dave-0123456789"],
    });
    expect(named.authorise(bearer("risk-officer-carol-0123456789", "mallory"), "risk.write")).toBe("ops:carol");
    expect(named.authorise(bearer("risk-officer-dave-0123456789"), "read")).toBe("ops:dave@desk");
    // The whole line is not a token: only the token after the name is.
    expect(() => named.authorise(bearer("carol risk-officer-carol-0123456789"), "read")).toThrow(AuthError);
  });

  it("logs a refused call with the call and the reason, never the token", () => {
    let text = "";
    const destination = new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    });
    const logged = new AdminAuthority({ readOnly: [READER] }, createLogger({ service: "test", destination }));
    expect(() => logged.authorise(bearer(READER), "venue.operate", "VenueAdmin.halt")).toThrow(AuthError);
    expect(() => logged.authorise(bearer("guessed-token-0123456789"), "read", "VenueAdmin.getBook")).toThrow(AuthError);
    logged.authorise(bearer(READER), "read", "VenueAdmin.getStatus");
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.call, l.code])).toEqual([
      ["VenueAdmin.halt", "PERMISSION_DENIED"],
      ["VenueAdmin.getBook", "UNAUTHENTICATED"],
    ]);
    expect(text).not.toContain(READER);
    expect(text).not.toContain("guessed-token");
  });

  it("names the caller for the audit trail, bounded", () => {
    expect(authority.authorise(bearer(OPERATOR, "alice"), "venue.operate")).toBe("ops:alice");
    expect(authority.authorise(bearer(OPERATOR, "a".repeat(1_000)), "read")).toHaveLength(4 + 64);
  });
});
