import type { Metadata } from "@grpc/grpc-js";
import type { KV } from "@nats-io/kv";
import {
  KillSwitchScope,
  type Account,
  type ApiToken,
  type IssueTokenRequest,
  type KillSwitch,
  type ListTokensRequest,
  type RevokeTokenRequest,
  type RiskAdminServer,
  type StpMode,
} from "@tradeplane/contracts";
import {
  FailedPreconditionError,
  NotFoundError,
  RevisionConflictError,
  timestampOfMs,
  unaryHandler,
  ValidationError,
  type AdminAuthority,
  type AdminPermission,
  type CommandLogWriter,
  type Logger,
} from "@tradeplane/platform";
import {
  createAccount,
  deleteAccount,
  findToken,
  isTokenId,
  listTokens,
  newTokenSecret,
  putToken,
  readAccount,
  revokeTokenHash,
  setKillSwitch,
  updateAccount,
  type AccountRecord,
  type KillSwitchRecord,
  type StoredAccount,
  type StoredToken,
} from "@tradeplane/accounts";
import {
  accountNameProblem,
  accountProblem,
  afterNameOf,
  limitsProblem,
  MAX_TOKEN_DESCRIPTION,
  overridesOf,
  pageOf,
  pageSizeOf,
  principalProblem,
  wireLimitsOf,
} from "../domain/account-validation.ts";
import type { LimitOverrides } from "@tradeplane/risk-checks/limits";
import type { OrderProjection } from "@tradeplane/positions/order-projection";
import type { FieldProblem } from "../domain/request-validation.ts";
import type { AccountRegistry } from "./accounts.ts";
import { killSwitchEverywhere } from "./cancel-all.ts";
import { wireEffective, wirePositions } from "./account-reads.ts";
import type { InstrumentInfo } from "./order-entry-grpc.ts";

export interface RiskAdminDeps {
  readonly instanceId: string;
  readonly kv: KV;
  readonly accounts: AccountRegistry;
  readonly projection: OrderProjection;
  readonly instruments: ReadonlyMap<string, InstrumentInfo>;
  readonly log: CommandLogWriter;
  /** Event stream sequence of the last event in the projection (GetPositions' as_of_source_sequence). */
  readonly eventStreamSeq: () => number;
  /** Admin tokens and their roles: every call is checked against the permission it needs. */
  readonly admin: AdminAuthority;
  /** Venue-wide limits that accounts override (GetLimits' `effective`). */
  readonly defaultLimits: LimitOverrides;
  /** Longest wait for this replica's accounts watch to show a write it made. */
  readonly watchTimeoutMs: number;
  readonly logger: Logger;
}

/** The permission each call needs (admin roles grant permissions; see platform's admin-auth.ts). */
export const RISK_ADMIN_PERMISSIONS = {
  getAccount: "read",
  listAccounts: "read",
  getLimits: "read",
  getPositions: "read",
  listKillSwitches: "read",
  listTokens: "read",
  createAccount: "accounts.write",
  updateAccount: "accounts.write",
  deleteAccount: "accounts.write",
  issueToken: "accounts.write",
  revokeToken: "accounts.write",
  setLimits: "risk.write",
  engageKillSwitch: "risk.write",
  releaseKillSwitch: "risk.write",
} as const satisfies Readonly<Record<string, AdminPermission>>;

/** Attempts of a read-modify-write with expected revision 0 ("overwrite") that keeps meeting concurrent writes. */
const MAX_OVERWRITE_ATTEMPTS = 5;

function invalid(problem: FieldProblem): never {
  throw new ValidationError(`${problem.field}: ${problem.message}`, [
    { path: problem.field, message: problem.message },
  ]);
}

function expectedRevisionOf(v: number): number {
  if (!Number.isSafeInteger(v) || v < 0)
    invalid({ field: "expected_revision", message: "must be 0 (unconditional) or a revision" });
  return v;
}

