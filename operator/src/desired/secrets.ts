import { ADMIN_TOKEN_KEYS, metadataOf, names, RISK_PEER_TOKEN_KEY, type VenueModel } from "./venue-model.ts";

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
