/**
 * What the StrategyDeployment controller needs from a venue's risk gateway, as a port:
 * the account and its limits (RiskAdmin), the kill switch that `paused` engages, the
 * positions for status, and the account's trading tokens (issued, listed by label, revoked).
 * RiskAdminAccounts implements it over the gateway's RiskAdmin gRPC API.
 */
export interface StrategyLimits {
  readonly maxOrderQty?: number | undefined;
  readonly maxOrderNotional?: number | undefined;
  readonly maxPosition?: number | undefined;
  readonly creditLimit?: number | undefined;
  readonly maxOrdersPerSecond?: number | undefined;
}

export interface AccountPosition {
  readonly symbol: string;
  readonly position: number;
  readonly realisedPnl: number;
  readonly unrealisedPnl: number;
}

export interface VenueRef {
  readonly namespace: string;
  readonly venue: string;
}

export interface IssuedToken {
  readonly id: string;
  readonly token: string;
}

export interface AccountToken {
  readonly id: string;
  /** The label it was issued with. */
  readonly description: string;
}

export interface StrategyAccounts {
  /** Creates the account when missing and sets its limits (idempotent). */
  ensureAccount(at: VenueRef, account: string, limits: StrategyLimits): Promise<void>;
  setKillSwitch(at: VenueRef, account: string, engaged: boolean, reason: string): Promise<void>;
  positions(at: VenueRef, account: string): Promise<AccountPosition[]>;
  issueToken(at: VenueRef, account: string, label: string): Promise<IssuedToken>;
  /** The account's live tokens (ids and labels, never secrets). */
  tokens(at: VenueRef, account: string): Promise<AccountToken[]>;
  revokeToken(at: VenueRef, account: string, id: string): Promise<void>;
  /** Closes what is open to the venue's gateway (the venue is deleted); a later call reopens it. */
  release(at: VenueRef): void;
}
