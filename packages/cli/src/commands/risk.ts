import { KillSwitchScope, type ApiToken, type RiskLimits } from "@tradeplane/contracts";
import { writeState } from "../local/state.ts";
import type { Target } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { formatMoney, formatPrice } from "../format.ts";
import { printResult, printTable } from "../output.ts";
import { parseCount } from "../prices.ts";

export async function showPositions(target: Target, account: string): Promise<void> {
  const client = target.riskAdmin();
  const res = await target.call("riskAdmin", target.adminToken(), client.getPositions.bind(client), {
    account,
    instrument: "",
  });
  const exp = target.venue()?.spec.market.notionalExponent;
  const money = (v: number) => (exp === undefined ? v : formatMoney(v, exp));
  printTable(
    target.flags.json === true,
    res,
    ["symbol", "net qty", "bought", "sold", "open buy", "open sell", "mark", "realised P&L", "unrealised P&L"],
    res.positions.map((p) => {
      const unit = target.priceUnit(p.instrument);
      return [
        p.instrument,
        p.netQty,
        p.boughtQty,
        p.soldQty,
        p.openBuyQty,
        p.openSellQty,
        unit === undefined ? p.markPrice : formatPrice(p.markPrice, unit),
        money(p.realisedPnl),
        money(p.unrealisedPnl),
      ];
    }),
    `(no positions for ${account})`,
  );
}

export async function killSwitch(
  target: Target,
  action: "engage" | "release" | "list",
  flags: { account?: string; venue?: boolean; reason?: string; keepOpenOrders?: boolean },
): Promise<void> {
  const client = target.riskAdmin();
  const token = target.adminToken();
  if (action === "list") {
    const res = await target.call("riskAdmin", token, client.listKillSwitches.bind(client), {});
    printTable(
      target.flags.json === true,
      res,
      ["scope", "account", "reason", "by"],
      res.killSwitches.map((k) => [
        k.scope === KillSwitchScope.VENUE ? "venue" : "account",
        k.account,
        k.reason,
        k.changedBy,
      ]),
      "(no kill switch engaged)",
    );
    return;
  }
  if ((flags.account === undefined) === (flags.venue !== true))
    throw new CliError(EXIT.USAGE, "say what the kill switch covers: --account NAME or --venue");
  const scope = flags.venue === true ? KillSwitchScope.VENUE : KillSwitchScope.ACCOUNT;
  const account = flags.account ?? "";
  const reason = flags.reason ?? `${action}d from the CLI`;
  const res =
    action === "engage"
      ? await target.call("riskAdmin", token, client.engageKillSwitch.bind(client), {
          scope,
          account,
          reason,
          keepOpenOrders: flags.keepOpenOrders === true,
        })
      : await target.call("riskAdmin", token, client.releaseKillSwitch.bind(client), { scope, account, reason });
  printResult(
    target.flags.json === true,
    res,
    `kill switch ${action}d for ${flags.venue === true ? "the venue" : account}`,
  );
}

export interface LimitFlags {
  readonly maxOrderQty?: string;
  readonly maxOrderNotional?: string;
  readonly priceCollarBps?: string;
  readonly maxPosition?: string;
  readonly creditLimit?: string;
  readonly maxOrdersPerSecond?: string;
  readonly restricted?: string;
}

export function limitsFrom(flags: LimitFlags): RiskLimits {
  const n = (text: string | undefined, flag: string) => (text === undefined ? undefined : parseCount(text, flag, 0));
  const limits: RiskLimits = {
    restrictedInstruments: flags.restricted === undefined ? [] : flags.restricted.split(",").filter(Boolean),
  };
  const set = <K extends keyof RiskLimits>(key: K, value: RiskLimits[K] | undefined) => {
    if (value !== undefined) limits[key] = value;
  };
  set("maxOrderQty", n(flags.maxOrderQty, "--max-order-qty"));
  set("maxOrderNotional", n(flags.maxOrderNotional, "--max-order-notional"));
  set("priceCollarBps", n(flags.priceCollarBps, "--price-collar-bps"));
  set("maxPosition", n(flags.maxPosition, "--max-position"));
  set("creditLimit", n(flags.creditLimit, "--credit-limit"));
  set("maxOrdersPerSecond", n(flags.maxOrdersPerSecond, "--max-orders-per-second"));
  return limits;
}

