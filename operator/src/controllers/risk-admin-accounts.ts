import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import {
  CreateAccountRequest,
  EngageKillSwitchRequest,
  GetAccountRequest,
  GetPositionsRequest,
  IssueTokenRequest,
  KillSwitchScope,
  ListKillSwitchesRequest,
  ListTokensRequest,
  ReleaseKillSwitchRequest,
  RevokeTokenRequest,
  RiskAdminClient,
  SetLimitsRequest,
  RECONNECT_CHANNEL_OPTIONS,
} from "@tradeplane/contracts";
import { POD_PORTS } from "../desired/service-configs.ts";
import { names } from "../desired/venue-model.ts";
import { limitsDiffer, type GatewayLimits } from "../policies/account-limits.ts";
import type {
  AccountPosition,
  AccountToken,
  IssuedToken,
  StrategyAccounts,
  StrategyLimits,
  VenueRef,
} from "./strategy-accounts.ts";

/**
 * StrategyAccounts over the venue's RiskAdmin gRPC API, authenticated with the venue's
 * admin token of the role each call needs (read from the Secret the operator generated). The gateway is
 * `<venue>-risk.<namespace>.svc` in the cluster; `addressOf` can point elsewhere (an
 * operator run outside the cluster, tests with a local gateway).
 */

/**
 * The roles the operator's calls need: accounts and tokens are venue-operator business,
 * limits and kill switches risk-officer business (RiskAdmin's permission table).
 */
export type AdminRoleNeeded = "venue-operator" | "risk-officer" | "read-only";

export interface RiskAdminAccountsOptions {
  /** The venue's admin token of a role (the Secret the operator generated holds one per role). */
  readonly adminToken: (at: VenueRef, role: AdminRoleNeeded) => string | undefined;
  readonly addressOf?: (at: VenueRef) => string;
  readonly timeoutMs?: number;
  /** Called with the number of open channels whenever it changes (a gauge). */
  readonly onChannels?: (open: number) => void;
}

const DEFAULT_CALL_TIMEOUT_MS = 10_000;

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: { deadline: Date },
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

export class RiskAdminAccounts implements StrategyAccounts {
  private readonly options: RiskAdminAccountsOptions;
  private readonly clients = new Map<string, RiskAdminClient>();

  constructor(options: RiskAdminAccountsOptions) {
    this.options = options;
  }

  /**
   * Creates the account when missing, and sets its limits only when they differ from the
   * spec's (at the revision read, so a concurrent change is not overwritten blindly): a
   * reconcile that changes nothing writes nothing to the gateway.
   */
  async ensureAccount(at: VenueRef, account: string, limits: StrategyLimits): Promise<void> {
    const client = this.client(at);
    let current: { limits?: GatewayLimits; revision: number } | undefined;
    try {
      const res = (await this.call(
        at,
        "read-only",
        client.getAccount.bind(client) as Unary<unknown, unknown>,
        GetAccountRequest.fromPartial({ name: account }),
      )) as { account?: { limits?: GatewayLimits; revision: number } };
      current = res.account;
    } catch (err) {
      if ((err as ServiceError).code !== status.NOT_FOUND) throw err;
      const res = (await this.call(
        at,
        "venue-operator",
        client.createAccount.bind(client) as Unary<unknown, unknown>,
        CreateAccountRequest.fromPartial({
          // The account's own name is its principal: the token issued below acts for it.
          account: { name: account, displayName: `strategy account ${account}`, principals: [account] },
        }),
      )) as { account?: { revision: number } };
      current = { revision: res.account?.revision ?? 0 };
    }
    if (!limitsDiffer(current?.limits, limits)) return;
    await this.call(
      at,
      "risk-officer",
      client.setLimits.bind(client) as Unary<unknown, unknown>,
      SetLimitsRequest.fromPartial({
        account,
        limits: {
          maxOrderQty: limits.maxOrderQty,
          maxOrderNotional: limits.maxOrderNotional,
          maxPosition: limits.maxPosition,
          creditLimit: limits.creditLimit,
          maxOrdersPerSecond: limits.maxOrdersPerSecond,
          restrictedInstruments: [],
        },
        expectedRevision: current?.revision ?? 0,
      }),
    );
  }

