import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import {
  KillSwitchScope,
  Side,
  StpMode,
  type Account,
  type CreateAccountResponse,
  type RiskAdminClient,
  type RiskLimits,
} from "@tradeplane/contracts";
import { MAX_STATUS_MESSAGE_CHARS } from "@tradeplane/platform";
import { unary } from "@tradeplane/testkit";
import { ADMIN_TOKEN, auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

/**
 * RiskAdmin's contract, RPC by RPC: the status codes risk_admin.proto promises (NOT_FOUND,
 * ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION, INVALID_ARGUMENT, and refusal without the
 * admin credential), each as a row of a table.
 */
const account = (o: Partial<Account>): Account => ({
  name: "",
  displayName: "",
  disabled: false,
  principals: [],
  defaultStpMode: 0,
  limits: undefined,
  revision: 0,
  createTime: undefined,
  updateTime: undefined,
  ...o,
});
const limits = (o: Partial<RiskLimits> = {}): RiskLimits => ({ restrictedInstruments: [], ...o });
const LONG = "L".repeat(1_025);

describe("RiskAdmin: every RPC's documented errors", () => {
  let venue: Venue;
  let admin: RiskAdminClient;
  let existing: Account;

  beforeAll(async () => {
    venue = await startVenue({ venue: "rac", accounts: [{ name: "busy" }] });
    admin = venue.admin;
    existing = (
      await unary<CreateAccountResponse>((cb) =>
        admin.createAccount({ account: account({ name: "known", principals: ["known"] }) }, auth(ADMIN_TOKEN), cb),
      )
    ).account!;
    await venue.submit(tokenOf("busy"), order({ clientOrderId: "busy-1", side: Side.SELL, price: 109_000 }));
  });

  afterAll(async () => {
    await venue?.close();
  });

  type Call = (md: Metadata) => Promise<unknown>;
  const calls: [rpc: string, call: Call][] = [
    ["CreateAccount", (md) => unary((cb) => admin.createAccount({ account: account({ name: "newbie" }) }, md, cb))],
    ["GetAccount", (md) => unary((cb) => admin.getAccount({ name: "known" }, md, cb))],
    ["ListAccounts", (md) => unary((cb) => admin.listAccounts({ pageSize: 0, pageToken: "" }, md, cb))],
    [
      "UpdateAccount",
      (md) => unary((cb) => admin.updateAccount({ account: account({ name: "known" }), expectedRevision: 0 }, md, cb)),
    ],
    ["DeleteAccount", (md) => unary((cb) => admin.deleteAccount({ name: "known", expectedRevision: 0 }, md, cb))],
    ["GetLimits", (md) => unary((cb) => admin.getLimits({ account: "known" }, md, cb))],
    [
      "SetLimits",
      (md) => unary((cb) => admin.setLimits({ account: "known", limits: limits(), expectedRevision: 0 }, md, cb)),
    ],
    ["GetPositions", (md) => unary((cb) => admin.getPositions({ account: "", instrument: "" }, md, cb))],
    [
      "EngageKillSwitch",
      (md) =>
        unary((cb) =>
          admin.engageKillSwitch(
            { scope: KillSwitchScope.VENUE, account: "", reason: "x", keepOpenOrders: true },
            md,
            cb,
          ),
        ),
    ],
    [
      "ReleaseKillSwitch",
      (md) =>
        unary((cb) => admin.releaseKillSwitch({ scope: KillSwitchScope.VENUE, account: "", reason: "x" }, md, cb)),
    ],
    ["ListKillSwitches", (md) => unary((cb) => admin.listKillSwitches({}, md, cb))],
  ];

  const failure = (call: Promise<unknown>): Promise<ServiceError> =>
    call.then(
      () => Promise.reject(new Error("the call succeeded")),
      (err: ServiceError) => err,
    );

  it.each(calls)(
    "%s refuses a caller without the admin credential, and one with a trading token",
    async (_rpc, call) => {
      for (const md of [new Metadata(), auth(tokenOf("busy"))])
        expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).toContain((await failure(call(md))).code);
    },
  );

  const A = auth(ADMIN_TOKEN);
  it.each<[string, () => Promise<unknown>, status]>([
    [
      "CreateAccount of a name that cannot be one",
      () => unary((cb) => admin.createAccount({ account: account({ name: "no spaces" }) }, A, cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "CreateAccount of a taken name",
      () => unary((cb) => admin.createAccount({ account: account({ name: "known" }) }, A, cb)),
      status.ALREADY_EXISTS,
    ],
    [
      "CreateAccount with STP_MODE_NONE as its default",
      () =>
        unary((cb) =>
          admin.createAccount({ account: account({ name: "nostp", defaultStpMode: StpMode.NONE }) }, A, cb),
        ),
      status.INVALID_ARGUMENT,
    ],
    [
      "CreateAccount with a 1,025-character display name",
      () => unary((cb) => admin.createAccount({ account: account({ name: "longname", displayName: LONG }) }, A, cb)),
      status.INVALID_ARGUMENT,
    ],
    ["GetAccount of no account", () => unary((cb) => admin.getAccount({ name: "ghost" }, A, cb)), status.NOT_FOUND],
    [
      "ListAccounts of 1,001 per page",
      () => unary((cb) => admin.listAccounts({ pageSize: 1_001, pageToken: "" }, A, cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "ListAccounts with a page token it did not give",
      () => unary((cb) => admin.listAccounts({ pageSize: 0, pageToken: "!!" }, A, cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "UpdateAccount at a stale revision",
      () =>
        unary((cb) =>
          admin.updateAccount(
            { account: account({ name: "known", principals: ["known"] }), expectedRevision: existing.revision + 1_000 },
            A,
            cb,
          ),
        ),
      status.ABORTED,
    ],
    [
      "UpdateAccount of no account",
      () => unary((cb) => admin.updateAccount({ account: account({ name: "ghost" }), expectedRevision: 0 }, A, cb)),
      status.NOT_FOUND,
    ],
    [
      "DeleteAccount of an account with open orders",
      () => unary((cb) => admin.deleteAccount({ name: "busy", expectedRevision: 0 }, A, cb)),
      status.FAILED_PRECONDITION,
    ],
    [
      "DeleteAccount of no account",
      () => unary((cb) => admin.deleteAccount({ name: "ghost", expectedRevision: 0 }, A, cb)),
      status.NOT_FOUND,
    ],
    ["GetLimits of no account", () => unary((cb) => admin.getLimits({ account: "ghost" }, A, cb)), status.NOT_FOUND],
    [
      "SetLimits with a negative limit",
      () =>
        unary((cb) =>
          admin.setLimits({ account: "known", limits: limits({ maxOrderQty: -1 }), expectedRevision: 0 }, A, cb),
        ),
      status.INVALID_ARGUMENT,
    ],
    [
      "SetLimits restricting an unlisted instrument",
      () =>
        unary((cb) =>
          admin.setLimits(
            { account: "known", limits: limits({ restrictedInstruments: ["NOPE"] }), expectedRevision: 0 },
            A,
            cb,
          ),
        ),
      status.INVALID_ARGUMENT,
    ],
    [
      "SetLimits at a stale revision",
      () =>
        unary((cb) =>
          admin.setLimits({ account: "known", limits: limits(), expectedRevision: existing.revision + 1_000 }, A, cb),
        ),
      status.ABORTED,
    ],
    [
      "SetLimits of no account",
      () => unary((cb) => admin.setLimits({ account: "ghost", limits: limits(), expectedRevision: 0 }, A, cb)),
      status.NOT_FOUND,
    ],
    [
      "EngageKillSwitch without a scope",
      () =>
        unary((cb) =>
          admin.engageKillSwitch(
            { scope: KillSwitchScope.UNSPECIFIED, account: "known", reason: "x", keepOpenOrders: true },
            A,
            cb,
          ),
        ),
      status.INVALID_ARGUMENT,
    ],
    [
      "EngageKillSwitch without a reason",
      () =>
        unary((cb) =>
          admin.engageKillSwitch(
            { scope: KillSwitchScope.ACCOUNT, account: "known", reason: " ", keepOpenOrders: true },
            A,
            cb,
          ),
        ),
      status.INVALID_ARGUMENT,
    ],
    [
      "EngageKillSwitch of no account",
      () =>
        unary((cb) =>
          admin.engageKillSwitch(
            { scope: KillSwitchScope.ACCOUNT, account: "ghost", reason: "x", keepOpenOrders: true },
            A,
            cb,
          ),
        ),
      status.NOT_FOUND,
    ],
    [
      "ReleaseKillSwitch of a name that cannot be an account",
      () =>
        unary((cb) =>
          admin.releaseKillSwitch({ scope: KillSwitchScope.ACCOUNT, account: "no spaces", reason: "x" }, A, cb),
        ),
      status.INVALID_ARGUMENT,
    ],
    [
      "GetAccount with a 2,000-character name",
      () => unary((cb) => admin.getAccount({ name: "N".repeat(2_000) }, A, cb)),
      status.INVALID_ARGUMENT,
    ],
  ])("%s", async (_name, call, code) => {
    const err = await failure(call());
    expect(err.code).toBe(code);
    expect(err.details.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_CHARS);
    expect(err.details).not.toMatch(/[LN]{41}/);
  });
});
