import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { KillSwitchScope, RiskAdminClient } from "@tradeplane/contracts";
import { TradeplaneError } from "@tradeplane/platform";
import { POD_PORTS } from "../desired/service-configs.ts";
import { names } from "../desired/venue-model.ts";
import type { AccountPosition, IssuedToken, StrategyAccounts, StrategyLimits, VenueRef } from "./strategy-accounts.ts";

/**
 * StrategyAccounts over the venue's RiskAdmin gRPC API, authenticated with the venue's
 * risk-officer admin token (read from the Secret the operator generated). The gateway is
 * `<venue>-risk.<namespace>.svc` in the cluster; `addressOf` can point elsewhere (an
 * operator run outside the cluster, tests with a local gateway).
 */

/** The gateway has no token RPCs yet (IssueToken/RevokeToken come with the credentials work). */
export class TokenRpcUnavailableError extends TradeplaneError {
  override readonly name = "TokenRpcUnavailableError";
  constructor() {
    super("UNIMPLEMENTED", "the risk gateway offers no IssueToken/RevokeToken RPC in this version");
  }
}

export interface RiskAdminAccountsOptions {
  readonly adminToken: (at: VenueRef) => string | undefined;
  readonly addressOf?: (at: VenueRef) => string;
  readonly timeoutMs?: number;
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

  async ensureAccount(at: VenueRef, account: string, limits: StrategyLimits): Promise<void> {
    const client = this.client(at);
    try {
      await this.call(at, client.getAccount.bind(client) as Unary<unknown, unknown>, { name: account });
    } catch (err) {
      if ((err as ServiceError).code !== status.NOT_FOUND) throw err;
      await this.call(at, client.createAccount.bind(client) as Unary<unknown, unknown>, {
        account: { name: account, displayName: `strategy account ${account}`, principals: [] },
      });
    }
    await this.call(at, client.setLimits.bind(client) as Unary<unknown, unknown>, {
      account,
      limits: {
        maxOrderQty: limits.maxOrderQty,
        maxOrderNotional: limits.maxOrderNotional,
        maxPosition: limits.maxPosition,
        creditLimit: limits.creditLimit,
        maxOrdersPerSecond: limits.maxOrdersPerSecond,
        restrictedInstruments: [],
      },
      expectedRevision: 0,
    });
  }

  async setKillSwitch(at: VenueRef, account: string, engaged: boolean, reason: string): Promise<void> {
    const client = this.client(at);
    const method = engaged ? client.engageKillSwitch.bind(client) : client.releaseKillSwitch.bind(client);
    await this.call(at, method as Unary<unknown, unknown>, {
      scope: KillSwitchScope.ACCOUNT,
      account,
      reason,
      keepOpenOrders: false,
    });
  }

  async positions(at: VenueRef, account: string): Promise<AccountPosition[]> {
    const client = this.client(at);
    const res = (await this.call(at, client.getPositions.bind(client) as Unary<unknown, unknown>, {
      account,
      instrument: "",
    })) as {
      positions: { instrument: string; netQty: number; realisedPnl: number; unrealisedPnl: number }[];
    };
    return res.positions.map((p) => ({
      symbol: p.instrument,
      position: Number(p.netQty),
      realisedPnl: Number(p.realisedPnl),
      unrealisedPnl: Number(p.unrealisedPnl),
    }));
  }

  issueToken(_at: VenueRef, _account: string, _label: string): Promise<IssuedToken> {
    return Promise.reject(new TokenRpcUnavailableError());
  }

  revokeToken(_at: VenueRef, _account: string, _id: string): Promise<void> {
    return Promise.reject(new TokenRpcUnavailableError());
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private client(at: VenueRef): RiskAdminClient {
    const address = this.options.addressOf?.(at) ?? `${names.risk(at.venue)}.${at.namespace}.svc:${POD_PORTS.riskGrpc}`;
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new RiskAdminClient(address, credentials.createInsecure());
      this.clients.set(address, client);
    }
    return client;
  }

  private call<Req, Res>(at: VenueRef, method: Unary<Req, Res>, request: Req): Promise<Res> {
    const token = this.options.adminToken(at);
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
