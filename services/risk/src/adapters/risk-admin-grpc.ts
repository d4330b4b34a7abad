import type { Metadata } from "@grpc/grpc-js";
import type { KV } from "@nats-io/kv";
import {
  CancelReason,
  KillSwitchScope,
  type KillSwitch,
  type Position as WirePosition,
  type RiskAdminServer,
} from "@tradeplane/contracts";
import {
  authoriseAdmin,
  NotFoundError,
  NotImplementedError,
  timestampOfMs,
  unaryHandler,
  ValidationError,
  type CommandLogWriter,
  type Logger,
} from "@tradeplane/platform";
import type { OrderProjection } from "../domain/order-projection.ts";
import { unrealisedPnl } from "../domain/positions.ts";
import { AccountRegistry, type KillSwitchRecord } from "./accounts.ts";
import { cancelEverywhere } from "./cancel-all.ts";
import type { InstrumentInfo } from "./order-entry-grpc.ts";

export interface RiskAdminDeps {
  readonly instanceId: string;
  readonly kv: KV;
  readonly accounts: AccountRegistry;
  readonly projection: OrderProjection;
  readonly instruments: ReadonlyMap<string, InstrumentInfo>;
  readonly log: CommandLogWriter;
  readonly adminToken: string | undefined;
  readonly logger: Logger;
}

/**
 * RiskAdmin, the operator's side: positions from the projection, and kill switches. Engaging
 * one stores it (so every gateway replica refuses new orders at once) and writes a mass
 * cancel per partition with reason KILL_SWITCH; releasing it lets orders in again.
 * Account management is done by writing the accounts bucket (CLI, operator) for now.
 */
export function riskAdminService(deps: RiskAdminDeps): RiskAdminServer {
  const unary = <Req, Res>(handler: (req: Req, metadata: Metadata) => Promise<Res> | Res) =>
    unaryHandler(deps.logger, handler);
  const unimplemented = unary(() => {
    throw new NotImplementedError("not served yet: manage accounts and limits through the accounts KV bucket");
  });

  const which = (scope: KillSwitchScope, account: string): string => {
    if (scope === KillSwitchScope.VENUE) return "venue";
    if (scope !== KillSwitchScope.ACCOUNT)
      throw new ValidationError("scope is required", [{ path: "scope", message: "ACCOUNT or VENUE" }]);
    if (deps.accounts.account(account) === undefined) throw new NotFoundError(`no account ${account}`);
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
    createAccount: unimplemented,
    getAccount: unimplemented,
    listAccounts: unimplemented,
    updateAccount: unimplemented,
    deleteAccount: unimplemented,
    getLimits: unimplemented,
    setLimits: unimplemented,
    getPositions: unary((req, metadata) => {
      authoriseAdmin(metadata, deps.adminToken);
      const positions: WirePosition[] = [];
      for (const [instrument, p] of deps.projection.positionsOf(req.account)) {
        if (req.instrument !== "" && instrument !== req.instrument) continue;
        const mult = deps.instruments.get(instrument)?.notionalPerTickLot ?? 1;
        const mark = deps.projection.lastPrice(instrument) || p.markPrice;
        positions.push({
          account: req.account,
          instrument,
          netQty: p.netQty,
          boughtQty: p.boughtQty,
          soldQty: p.soldQty,
          openBuyQty: p.openBuyQty,
          openSellQty: p.openSellQty,
          openCost: p.openCost,
          markPrice: mark,
          realisedPnl: p.realisedPnl,
          unrealisedPnl: unrealisedPnl(p, mult, mark),
        });
      }
      return { positions, asOfSourceSequence: deps.projection.position.commandSeq };
    }),
    engageKillSwitch: unary(async (req, metadata) => {
      const principal = authoriseAdmin(metadata, deps.adminToken);
      if (req.reason.trim() === "")
        throw new ValidationError("reason is required", [{ path: "reason", message: "required" }]);
      const key = which(req.scope, req.account);
      const record: KillSwitchRecord = { reason: req.reason, changedBy: principal, changeTimeMs: Date.now() };
      await AccountRegistry.setKillSwitch(deps.kv, key, record);
      const commands = req.keepOpenOrders
        ? []
        : await cancelEverywhere(
            deps.log,
            [...deps.instruments.values()].map((i) => i.partition),
            {
              account: key === "venue" ? principal : req.account,
              allAccounts: key === "venue",
              reason: CancelReason.KILL_SWITCH,
              source: deps.instanceId,
            },
          );
      deps.logger.warn({ killSwitch: key, principal, reason: req.reason }, "kill switch engaged");
      return { killSwitch: wire(key, record), commands };
    }),
    releaseKillSwitch: unary(async (req, metadata) => {
      const principal = authoriseAdmin(metadata, deps.adminToken);
      const key = which(req.scope, req.account);
      await AccountRegistry.setKillSwitch(deps.kv, key, undefined);
      deps.logger.warn({ killSwitch: key, principal, reason: req.reason }, "kill switch released");
      return { killSwitch: wire(key, undefined) };
    }),
    listKillSwitches: unary((_req, metadata) => {
      authoriseAdmin(metadata, deps.adminToken);
      return { killSwitches: deps.accounts.engagedKillSwitches().map(([key, record]) => wire(key, record)) };
    }),
  };
}
