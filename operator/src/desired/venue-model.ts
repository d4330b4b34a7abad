import { createHash } from "node:crypto";
import {
  API_VERSION,
  imagesSchema,
  partitionCount,
  type EnginePlacement,
  type TradingVenue,
  type VenueNatsTls,
} from "../api/v1alpha1/index.ts";
import { POD_PORTS, POD_SECRET_FILES, type Placement } from "./service-configs.ts";

/**
 * A TradingVenue parsed once into what every child builder needs: names, labels, images,
 * the owner reference and the pod placement. Builders take this model, never the raw
 * resource (Strimzi's `fromCrd`, then `generate*`).
 */

/** What the operator itself supplies: images, their pull Secrets and NATS when the spec does not say. */
export interface OperatorDefaults {
  readonly images: VenueImages;
  /** Names of the image pull Secrets of a venue that names none (--image-pull-secret). */
  readonly pullSecrets: readonly string[];
  readonly natsUrl: readonly string[];
}

export interface VenueImages {
  readonly engine: string;
  readonly risk: string;
  readonly marketData: string;
  readonly fixGateway: string;
  readonly journal: string;
}

/** "venue" labels objects every component shares (the admin token, the policies). */
export type Component = "engine" | "risk" | "market-data" | "fix-gateway" | "journal" | "venue";

/** Where Secrets are mounted in every venue pod (files, never environment variables). */
export const MOUNTS = {
  config: "/etc/tradeplane",
  configFile: "/etc/tradeplane/config.yaml",
  adminTokens: "/var/run/secrets/tradeplane/admin",
  nats: "/var/run/secrets/tradeplane/nats",
  /** The FIX gateway's session tokens, one file per session id. */
  fixSessionTokens: "/var/run/secrets/tradeplane/fix",
  natsCredsFile: "/var/run/secrets/tradeplane/nats/nats.creds",
  /** TLS to NATS: the CA as ca.crt, a client certificate as tls.crt and tls.key (POD_SECRET_FILES.natsTls). */
  natsTls: "/var/run/secrets/tradeplane/nats-tls",
  riskPeer: "/var/run/secrets/tradeplane/risk-peer",
  riskPeerTls: "/var/run/secrets/tradeplane/risk-peer-tls",
  tmp: "/tmp",
} as const;

export const NATS_CREDS_KEY = "nats.creds";
/** Keys of the admin tokens Secret: one token per admin role (docs/security.md). */
export const ADMIN_TOKEN_KEYS = ["venue-operator", "risk-officer", "read-only"] as const;
/** Key of the risk gateway replicas' peer token Secret (ADR 0003; only with several replicas). */
export const RISK_PEER_TOKEN_KEY = "peer-token";
export const NATS_CLIENT_PORT = 4222;

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller: true;
  readonly blockOwnerDeletion: true;
}

export interface VenueModel {
  readonly venue: TradingVenue;
  readonly name: string;
  readonly namespace: string;
  readonly owner: OwnerReference;
  readonly partitions: readonly number[];
  readonly engineReplicas: number;
  readonly images: VenueImages;
  readonly pullPolicy: "Always" | "IfNotPresent" | "Never";
  /** Names of the Secrets every venue pod pulls its image with; none = the nodes' own credentials. */
  readonly pullSecrets: readonly string[];
  readonly natsUrl: readonly string[];
  readonly natsCredentialsSecret: string | undefined;
  /** TLS to NATS, required when set: spec.nats.tls, or {} for a venue with a tls:// URL. */
  readonly natsTls: VenueNatsTls | undefined;
  readonly enginePlacement: EnginePlacement;
  /** What the generated service configs say about NATS, hosts and ports in a pod. */
  readonly placement: Placement;
}

export function venueModel(venue: TradingVenue, defaults: OperatorDefaults): VenueModel {
  const { spec, metadata } = venue;
  const natsCredentialsSecret = spec.nats.credentialsSecret;
  const natsUrl = spec.nats.url ?? defaults.natsUrl;
  const natsTls = natsTlsOf(spec.nats.tls, natsUrl);
  return {
    venue,
    name: metadata.name,
    namespace: metadata.namespace ?? "default",
    owner: ownerOf("TradingVenue", metadata),
    partitions: Array.from({ length: partitionCount(spec) }, (_, p) => p),
    engineReplicas: spec.engine.standby ? 2 : 1,
    images: {
      engine: spec.images.engine ?? defaults.images.engine,
      risk: spec.images.risk ?? defaults.images.risk,
      marketData: spec.images.marketData ?? defaults.images.marketData,
      fixGateway: spec.images.fixGateway ?? defaults.images.fixGateway,
      journal: spec.images.journal ?? defaults.images.journal,
    },
    pullPolicy: spec.images.pullPolicy ?? "IfNotPresent",
    pullSecrets: pullSecretsOf(spec.images, defaults),
    natsUrl,
    natsCredentialsSecret,
    natsTls,
    enginePlacement: spec.engine.placement ?? {},
    placement: {
      natsUrl,
      ...(natsCredentialsSecret !== undefined ? { natsCredsFile: MOUNTS.natsCredsFile } : {}),
      ...(natsTls !== undefined ? { natsTls: natsTlsFiles(natsTls) } : {}),
      // The admin tokens Secret is mounted at MOUNTS.adminTokens, one file per role.
      adminTokenFiles: POD_SECRET_FILES.adminTokenFiles,
      // Several risk replicas own accounts by lease and forward to each other (ADR 0003).
      ...(spec.risk.replicas > 1 ? { riskPeerTokenFile: POD_SECRET_FILES.riskPeerTokenFile } : {}),
      // ... over mutual TLS when the venue names a certificate Secret for it.
      ...(spec.risk.replicas > 1 && spec.risk.peerTlsSecret !== undefined
        ? { riskPeerTls: { ...POD_SECRET_FILES.riskPeerTls, serverName: names.riskPeerServerName(metadata.name) } }
        : {}),
      host: "0.0.0.0",
      ports: POD_PORTS,
    },
  };
}

