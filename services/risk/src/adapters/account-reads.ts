import type {
  GetAccountLimitsResponse,
  GetAccountPositionsResponse,
  Position as WirePosition,
  RiskLimits,
} from "@tradeplane/contracts";
import { NotFoundError } from "@tradeplane/platform";
import type { OrderProjection } from "@tradeplane/positions/order-projection";
import { unrealisedPnl } from "@tradeplane/positions/positions";
import { effectiveLimits, type LimitOverrides } from "@tradeplane/risk-checks/limits";
import type { AccountRegistry } from "./accounts.ts";

/**
 * What an account's own traders may read of it (OrderEntry.GetAccountPositions and
 * GetAccountLimits) and what RiskAdmin reads of any account: one rendering of positions
 * and limits for both, so a strategy sees the figures a risk officer sees.
 */
export interface AccountReadsDeps {
  readonly accounts: AccountRegistry;
  readonly projection: OrderProjection;
  readonly instruments: ReadonlyMap<string, { readonly notionalPerTickLot: number }>;
  readonly defaultLimits: LimitOverrides;
  /** Event stream sequence of the last event in the projection. */
  readonly eventStreamSeq: () => number;
}

/** The limits in force (venue defaults < account); absent = no limit at any level. */
export function wireEffective(defaults: LimitOverrides, own: LimitOverrides): RiskLimits {
  const l = effectiveLimits(defaults, own);
  const finite = (v: number): number | undefined => (Number.isFinite(v) ? v : undefined);
  return {
    maxOrderQty: finite(l.maxOrderQty),
    maxOrderNotional: finite(l.maxOrderNotional),
    priceCollarBps: finite(l.priceCollarBps),
    maxPosition: finite(l.maxPosition),
    creditLimit: finite(l.creditLimit),
    maxOrdersPerSecond: finite(l.maxOrdersPerSecond),
    restrictedInstruments: [...l.restricted].sort(),
  };
}

/**
 * Positions of `accounts` (ascending), each ascending by instrument, marked to the last
 * trade; `instrument` "" = all. Computed synchronously, so one call reads one state.
 */
export function wirePositions(
  deps: Pick<AccountReadsDeps, "projection" | "instruments">,
  accounts: readonly string[],
  instrument: string,
): WirePosition[] {
  const positions: WirePosition[] = [];
  for (const account of accounts)
    for (const [symbol, p] of [...deps.projection.positionsOf(account)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (instrument !== "" && symbol !== instrument) continue;
      // An entry made for a refused order only: nothing was ever traded or working.
      if (p.boughtQty === 0 && p.soldQty === 0 && p.openBuyQty === 0 && p.openSellQty === 0) continue;
      const mult = deps.instruments.get(symbol)?.notionalPerTickLot ?? 1;
      const mark = deps.projection.lastPrice(symbol) || p.markPrice;
      positions.push({
        account,
        instrument: symbol,
        netQty: p.netQty,
        boughtQty: p.boughtQty,
        soldQty: p.soldQty,
        openBuyQty: p.openBuyQty,
        openSellQty: p.openSellQty,
        openCost: p.openCost,
        markPrice: mark,
        realisedPnl: p.realisedPnl,
        unrealisedPnl: unrealisedPnl(p, mult, mark),
        openLots: [...p.lots],
      });
    }
  return positions;
}

/** The two OrderEntry reads of an account the caller has already been authorised for. */
export function accountReads(deps: AccountReadsDeps) {
  return {
    positions(account: string, instrument: string): GetAccountPositionsResponse {
      return {
        asOfSourceSequence: deps.eventStreamSeq(),
        asOfReportSequence: deps.projection.lastReportSequence(account),
        positions: wirePositions(deps, [account], instrument),
      };
    },
    limits(account: string): GetAccountLimitsResponse {
      const stored = deps.accounts.storedAccount(account);
      if (stored === undefined) throw new NotFoundError(`account ${account} not found`);
      return { effective: wireEffective(deps.defaultLimits, stored.record.limits), revision: stored.revision };
    },
  };
}