  /**
   * Engages or releases the account's kill switch when it is not already so: engaging
   * writes to the accounts bucket and cancels the account's open orders through the command
   * log, which a paused strategy's every reconcile must not repeat.
   */
  async setKillSwitch(at: VenueRef, account: string, engaged: boolean, reason: string): Promise<void> {
    const client = this.client(at);
    const listed = (await this.call(
      at,
      "read-only",
      client.listKillSwitches.bind(client) as Unary<unknown, unknown>,
      ListKillSwitchesRequest.fromPartial({}),
    )) as { killSwitches: { scope: KillSwitchScope; account: string; engaged: boolean }[] };
    const now = listed.killSwitches.some(
      (k) => k.scope === KillSwitchScope.ACCOUNT && k.account === account && k.engaged,
    );
    if (now === engaged) return;
    const request = { scope: KillSwitchScope.ACCOUNT, account, reason, keepOpenOrders: false };
    if (engaged)
      await this.call(
        at,
        "risk-officer",
        client.engageKillSwitch.bind(client) as Unary<unknown, unknown>,
        EngageKillSwitchRequest.fromPartial(request),
      );
    else
      await this.call(
        at,
        "risk-officer",
        client.releaseKillSwitch.bind(client) as Unary<unknown, unknown>,
        ReleaseKillSwitchRequest.fromPartial(request),
      );
  }

  async positions(at: VenueRef, account: string): Promise<AccountPosition[]> {
    const client = this.client(at);
    const res = (await this.call(
      at,
      "read-only",
      client.getPositions.bind(client) as Unary<unknown, unknown>,
      GetPositionsRequest.fromPartial({ account, instrument: "" }),
    )) as {
      positions: { instrument: string; netQty: number; realisedPnl: number; unrealisedPnl: number }[];
    };
    return res.positions.map((p) => ({
      symbol: p.instrument,
      position: Number(p.netQty),
      realisedPnl: Number(p.realisedPnl),
      unrealisedPnl: Number(p.unrealisedPnl),
    }));
  }

  async issueToken(at: VenueRef, account: string, label: string): Promise<IssuedToken> {
    const client = this.client(at);
    const res = (await this.call(
      at,
      "venue-operator",
      client.issueToken.bind(client) as Unary<unknown, unknown>,
      IssueTokenRequest.fromPartial({ account, principal: "", description: label }),
    )) as { token?: { tokenId: string }; secret: string };
    if (res.token === undefined || res.secret === "") throw new Error("IssueToken answered without a token");
    return { id: res.token.tokenId, token: res.secret };
  }

  async tokens(at: VenueRef, account: string): Promise<AccountToken[]> {
    const client = this.client(at);
    const res = (await this.call(
      at,
      "read-only",
      client.listTokens.bind(client) as Unary<unknown, unknown>,
      ListTokensRequest.fromPartial({ account }),
    )) as { tokens: { tokenId: string; account: string; description: string }[] };
    return res.tokens.filter((t) => t.account === account).map((t) => ({ id: t.tokenId, description: t.description }));
  }

  async revokeToken(at: VenueRef, _account: string, id: string): Promise<void> {
    const client = this.client(at);
    try {
      await this.call(
        at,
        "venue-operator",
        client.revokeToken.bind(client) as Unary<unknown, unknown>,
        RevokeTokenRequest.fromPartial({ tokenId: id, reason: "StrategyDeployment deleted" }),
      );
    } catch (err) {
      // Revoked before (a retried delete): the token is gone either way.
      if ((err as ServiceError).code !== status.NOT_FOUND) throw err;
    }
  }

  release(at: VenueRef): void {
    const address = this.addressOf(at);
    const client = this.clients.get(address);
    if (client === undefined) return;
    client.close();
    this.clients.delete(address);
    this.options.onChannels?.(this.clients.size);
  }

  /** How many gateways a channel is open to: one per venue in use, none for a deleted venue. */
  get openChannels(): number {
    return this.clients.size;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    this.options.onChannels?.(0);
  }

  private addressOf(at: VenueRef): string {
    return this.options.addressOf?.(at) ?? `${names.risk(at.venue)}.${at.namespace}.svc:${POD_PORTS.riskGrpc}`;
  }

  private client(at: VenueRef): RiskAdminClient {
    const address = this.addressOf(at);
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new RiskAdminClient(address, credentials.createInsecure(), RECONNECT_CHANNEL_OPTIONS);
      this.clients.set(address, client);
      this.options.onChannels?.(this.clients.size);
    }
    return client;
  }

  private call<Req, Res>(at: VenueRef, role: AdminRoleNeeded, method: Unary<Req, Res>, request: Req): Promise<Res> {
    const token = this.options.adminToken(at, role);
    if (token === undefined)
      return Promise.reject(new Error(`no admin token for venue ${at.namespace}/${at.venue} yet`));
    const md = new Metadata();
    md.set("authorization", `Bearer ${token}`);
    const deadline = new Date(Date.now() + (this.options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS));
    return new Promise((resolve, reject) => {
      method(request, md, { deadline }, (err, res) => (err !== null ? reject(err) : resolve(res)));
    });
  }
}