/**
 * TLS to NATS for a venue's pods: what spec.nats.tls says, else required (against the
 * system's CAs) when a URL says tls://. nats.js ignores the scheme and would talk plaintext
 * to a server that offers no TLS; a user who wrote tls:// meant TLS.
 */
export function natsTlsOf(tls: VenueNatsTls | undefined, natsUrl: readonly string[]): VenueNatsTls | undefined {
  if (tls !== undefined) return tls;
  return natsUrl.some((url) => url.startsWith("tls://")) ? {} : undefined;
}

/**
 * The natsTls setting of a venue's services: the files of the mounted Secrets (paths only,
 * it goes into ConfigMaps); an empty object still requires TLS.
 */
function natsTlsFiles(tls: VenueNatsTls): NonNullable<Placement["natsTls"]> {
  const files = POD_SECRET_FILES.natsTls;
  return {
    ...(tls.caSecret !== undefined ? { caFile: files.caFile } : {}),
    ...(tls.clientCertSecret !== undefined ? { certFile: files.certFile, keyFile: files.keyFile } : {}),
  };
}

/**
 * The image pull Secrets of a venue's pods: the venue's own list when it has one (an empty
 * list too: a venue may opt out of the operator's), else the operator's.
 */
export function pullSecretsOf(
  images: { readonly pullSecrets?: readonly string[] | undefined },
  defaults: Pick<OperatorDefaults, "pullSecrets">,
): readonly string[] {
  return images.pullSecrets ?? defaults.pullSecrets;
}

/**
 * The image pull Secrets of a venue as the API server stores it, not parsed as a whole (a
 * strategy's venue, read from the cache): as pullSecretsOf, and the operator's while the
 * venue is missing or its images do not parse (the venue then is not ready, and its own
 * status says why).
 */
export function storedVenuePullSecrets(
  venue: { readonly [field: string]: unknown } | undefined,
  defaults: Pick<OperatorDefaults, "pullSecrets">,
): readonly string[] {
  const images = imagesSchema.safeParse((venue?.spec as { images?: unknown } | undefined)?.images ?? {});
  return pullSecretsOf(images.success ? images.data : {}, defaults);
}

export function ownerOf(kind: string, metadata: { name: string; uid?: unknown }): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind,
    name: metadata.name,
    uid: typeof metadata.uid === "string" ? metadata.uid : "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Names of a venue's children: one place, so builders, controllers and docs agree. */
export const names = {
  engine: (venue: string, partition: number) => `${venue}-engine-${partition}`,
  engineConfig: (venue: string, partition: number) => `${venue}-engine-${partition}-config`,
  risk: (venue: string) => `${venue}-risk`,
  riskConfig: (venue: string) => `${venue}-risk-config`,
  marketData: (venue: string) => `${venue}-market-data`,
  marketDataConfig: (venue: string) => `${venue}-market-data-config`,
  fixGateway: (venue: string) => `${venue}-fix-gateway`,
  fixGatewayConfig: (venue: string) => `${venue}-fix-gateway-config`,
  fixSessionTokens: (venue: string) => `${venue}-fix-session-tokens`,
  journal: (venue: string) => `${venue}-journal`,
  journalConfig: (venue: string) => `${venue}-journal-config`,
  journalData: (venue: string) => `${venue}-journal-data`,
  serviceAccount: (venue: string, component: Component) => `${venue}-${component}`,
  adminToken: (venue: string) => `${venue}-admin-tokens`,
  riskPeerToken: (venue: string) => `${venue}-risk-peer`,
  /** The DNS name the risk replicas' peer certificate must carry (spec.risk.peerTlsSecret). */
  riskPeerServerName: (venue: string) => `${venue}-risk-peer`,
  policy: (venue: string, what: string) => `${venue}-${what}`,
};

export const LABELS = {
  venue: "tradeplane.io/venue",
  partition: "tradeplane.io/partition",
  component: "app.kubernetes.io/component",
} as const;

export const ANNOTATIONS = {
  configHash: "tradeplane.io/config-hash",
  paused: "tradeplane.io/paused",
} as const;

/** Labels that select a component's pods (stable: a selector cannot change). */
export function selectorLabels(model: VenueModel, component: Component, partition?: number): Record<string, string> {
  return {
    [LABELS.venue]: model.name,
    [LABELS.component]: component,
    ...(partition !== undefined ? { [LABELS.partition]: String(partition) } : {}),
  };
}

/** Every label of a child object: the selector plus the recommended app.kubernetes.io set. */
export function labelsOf(model: VenueModel, component: Component, partition?: number): Record<string, string> {
  return {
    "app.kubernetes.io/name": `tradeplane-${component}`,
    "app.kubernetes.io/instance": model.name,
    "app.kubernetes.io/part-of": "tradeplane",
    "app.kubernetes.io/managed-by": "tradeplane-operator",
    ...selectorLabels(model, component, partition),
  };
}

export function metadataOf(
  model: VenueModel,
  name: string,
  component: Component,
  partition?: number,
): { name: string; namespace: string; labels: Record<string, string>; ownerReferences: OwnerReference[] } {
  return {
    name,
    namespace: model.namespace,
    labels: labelsOf(model, component, partition),
    ownerReferences: [model.owner],
  };
}

/** A short stable digest of a value: changes to a pod's inputs roll its pods. */
export function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}
