import { describe, expect, it } from "vitest";
import {
  fixSessionTokenLabel,
  reconcileFixSessionTokens,
  storedFixSessionTokens,
  type SessionTokenIssuer,
} from "../../src/controllers/fix-session-tokens.ts";
import type { VenueRef } from "../../src/controllers/strategy-accounts.ts";
import { fixSessionTokenSecret, type FixSessionToken } from "../../src/desired/secrets.ts";
import type { KubeObject } from "../../src/kube/kube-object.ts";
import { modelOf, FIX_BEHIND_LOAD_BALANCER } from "../desired/venue-fixtures.ts";

/** The token RPCs in memory, as the gateway keeps them: id, account, label; `down` fails every call. */
class InMemoryIssuer implements SessionTokenIssuer {
  readonly live = new Map<string, { account: string; description: string }>();
  down = false;
  private next = 1;

  issueToken(_at: VenueRef, account: string, label: string) {
    if (this.down) return Promise.reject(new Error("14 UNAVAILABLE: connection refused"));
    const id = (this.next++).toString(16).padStart(16, "0");
    this.live.set(id, { account, description: label });
    return Promise.resolve({ id, token: `secret-${id}` });
  }
  tokens(_at: VenueRef, account: string) {
    if (this.down) return Promise.reject(new Error("14 UNAVAILABLE: connection refused"));
    return Promise.resolve(
      [...this.live].filter(([, t]) => t.account === account).map(([id, t]) => ({ id, description: t.description })),
    );
  }
  revokeToken(_at: VenueRef, _account: string, id: string) {
    if (this.down) return Promise.reject(new Error("14 UNAVAILABLE: connection refused"));
    this.live.delete(id);
    return Promise.resolve();
  }
}

const AT: VenueRef = { namespace: "markets", venue: "nse" };
const fixOf = (enabled: boolean, sessions: [string, string][]) => ({
  enabled,
  senderCompId: "NSEX",
  sessions: sessions.map(([id, account]) => ({
    id,
    targetCompId: id.toUpperCase(),
    account,
    cancelOnDisconnect: false,
    maxMessagesPerSecond: 0,
  })),
  service: { type: "ClusterIP" as const },
});
const noted: string[] = [];
const events = {
  issued: (id: string, tokenId: string) => Promise.resolve(void noted.push(`issued ${id} ${tokenId}`)),
  revoked: (id: string, tokenId: string, why: string) =>
    Promise.resolve(void noted.push(`revoked ${id} ${tokenId}: ${why}`)),
};

describe("reconcileFixSessionTokens", () => {
  it("issues one token per session, labelled with the session, and then nothing more", async () => {
    const issuer = new InMemoryIssuer();
    const fix = fixOf(true, [
      ["b1", "alice"],
      ["b2", "alice"],
    ]);
    const first = await reconcileFixSessionTokens(issuer, events, AT, fix, new Map());
    expect(first).toMatchObject({ allIssued: true, problem: null });
    expect([...first.tokens.keys()]).toEqual(["b1", "b2"]);
    expect([...issuer.live.values()].map((t) => t.description)).toEqual([
      fixSessionTokenLabel(AT, "b1"),
      fixSessionTokenLabel(AT, "b2"),
    ]);
    const again = await reconcileFixSessionTokens(issuer, events, AT, fix, first.tokens);
    expect(again.tokens).toEqual(first.tokens);
    expect(issuer.live.size).toBe(2);
  });

  it.each([
    ["a session removed from the spec", fixOf(true, [["b1", "alice"]]), ["b1"], ["0000000000000001"]],
    [
      "a session moved to another account",
      fixOf(true, [
        ["b1", "alice"],
        ["b2", "bob"],
      ]),
      ["b1", "b2"],
      ["0000000000000001", "0000000000000003"],
    ],
    ["FIX disabled", fixOf(false, [["b1", "alice"]]), [], []],
  ] as const)("revokes the token of %s", async (_name, fix, sessions, live) => {
    const issuer = new InMemoryIssuer();
    const before = await reconcileFixSessionTokens(
      issuer,
      events,
      AT,
      fixOf(true, [
        ["b1", "alice"],
        ["b2", "alice"],
      ]),
      new Map(),
    );
    const after = await reconcileFixSessionTokens(issuer, events, AT, fix, before.tokens);
    expect([...after.tokens.keys()]).toEqual(sessions);
    expect([...issuer.live.keys()]).toEqual(live);
    expect(after.allIssued).toBe(fix.enabled);
  });

  it("revokes a token whose Secret was lost before issuing its replacement", async () => {
    const issuer = new InMemoryIssuer();
    const fix = fixOf(true, [["b1", "alice"]]);
    await reconcileFixSessionTokens(issuer, events, AT, fix, new Map());
    const again = await reconcileFixSessionTokens(issuer, events, AT, fix, new Map());
    expect([...issuer.live.keys()]).toEqual(["0000000000000002"]);
    expect(again.tokens.get("b1")?.tokenId).toBe("0000000000000002");
    expect(noted).toContain("revoked b1 0000000000000001: its Secret was lost");
  });

  it("keeps what it holds and says why while the risk gateway cannot be reached", async () => {
    const issuer = new InMemoryIssuer();
    const held = await reconcileFixSessionTokens(issuer, events, AT, fixOf(true, [["b1", "alice"]]), new Map());
    issuer.down = true;
    const state = await reconcileFixSessionTokens(
      issuer,
      events,
      AT,
      fixOf(true, [
        ["b1", "alice"],
        ["b2", "bob"],
      ]),
      held.tokens,
    );
    expect(state.allIssued).toBe(false);
    expect(state.problem).toEqual({
      reason: "SessionTokensFailed",
      message: "session tokens: 14 UNAVAILABLE: connection refused",
    });
    expect([...state.tokens.keys()]).toEqual(["b1"]);
  });
});

describe("storedFixSessionTokens", () => {
  it("reads back what the Secret builder wrote", () => {
    const tokens = new Map<string, FixSessionToken>([
      ["b1", { tokenId: "00000000000000a1", account: "alice", token: "t-1" }],
      ["b2", { tokenId: "00000000000000b2", account: "bob", token: "t-2" }],
    ]);
    const secret = fixSessionTokenSecret(modelOf(FIX_BEHIND_LOAD_BALANCER), tokens) as unknown as KubeObject;
    expect(storedFixSessionTokens(secret)).toEqual(tokens);
  });

  it("finds nothing in a Secret whose annotation was mangled (its tokens are then found by label)", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "x", annotations: { "tradeplane.io/fix-session-tokens": "{not json" } },
      data: { b1: "dA==" },
    } as KubeObject;
    expect(storedFixSessionTokens(secret).size).toBe(0);
  });
});