/** Code-unit order, as the proto's "ascending" means (not the locale's). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function wireToken({ id, record }: StoredToken): ApiToken {
  return {
    tokenId: id,
    principal: record.principal,
    account: record.account ?? "",
    description: record.description ?? "",
    issuedBy: record.issuedBy ?? "",
    createTime: record.createTimeMs === undefined ? undefined : timestampOfMs(record.createTimeMs),
  };
}

function wireAccount({ record, revision }: StoredAccount): Account {
  return {
    name: record.name,
    displayName: record.displayName ?? "",
    disabled: record.disabled,
    principals: [...record.principals],
    defaultStpMode: record.defaultStpMode as StpMode,
    limits: wireLimitsOf(record.limits),
    revision,
    createTime: record.createTimeMs === undefined ? undefined : timestampOfMs(record.createTimeMs),
    updateTime: record.updateTimeMs === undefined ? undefined : timestampOfMs(record.updateTimeMs),
  };
}

/**
 * RiskAdmin, the operator's side: positions from the projection, and kill switches. Engaging
 * one stores it (so every gateway replica refuses new orders at once), then writes to every
 * partition a BlockAccountCommand and the mass cancel with reason KILL_SWITCH in one entry
 * (ADR 0003: the engine then refuses the account's new orders whichever replica wrote them,
 * even one that has not seen the stored switch yet); releasing it deletes the record, then
 * writes BlockAccountCommand{blocked: false} to every partition.
 * Accounts and limits are read from and written to the accounts bucket with the key's KV
 * revision as the account revision: create fails on an existing key (ALREADY_EXISTS), and
 * every change names the revision it is based on (ABORTED when the key moved on). After a
 * write, the call waits until this replica's watch shows it, so the next order here is
 * checked against it; other replicas follow within their watch delay.
 */
