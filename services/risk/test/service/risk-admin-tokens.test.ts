import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status, type Metadata, type ServiceError } from "@grpc/grpc-js";
import {
  ExecType,
  KillSwitchScope,
  RiskAdminService,
  type Account,
  type IssueTokenResponse,
  type ListTokensResponse,
  type RevokeTokenResponse,
  type RiskAdminClient,
} from "@tradeplane/contracts";
import { listTokens, putToken, tokenHash } from "@tradeplane/accounts";
import { retry, unary } from "@tradeplane/testkit";
import { RISK_ADMIN_PERMISSIONS } from "../../src/adapters/risk-admin-grpc.ts";
import { auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

const OPERATOR = "venue-operator-token-0123456789";
const RISK = "risk-officer-token-0123456789";
const READER = "read-only-token-0123456789";
const TOKENS = { "venue-operator": OPERATOR, "risk-officer": RISK, "read-only": READER } as const;

function account(overrides: Partial<Account>): Account {
  return {
    name: "",
    displayName: "",
    disabled: false,
    principals: [],
    defaultStpMode: 0,
    limits: undefined,
    revision: 0,
    createTime: undefined,
    updateTime: undefined,
    ...overrides,
  };
}

type Call = (c: RiskAdminClient, m: Metadata, cb: (err: ServiceError | null) => void) => unknown;

/** One call of each method, with a valid request, so a refusal can only come from the credential. */
const CALLS: Record<keyof typeof RISK_ADMIN_PERMISSIONS, Call> = {
  getAccount: (c, m, cb) => c.getAccount({ name: "maker" }, m, cb),
  listAccounts: (c, m, cb) => c.listAccounts({ pageSize: 0, pageToken: "" }, m, cb),
  getLimits: (c, m, cb) => c.getLimits({ account: "maker" }, m, cb),
  getPositions: (c, m, cb) => c.getPositions({ account: "", instrument: "" }, m, cb),
  listKillSwitches: (c, m, cb) => c.listKillSwitches({}, m, cb),
  listTokens: (c, m, cb) => c.listTokens({ account: "maker" }, m, cb),
  createAccount: (c, m, cb) =>
    c.createAccount({ account: account({ name: `new-${Math.random()}`.slice(0, 20) }) }, m, cb),
  updateAccount: (c, m, cb) =>
    c.updateAccount({ account: account({ name: "maker", principals: ["maker"] }), expectedRevision: 0 }, m, cb),
  deleteAccount: (c, m, cb) => c.deleteAccount({ name: "no-such-account", expectedRevision: 0 }, m, cb),
  issueToken: (c, m, cb) => c.issueToken({ account: "maker", principal: "", description: "role test" }, m, cb),
  revokeToken: (c, m, cb) => c.revokeToken({ tokenId: "0000000000000000", reason: "" }, m, cb),
  setLimits: (c, m, cb) => c.setLimits({ account: "maker", limits: undefined, expectedRevision: 0 }, m, cb),
  engageKillSwitch: (c, m, cb) =>
    c.engageKillSwitch(
      { scope: KillSwitchScope.ACCOUNT, account: "maker", reason: "drill", keepOpenOrders: true },
      m,
      cb,
    ),
  releaseKillSwitch: (c, m, cb) =>
    c.releaseKillSwitch({ scope: KillSwitchScope.ACCOUNT, account: "maker", reason: "drill over" }, m, cb),
};

/** Methods a role may call; the rest must be PERMISSION_DENIED. */
const READS = ["getAccount", "listAccounts", "getLimits", "getPositions", "listKillSwitches", "listTokens"];
const ALLOWED: Record<keyof typeof TOKENS, readonly string[]> = {
  "read-only": READS,
  "risk-officer": [...READS, "setLimits", "engageKillSwitch", "releaseKillSwitch"],
  "venue-operator": [...READS, "createAccount", "updateAccount", "deleteAccount", "issueToken", "revokeToken"],
};

describe("RiskAdmin admin roles and API tokens", () => {
  let venue: Venue;

  beforeAll(async () => {
    venue = await startVenue({
      venue: "tok",
      accounts: [{ name: "maker" }, { name: "desk", principals: ["desk", "desk-algo"] }],
      adminTokens: { venueOperator: [OPERATOR], riskOfficer: [RISK], readOnly: [READER] },
    });
  });

  afterAll(async () => {
    await venue?.close();
  });

  const call = (method: keyof typeof CALLS, metadata: Metadata): Promise<number> =>
    new Promise((resolve) => CALLS[method](venue.admin, metadata, (err) => resolve(err?.code ?? status.OK)));

  const issue = (account: string, principal = "", token = OPERATOR) =>
    unary<IssueTokenResponse>((cb) =>
      venue.admin.issueToken({ account, principal, description: "for a test" }, auth(token), cb),
    );
  const list = (account: string, token = READER) =>
    unary<ListTokensResponse>((cb) => venue.admin.listTokens({ account }, auth(token), cb));
  const revoke = (tokenId: string, token = OPERATOR) =>
    unary<RevokeTokenResponse>((cb) => venue.admin.revokeToken({ tokenId, reason: "left the firm" }, auth(token), cb));

  it("names a permission for every RiskAdmin method", () => {
    expect(Object.keys(RISK_ADMIN_PERMISSIONS).sort()).toEqual(Object.keys(RiskAdminService).sort());
  });

  const methods = Object.keys(CALLS) as (keyof typeof CALLS)[];
  it.each(methods)("refuses %s without a token, and with a trading token", async (method) => {
    const none = auth("");
    none.remove("authorization");
    expect(await call(method, none)).toBe(status.UNAUTHENTICATED);
    expect(await call(method, auth(tokenOf("maker")))).toBe(status.UNAUTHENTICATED);
  });

  it.each(Object.keys(TOKENS) as (keyof typeof TOKENS)[])(
    "lets a %s token make exactly the calls of its role",
    async (role) => {
      for (const method of methods) {
        const code = await call(method, auth(TOKENS[role]));
        if (ALLOWED[role].includes(method)) expect([method, code]).not.toEqual([method, status.PERMISSION_DENIED]);
        else expect([method, code]).toEqual([method, status.PERMISSION_DENIED]);
      }
    },
  );

  it("issues a token whose secret is shown once and stored only as its hash, and that trades at once", async () => {
    const issued = await issue("desk", "desk-algo");
    expect(issued.secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(issued.token).toMatchObject({
      principal: "desk-algo",
      account: "desk",
      description: "for a test",
      issuedBy: "ops:admin",
      tokenId: tokenHash(issued.secret).slice(0, 16),
    });
    const stored = await listTokens(venue.kv);
    expect(JSON.stringify(stored)).not.toContain(issued.secret);
    const listed = await list("desk");
    expect(listed.tokens.map((t) => t.tokenId)).toContain(issued.token!.tokenId);
    expect(JSON.stringify(listed)).not.toContain(issued.secret);
    // This replica waited for its watch before answering: the token works on the next call.
    const placed = await venue.submit(issued.secret, order({ account: "desk", clientOrderId: "issued-1" }));
    expect(placed.reports[0]!.execType).toBe(ExecType.NEW);
  });

  it("defaults the principal to the account's name, which the account must list", async () => {
    const issued = await issue("maker");
    expect(issued.token!.principal).toBe("maker");
    await expect(issue("desk", "someone-else")).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    await expect(issue("nobody")).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(issue("desk", "has space")).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it("lists the tokens of the account's principals only, tokens written by other tools included", async () => {
    await putToken(venue.kv, "legacy-desk-token-0123456789", "desk");
    const tokens = (await list("desk")).tokens;
    expect(tokens.every((t) => t.principal === "desk" || t.principal === "desk-algo")).toBe(true);
    expect(tokens.map((t) => t.tokenId)).toContain(tokenHash("legacy-desk-token-0123456789").slice(0, 16));
    const principals = tokens.map((t) => t.principal);
    expect(principals).toEqual([...principals].sort());
    expect((await list("maker")).tokens.every((t) => t.principal === "maker")).toBe(true);
  });

  it("revokes a token by id: the next call with it is refused, and a second revoke is NOT_FOUND", async () => {
    const issued = await issue("maker");
    await venue.submit(issued.secret, order({ clientOrderId: "before-revoke" }));
    const revoked = await revoke(issued.token!.tokenId);
    expect(revoked.token!.tokenId).toBe(issued.token!.tokenId);
    await expect(venue.submit(issued.secret, order({ clientOrderId: "after-revoke" }))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
    expect((await list("maker")).tokens.map((t) => t.tokenId)).not.toContain(issued.token!.tokenId);
    await expect(revoke(issued.token!.tokenId)).rejects.toMatchObject({ code: status.NOT_FOUND });
    // The fixture's own token of the account still trades.
    await retry(() => venue.submit(tokenOf("maker"), order({ clientOrderId: "other-token" })), 5_000, 50);
  });

  it("ends the Session and report streams opened with a token when it is revoked", async () => {
    const issued = await issue("maker");
    const reports = venue.orderEntry.streamExecutionReports({ account: "maker" }, auth(issued.secret));
    const session = venue.orderEntry.session(auth(issued.secret));
    const ended = (stream: NodeJS.EventEmitter) =>
      new Promise<number>((resolve) => {
        stream.on("data", () => undefined);
        stream.on("error", (err: ServiceError) => resolve(err.code));
      });
    const reportsEnded = ended(reports);
    const sessionEnded = ended(session);
    const opened = new Promise<void>((resolve) => session.once("data", () => resolve()));
    session.write({
      sequence: 1,
      message: {
        $case: "open",
        value: { account: "maker", cancelOnDisconnect: false, heartbeatIntervalMs: 60_000, acksOnly: false },
      },
    });
    await opened;
    await revoke(issued.token!.tokenId);
    expect(await sessionEnded).toBe(status.UNAUTHENTICATED);
    expect(await reportsEnded).toBe(status.UNAUTHENTICATED);
  });

  it.each([
    ["an id that is not 16 hex digits", "abc"],
    ["an id in capitals", "ABCDEF0123456789"],
    ["a token's secret instead of its id", "maker-token-0123456789"],
  ])("refuses to revoke %s", async (_what, tokenId) => {
    await expect(revoke(tokenId)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