export async function createAccount(
  target: Target,
  name: string,
  flags: { displayName?: string; principal?: string[] } & LimitFlags,
): Promise<void> {
  const client = target.riskAdmin();
  const adminToken = target.adminToken();
  const res = await target.call("riskAdmin", adminToken, client.createAccount.bind(client), {
    account: {
      name,
      displayName: flags.displayName ?? "",
      disabled: false,
      principals: flags.principal ?? [name],
      defaultStpMode: 0,
      limits: undefined,
      revision: 0,
      createTime: undefined,
      updateTime: undefined,
    },
  });
  // Local mode keeps a token of each account in its state file, for the other commands.
  const local = target.state !== undefined && target.flags.endpoint === undefined;
  const token = local ? (await issue(target, name, "", "created by tradeplane accounts create")).secret : undefined;
  if (token !== undefined) rememberLocalToken(target, name, token);
  printResult(
    target.flags.json === true,
    { ...res, ...(token !== undefined ? { token } : {}) },
    `account ${name} created (revision ${res.account?.revision ?? 0})` +
      (token !== undefined ? `\ntoken ${token} (kept in ${target.stateFile})` : ""),
  );
}

export async function setLimits(target: Target, name: string, flags: LimitFlags): Promise<void> {
  const client = target.riskAdmin();
  const token = target.adminToken();
  const current = await target.call("riskAdmin", token, client.getLimits.bind(client), { account: name });
  const res = await target.call("riskAdmin", token, client.setLimits.bind(client), {
    account: name,
    limits: limitsFrom(flags),
    expectedRevision: current.revision,
  });
  printResult(target.flags.json === true, res, `limits of ${name} set (revision ${res.revision})`);
}

function issue(target: Target, account: string, principal: string, description: string) {
  const client = target.riskAdmin();
  return target.call("riskAdmin", target.adminToken(), client.issueToken.bind(client), {
    account,
    principal,
    description,
  });
}

/** Local mode: the account's token in the state file, where order commands find it. */
function rememberLocalToken(target: Target, account: string, token: string): void {
  const state = target.state!;
  writeState(target.stateFile, {
    ...state,
    accounts: [...state.accounts.filter((a) => a.name !== account), { name: account, token }],
  });
}

/** Issues an OrderEntry token for a principal of an account; prints the secret, once. */
export async function issueToken(
  target: Target,
  account: string,
  flags: { principal?: string; description?: string },
): Promise<void> {
  const res = await issue(target, account, flags.principal ?? "", flags.description ?? "");
  printResult(
    target.flags.json === true,
    res,
    `token ${res.token?.tokenId ?? ""} for principal ${res.token?.principal ?? ""} of account ${account}\n` +
      `${res.secret}\n(shown once: the venue keeps only its hash)`,
  );
}

export async function listTokens(target: Target, account: string): Promise<void> {
  const client = target.riskAdmin();
  const res = await target.call("riskAdmin", target.adminToken(), client.listTokens.bind(client), { account });
  printTable(
    target.flags.json === true,
    res,
    ["token id", "principal", "issued by", "created", "description"],
    res.tokens.map((t: ApiToken) => [
      t.tokenId,
      t.principal,
      t.issuedBy,
      t.createTime === undefined ? "" : new Date(t.createTime.seconds * 1_000).toISOString(),
      t.description,
    ]),
    `(no tokens for ${account})`,
  );
}

export async function revokeToken(target: Target, tokenId: string, flags: { reason?: string }): Promise<void> {
  const client = target.riskAdmin();
  const res = await target.call("riskAdmin", target.adminToken(), client.revokeToken.bind(client), {
    tokenId,
    reason: flags.reason ?? "",
  });
  printResult(target.flags.json === true, res, `token ${tokenId} of principal ${res.token?.principal ?? ""} revoked`);
}
