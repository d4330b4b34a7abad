import type { StrategyLimits } from "../controllers/strategy-accounts.ts";

/**
 * Whether an account's limits in the gateway differ from the StrategyDeployment's, so that
 * the operator sets them only then: SetLimits is a write to the venue's accounts bucket (a
 * new revision, an audit log line) and a steady state writes nothing. The StrategyDeployment
 * owns the account's limits as a whole (SetLimits replaces them): a collar or a restricted
 * instrument set by hand is drift, and is put back.
 */
export interface GatewayLimits {
  readonly maxOrderQty?: number | undefined;
  readonly maxOrderNotional?: number | undefined;
  readonly priceCollarBps?: number | undefined;
  readonly maxPosition?: number | undefined;
  readonly creditLimit?: number | undefined;
  readonly maxOrdersPerSecond?: number | undefined;
  readonly restrictedInstruments?: readonly string[] | undefined;
}

const OWNED = ["maxOrderQty", "maxOrderNotional", "maxPosition", "creditLimit", "maxOrdersPerSecond"] as const;

export function limitsDiffer(current: GatewayLimits | undefined, desired: StrategyLimits): boolean {
  const now = current ?? {};
  if (now.priceCollarBps !== undefined || (now.restrictedInstruments ?? []).length > 0) return true;
  return OWNED.some((field) => now[field] !== desired[field]);
}
