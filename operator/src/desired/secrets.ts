import { ADMIN_TOKEN_KEYS, metadataOf, names, RISK_PEER_TOKEN_KEY, type VenueModel } from "./venue-model.ts";

/** Annotation of the FIX session tokens Secret: each session's token id and account (no secret). */
export const FIX_SESSION_TOKENS_ANNOTATION = "tradeplane.io/fix-session-tokens";

/**
 * The venue's admin tokens Secret: one token per admin role, each a file of the Secret
 * volume every venue pod mounts (the services read them by path; nothing secret is in a
 * ConfigMap or the environment). The tokens are generated once by the controller (passed
 * in, so the builder stays pure) and kept from then on: the controller passes the existing
 * values back in, so applying the Secret again changes nothing.
 */
export type AdminTokens = Readonly<Record<(typeof ADMIN_TOKEN_KEYS)[number], string>>;

export function adminTokenSecret(model: VenueModel, tokens: AdminTokens) {
  return {
    apiVersion: "v1" as const,
    kind: "Secret" as const,
    metadata: metadataOf(model, names.adminToken(model.name), "venue"),
    type: "Opaque",
    immutable: true,
    data: Object.fromEntries(ADMIN_TOKEN_KEYS.map((k) => [k, Buffer.from(tokens[k], "utf8").toString("base64")])),
  };
}

/** One FIX session's OrderEntry token, issued through RiskAdmin IssueToken for its account. */
export interface FixSessionToken {
  readonly tokenId: string;
  readonly account: string;
  readonly token: string;
}

/** Session id -> its token. */
export type FixSessionTokens = ReadonlyMap<string, FixSessionToken>;

/**
 * The FIX gateway's session tokens: one key per session id, each a file the gateway reads
 * once at start (its config names the file, never the token). Not immutable: sessions come
 * and go with the spec. The annotation keeps each token's id and account, so the controller
 * can revoke a token whose session is gone or moved to another account.
 */
export function fixSessionTokenSecret(model: VenueModel, tokens: FixSessionTokens) {
  const ids = [...tokens.keys()].sort();
  return {
    apiVersion: "v1" as const,
    kind: "Secret" as const,
    metadata: {
      ...metadataOf(model, names.fixSessionTokens(model.name), "fix-gateway"),
      annotations: { [FIX_SESSION_TOKENS_ANNOTATION]: JSON.stringify(fixSessionTokenIds(tokens)) },
    },
    type: "Opaque",
    data: Object.fromEntries(ids.map((id) => [id, Buffer.from(tokens.get(id)!.token, "utf8").toString("base64")])),
  };
}

/** What the annotation holds: session id -> token id and account, sorted by session id. */
export function fixSessionTokenIds(tokens: FixSessionTokens): Record<string, { tokenId: string; account: string }> {
  return Object.fromEntries(
    [...tokens.keys()].sort().map((id) => [id, { tokenId: tokens.get(id)!.tokenId, account: tokens.get(id)!.account }]),
  );
}

/**
 * The risk gateway replicas' shared peer token (ADR 0003): the credential of GatewayPeer
 * calls between replicas, mounted in the risk pods only, and only when the venue runs several
 * replicas. Generated once by the controller like the admin tokens.
 */
export function riskPeerTokenSecret(model: VenueModel, token: string) {
  return {
    apiVersion: "v1" as const,
    kind: "Secret" as const,
    metadata: metadataOf(model, names.riskPeerToken(model.name), "risk"),
    type: "Opaque",
    immutable: true,
    data: { [RISK_PEER_TOKEN_KEY]: Buffer.from(token, "utf8").toString("base64") },
  };
}
