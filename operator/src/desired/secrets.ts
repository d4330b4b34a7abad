import { ADMIN_TOKEN_KEY, metadataOf, names, type VenueModel } from "./venue-model.ts";

/**
 * The venue's admin token Secret. The token is generated once by the controller (the
 * builder takes it, so the builder stays pure) and kept from then on: the controller
 * passes the existing value back in, so applying it again changes nothing.
 */
export function adminTokenSecret(model: VenueModel, token: string) {
  return {
    apiVersion: "v1" as const,
    kind: "Secret" as const,
    metadata: metadataOf(model, names.adminToken(model.name), "venue"),
    type: "Opaque",
    immutable: true,
    data: { [ADMIN_TOKEN_KEY]: Buffer.from(token, "utf8").toString("base64") },
  };
}