export function riskAdminService(deps: RiskAdminDeps): RiskAdminServer {
  /** A call that first checks the caller's admin token and role, then runs with its audit principal. */
  const unary = <Req, Res>(
    method: keyof typeof RISK_ADMIN_PERMISSIONS,
    handler: (req: Req, principal: string) => Promise<Res> | Res,
  ) =>
    unaryHandler(deps.logger, (req: Req, metadata: Metadata) =>
      handler(req, deps.admin.authorise(metadata, RISK_ADMIN_PERMISSIONS[method], `RiskAdmin.${method}`)),
    );
  const knownInstrument = (symbol: string): boolean => deps.instruments.has(symbol);
  const partitionsOf = (): number[] => [...deps.instruments.values()].map((i) => i.partition);

  const requireName = (field: string, name: string): string => {
    const problem = accountNameProblem(field, name);
    if (problem !== undefined) invalid(problem);
    return name;
  };

  const read = async (name: string): Promise<StoredAccount> => {
    const stored = await readAccount(deps.kv, name);
    if (stored === undefined) throw new NotFoundError(`no account ${name}`);
    return stored;
  };

  const stale = (name: string, expected: number, current: number): RevisionConflictError =>
    new RevisionConflictError(`account ${name} is at revision ${current}, not ${expected}: read it again and retry`);

  /** Waits until this replica applies `revision` (bounded), so its own checks see the write. */
  const settle = async (revision: number): Promise<void> => {
    await deps.accounts.caughtUp(revision, deps.watchTimeoutMs);
  };

  /**
   * Read, change, write back at the revision read. With an expected revision the write
   * fails if the account is not at it; with 0 it retries on a concurrent write, so a
   * change to one part (limits) never loses a concurrent change to another.
   */
  const modify = async (
    name: string,
    expected: number,
    change: (current: AccountRecord) => AccountRecord,
  ): Promise<StoredAccount> => {
    for (let attempt = 1; ; attempt++) {
      const current = await read(name);
      if (expected !== 0 && current.revision !== expected) throw stale(name, expected, current.revision);
      const record = change(current.record);
      try {
        const revision = await updateAccount(deps.kv, record, current.revision);
        await settle(revision);
        return { record, revision };
      } catch (err) {
        if (!(err instanceof RevisionConflictError) || expected !== 0 || attempt >= MAX_OVERWRITE_ATTEMPTS) throw err;
      }
    }
  };

  /** Why an account may not go: open orders or a position, as this replica's projection has them. */
  const deleteBlocker = (name: string): string | undefined => {
    const open = deps.projection.openOrders(name).length;
    if (open > 0) return `account ${name} has ${open} open order(s): cancel them first`;
    for (const [instrument, p] of deps.projection.positionsOf(name))
      if (p.netQty !== 0)
        return `account ${name} has a position of ${p.netQty} lots in ${instrument}: flatten it first`;
    return undefined;
  };

  /**
   * The kill switch key of a request. Engaging needs the account to exist; releasing does
   * not, so a switch left engaged on a deleted account can still be released.
   */
  const which = (scope: KillSwitchScope, account: string, mustExist: boolean): string => {
    if (scope === KillSwitchScope.VENUE) return "venue";
    if (scope !== KillSwitchScope.ACCOUNT)
      throw new ValidationError("scope is required", [{ path: "scope", message: "ACCOUNT or VENUE" }]);
    if (mustExist && deps.accounts.account(account) === undefined) throw new NotFoundError(`no account ${account}`);
    if (!mustExist) requireName("account", account);
    return `account.${account}`;
  };

  const wire = (key: string, record: KillSwitchRecord | undefined): KillSwitch => ({
    scope: key === "venue" ? KillSwitchScope.VENUE : KillSwitchScope.ACCOUNT,
    account: key === "venue" ? "" : key.slice("account.".length),
    engaged: record !== undefined,
    reason: record?.reason ?? "",
    changedBy: record?.changedBy ?? "",
    changeTime: record === undefined ? undefined : timestampOfMs(record.changeTimeMs),
  });

  return {
    createAccount: unary("createAccount", async (req, principal) => {
      const a = req.account;
      if (a === undefined) return invalid({ field: "account", message: "required" });
      const problem = accountProblem("account", a);
      if (problem !== undefined) invalid(problem);
      const now = Date.now();
      // Limits, revision and times of the request are ignored (proto): limits are set with SetLimits.
      const record: AccountRecord = {
        name: a.name,
        displayName: a.displayName,
        disabled: a.disabled,
        principals: [...a.principals],
        limits: {},
        defaultStpMode: a.defaultStpMode,
        createTimeMs: now,
        updateTimeMs: now,
      };
      const revision = await createAccount(deps.kv, record);
      await settle(revision);
      deps.logger.info({ account: a.name, principal, revision }, "account created");
      return { account: wireAccount({ record, revision }) };
    }),
    getAccount: unary("getAccount", async (req) => {
      return { account: wireAccount(await read(requireName("name", req.name))) };
    }),
    listAccounts: unary("listAccounts", (req) => {
      const size = pageSizeOf(req.pageSize);
      if (typeof size !== "number") return invalid(size);
      const after = afterNameOf(req.pageToken);
      if (typeof after !== "string") return invalid(after);
      // This replica's live view of the bucket (it follows every write through its watch).
      const page = pageOf(deps.accounts.accountNames(), after, size);
      const accounts = page.names.flatMap((name) => {
        const stored = deps.accounts.storedAccount(name);
        return stored === undefined ? [] : [wireAccount(stored)];
      });
      return { accounts, nextPageToken: page.nextPageToken };
    }),
    updateAccount: unary("updateAccount", async (req, principal) => {
      const a = req.account;
      if (a === undefined) return invalid({ field: "account", message: "required" });
      const problem = accountProblem("account", a);
      if (problem !== undefined) invalid(problem);
      const expected = expectedRevisionOf(req.expectedRevision);
      const stored = await modify(a.name, expected, (current) => ({
        ...current,
        displayName: a.displayName,
        disabled: a.disabled,
        principals: [...a.principals],
        defaultStpMode: a.defaultStpMode,
        updateTimeMs: Date.now(),
      }));
      deps.logger.info({ account: a.name, principal, revision: stored.revision }, "account updated");
      return { account: wireAccount(stored) };
    }),
    deleteAccount: unary("deleteAccount", async (req, principal) => {
      const name = requireName("name", req.name);
      const expected = expectedRevisionOf(req.expectedRevision);
      for (let attempt = 1; ; attempt++) {
        const current = await read(name);
        if (expected !== 0 && current.revision !== expected) throw stale(name, expected, current.revision);
        const blocker = deleteBlocker(name);
        if (blocker !== undefined) throw new FailedPreconditionError(blocker);
        try {
          await settle(await deleteAccount(deps.kv, name, current.revision));
          break;
        } catch (err) {
          if (!(err instanceof RevisionConflictError) || expected !== 0 || attempt >= MAX_OVERWRITE_ATTEMPTS) throw err;
        }
      }
      deps.logger.info({ account: name, principal }, "account deleted");
      return {};
    }),
    getLimits: unary("getLimits", async (req) => {
      const { record, revision } = await read(requireName("account", req.account));
      return {
        limits: wireLimitsOf(record.limits),
        effective: wireEffective(deps.defaultLimits, record.limits),
        revision,
      };
    }),
    setLimits: unary("setLimits", async (req, principal) => {
      const name = requireName("account", req.account);
      // An absent message is an empty one: every limit inherits the venue default.
      const limits = req.limits ?? { restrictedInstruments: [] };
      const problem = limitsProblem("limits", limits, knownInstrument);
      if (problem !== undefined) invalid(problem);
      const expected = expectedRevisionOf(req.expectedRevision);
      const stored = await modify(name, expected, (current) => ({
        ...current,
        limits: overridesOf(limits),
        updateTimeMs: Date.now(),
      }));
      deps.logger.info({ account: name, principal, revision: stored.revision }, "limits set");
      return { limits: wireLimitsOf(stored.record.limits), revision: stored.revision };
    }),
    getPositions: unary("getPositions", (req) => {
      // Read the sequence first: everything below is computed synchronously from the same state.
      const asOfSourceSequence = deps.eventStreamSeq();
      const accounts = req.account === "" ? deps.projection.positionAccounts().sort() : [req.account];
      const positions = wirePositions(deps, accounts, req.instrument);
      return { positions, asOfSourceSequence };
    }),
    engageKillSwitch: unary("engageKillSwitch", async (req, principal) => {
      if (req.reason.trim() === "")
        throw new ValidationError("reason is required", [{ path: "reason", message: "required" }]);
      const key = which(req.scope, req.account, true);
      const record: KillSwitchRecord = {
        reason: req.reason,
        changedBy: principal,
        changeTimeMs: Date.now(),
        // So a replica that finds the engine's block missing (a crash between the two writes) repairs it alike.
        ...(req.keepOpenOrders ? { keepOpenOrders: true } : {}),
      };
      await setKillSwitch(deps.kv, key, record);
      const commands = await killSwitchEverywhere(deps.log, partitionsOf(), {
        account: key === "venue" ? principal : req.account,
        allAccounts: key === "venue",
        engaged: true,
        cancel: !req.keepOpenOrders,
        reason: req.reason,
        source: deps.instanceId,
      });
      deps.logger.warn({ killSwitch: key, principal, reason: req.reason }, "kill switch engaged");
      return { killSwitch: wire(key, record), commands };
    }),
    releaseKillSwitch: unary("releaseKillSwitch", async (req, principal) => {
      const key = which(req.scope, req.account, false);
      await setKillSwitch(deps.kv, key, undefined);
      await killSwitchEverywhere(deps.log, partitionsOf(), {
        account: key === "venue" ? principal : req.account,
        allAccounts: key === "venue",
        engaged: false,
        cancel: false,
        reason: req.reason,
        source: deps.instanceId,
      });
      deps.logger.warn({ killSwitch: key, principal, reason: req.reason }, "kill switch released");
      return { killSwitch: wire(key, undefined) };
    }),
    listKillSwitches: unary("listKillSwitches", () => {
      return { killSwitches: deps.accounts.engagedKillSwitches().map(([key, record]) => wire(key, record)) };
    }),
    issueToken: unary("issueToken", async (req: IssueTokenRequest, issuedBy) => {
      const account = requireName("account", req.account);
      const principal = req.principal === "" ? account : req.principal;
      const problem = principalProblem("principal", principal);
      if (problem !== undefined) invalid(problem);
      if (req.description.length > MAX_TOKEN_DESCRIPTION)
        invalid({ field: "description", message: `must be at most ${MAX_TOKEN_DESCRIPTION} characters` });
      const { record } = await read(account);
      if (!record.principals.includes(principal))
        throw new FailedPreconditionError(
          `account ${account} does not list principal ${principal}: add it with UpdateAccount, or name one of its principals`,
        );
      const secret = newTokenSecret();
      const { token, revision } = await putToken(deps.kv, secret, {
        principal,
        account,
        description: req.description,
        issuedBy,
        createTimeMs: Date.now(),
      });
      await settle(revision);
      deps.logger.info({ account, principal, tokenId: token.id, issuedBy }, "token issued");
      return { token: wireToken(token), secret };
    }),
    listTokens: unary("listTokens", async (req: ListTokensRequest) => {
      const { record } = await read(requireName("account", req.account));
      const principals = new Set(record.principals);
      const byPrincipalThenId = (a: StoredToken, b: StoredToken): number =>
        a.record.principal === b.record.principal
          ? compareText(a.id, b.id)
          : compareText(a.record.principal, b.record.principal);
      const tokens = (await listTokens(deps.kv))
        .filter((t) => principals.has(t.record.principal))
        .sort(byPrincipalThenId);
      return { tokens: tokens.map(wireToken) };
    }),
    revokeToken: unary("revokeToken", async (req: RevokeTokenRequest, revokedBy) => {
      if (!isTokenId(req.tokenId))
        invalid({ field: "token_id", message: "must be the 16 hex digits of a token id (ListTokens)" });
      if (req.reason.length > MAX_TOKEN_DESCRIPTION)
        invalid({ field: "reason", message: `must be at most ${MAX_TOKEN_DESCRIPTION} characters` });
      const token = await findToken(deps.kv, req.tokenId);
      if (token === undefined) throw new NotFoundError(`no token ${req.tokenId}`);
      await settle(await revokeTokenHash(deps.kv, token.hash));
      deps.logger.warn(
        { tokenId: token.id, principal: token.record.principal, revokedBy, reason: req.reason },
        "token revoked",
      );
      return { token: wireToken(token) };
    }),
  };
}
