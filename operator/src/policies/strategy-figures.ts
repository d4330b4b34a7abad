import type { ConditionInput } from "../kube/conditions.ts";
import type { AccountPosition } from "../controllers/strategy-accounts.ts";

/**
 * A strategy's positions and P&L in status, and whether they are current. The figures come
 * from the venue's risk gateway; while it cannot be read (down, or the account not bound),
 * the last figures read stay in status and `PositionsCurrent=False` (reason
 * `PositionsStale`) says since when they are stale: zeros would read as a flat book. Pure.
 */
export interface StrategyFigures {
  readonly positions?: readonly {
    readonly symbol: string;
    readonly position: number;
    readonly realisedPnl?: number;
    readonly unrealisedPnl?: number;
  }[];
  readonly grossPosition?: number;
  readonly pnl?: { readonly realised?: number; readonly unrealised?: number; readonly total?: number };
}

export type PositionsRead =
  { readonly ok: true; readonly positions: readonly AccountPosition[] } | { readonly ok: false; readonly why: string };

/**
 * The figures of a strategy's positions, which may come from several venues (a strategy
 * across venues): status lists one row per symbol (the CRD keys its list by symbol), the
 * venues' positions and P&L in it added up; the gross position adds each venue's absolute
 * position, so a long on one venue and a short on the other do not cancel out there.
 */
export function figuresOf(positions: readonly AccountPosition[]): StrategyFigures {
  const realised = positions.reduce((n, p) => n + p.realisedPnl, 0);
  const unrealised = positions.reduce((n, p) => n + p.unrealisedPnl, 0);
  const bySymbol = new Map<string, { symbol: string; position: number; realisedPnl: number; unrealisedPnl: number }>();
  for (const p of positions) {
    const row = bySymbol.get(p.symbol) ?? { symbol: p.symbol, position: 0, realisedPnl: 0, unrealisedPnl: 0 };
    row.position += p.position;
    row.realisedPnl += p.realisedPnl;
    row.unrealisedPnl += p.unrealisedPnl;
    bySymbol.set(p.symbol, row);
  }
  return {
    positions: [...bySymbol.values()],
    grossPosition: positions.reduce((n, p) => n + Math.abs(p.position), 0),
    pnl: { realised, unrealised, total: realised + unrealised },
  };
}

/** The figures a status carries now (absent fields stay absent: never read). */
export function lastFigures(status: unknown): StrategyFigures {
  const s = (status ?? {}) as StrategyFigures;
  return {
    ...(s.positions !== undefined ? { positions: s.positions } : {}),
    ...(s.grossPosition !== undefined ? { grossPosition: s.grossPosition } : {}),
    ...(s.pnl !== undefined ? { pnl: s.pnl } : {}),
  };
}

export function positionsReport(
  read: PositionsRead,
  previous: StrategyFigures,
): { figures: StrategyFigures; condition: ConditionInput } {
  if (read.ok)
    return {
      figures: figuresOf(read.positions),
      condition: {
        type: "PositionsCurrent",
        status: "True",
        reason: "Read",
        message: "positions and P&L as the risk gateway last reported them",
      },
    };
  const kept = previous.positions !== undefined;
  return {
    figures: previous,
    condition: {
      type: "PositionsCurrent",
      status: "False",
      reason: "PositionsStale",
      message: kept
        ? `the risk gateway cannot be read (${read.why}): positions and P&L are as last read, at this condition's lastTransitionTime`
        : `the risk gateway cannot be read (${read.why}): no positions read yet`,
    },
  };
}
