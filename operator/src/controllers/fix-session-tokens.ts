import type { TradingVenueSpec } from "../api/v1alpha1/index.ts";
import { FIX_SESSION_TOKENS_ANNOTATION, type FixSessionToken, type FixSessionTokens } from "../desired/secrets.ts";
import type { KubeObject } from "../kube/kube-object.ts";
import type { Problem } from "../policies/venue-conditions.ts";
import type { StrategyAccounts, VenueRef } from "./strategy-accounts.ts";

/**
 * The FIX gateway's session tokens: one OrderEntry token per session, issued through the
 * venue's RiskAdmin API for the session's account and kept in the venue's session tokens
 * Secret. A session removed from the spec, or moved to another account, has its token
 * revoked; with FIX disabled every token is. Each token is issued with a label naming its
 * session, so one issued and then lost (the Secret deleted by hand, a crash between issuing
 * and storing) is found and revoked before its replacement is issued: no valid token is left
 * in nobody's keeping, as for strategies.
 */

/** The part of StrategyAccounts this needs: the token RPCs. */
export type SessionTokenIssuer = Pick<StrategyAccounts, "issueToken" | "tokens" | "revokeToken">;

export interface FixTokensState {
  /** Tokens to keep in the Secret: every issued token not yet revoked. */
  readonly tokens: FixSessionTokens;
  /** Every session of an enabled gateway has its token: the gateway can start. */
  readonly allIssued: boolean;
  /** Why not, for FixGatewayReady; null when nothing failed. */
  readonly problem: Problem | null;
}

export interface FixTokenEvents {
  issued(sessionId: string, tokenId: string, account: string): Promise<void>;
  revoked(sessionId: string, tokenId: string, why: string): Promise<void>;
}

/** The label a session's tokens are issued with: how they are found again. */
export const fixSessionTokenLabel = (at: VenueRef, sessionId: string) =>
  `fix session ${at.namespace}/${at.venue}/${sessionId}`;

/** The tokens a session tokens Secret holds (its data, and the annotation for ids and accounts). */
export function storedFixSessionTokens(secret: KubeObject | undefined): Map<string, FixSessionToken> {
  const tokens = new Map<string, FixSessionToken>();
  if (secret === undefined) return tokens;
  let ids: Record<string, { tokenId?: unknown; account?: unknown }> = {};
  try {
    ids = JSON.parse(secret.metadata.annotations?.[FIX_SESSION_TOKENS_ANNOTATION] ?? "{}") as typeof ids;
  } catch {
    // An annotation edited by hand: its tokens are found by label and replaced.
  }
  const data = (secret.data ?? {}) as Record<string, string>;
  for (const [id, meta] of Object.entries(ids)) {
    const value = data[id];
    if (value === undefined || typeof meta.tokenId !== "string" || typeof meta.account !== "string") continue;
    tokens.set(id, {
      tokenId: meta.tokenId,
      account: meta.account,
      token: Buffer.from(value, "base64").toString("utf8"),
    });
  }
  return tokens;
}

export async function reconcileFixSessionTokens(
  issuer: SessionTokenIssuer,
  events: FixTokenEvents,
  at: VenueRef,
  fix: TradingVenueSpec["fix"],
  stored: ReadonlyMap<string, FixSessionToken>,
): Promise<FixTokensState> {
  const kept = new Map(stored);
  const wanted = new Map(fix.enabled ? fix.sessions.map((s) => [s.id, s.account] as const) : []);
  const state = (problem: Problem | null): FixTokensState => ({
    tokens: kept,
    allIssued: fix.enabled && problem === null && [...wanted.keys()].every((id) => kept.has(id)),
    problem,
  });
  try {
    for (const [id, token] of stored) {
      const account = wanted.get(id);
      if (account === token.account) continue;
      const why = account === undefined ? "its session is gone" : `its session moved to account ${account}`;
      await issuer.revokeToken(at, token.account, token.tokenId);
      kept.delete(id);
      await events.revoked(id, token.tokenId, why);
    }
    for (const [id, account] of wanted) {
      if (kept.has(id)) continue;
      const label = fixSessionTokenLabel(at, id);
      for (const lost of await issuer.tokens(at, account))
        if (lost.description === label) {
          await issuer.revokeToken(at, account, lost.id);
          await events.revoked(id, lost.id, "its Secret was lost");
        }
      const issued = await issuer.issueToken(at, account, label);
      kept.set(id, { tokenId: issued.id, account, token: issued.token });
      await events.issued(id, issued.id, account);
    }
    return state(null);
  } catch (err) {
    return state({ reason: "SessionTokensFailed", message: `session tokens: ${(err as Error).message}` });
  }
}
