import { POD_JOURNAL_DATABASE_URL_DIR, POD_JOURNAL_PGLITE_DIR, POD_PORTS } from "./service-configs.ts";
import { configHash, marketDataConfigMap, riskConfigMap, type ConfigMap } from "./config-maps.ts";
import { fixSessionTokenIds, type FixSessionTokens } from "./secrets.ts";
import {
  containerSecurityContext,
  envOf,
  imagePullSecretsOf,
  natsVolumeMountsOf,
  natsVolumesOf,
  SECRET_MODE,
  podSecurityContext,
  probesOn,
  volumeMountsOf,
  volumesOf,
} from "./pod-templates.ts";
import {
  ANNOTATIONS,
  hashOf,
  labelsOf,
  metadataOf,
  MOUNTS,
  names,
  selectorLabels,
  type Component,
  type VenueModel,
} from "./venue-model.ts";

/** Secret files are readable by the pod's user only (as pod-templates' SECRET_MODE). */
const RISK_PEER_SECRET_MODE = 0o440;

/**
 * The risk gateway and market-data Deployments. Both are stateless readers of the log
 * (every limit is venue-wide), so they roll freely: one extra pod at a time, none down.
 */

interface DeploymentInput {
  readonly component: Component;
  readonly name: string;
  readonly configMap: string;
  readonly hash: string;
  readonly replicas: number;
  readonly image: string;
  readonly ports: readonly { name: string; containerPort: number }[];
  readonly cpu: string;
  readonly memory: string;
  /** Default: rolling, one extra pod at a time, none down. */
  readonly strategy?: { readonly type: "Recreate" };
  /** Default: the config, /tmp, the admin tokens and the NATS credentials and TLS Secrets. */
  readonly volumes?: { readonly volumes: readonly object[]; readonly mounts: readonly object[] };
  /** More of the container's environment, volumes and mounts (the risk replicas' peer settings). */
  readonly extra?: {
    readonly env: readonly object[];
    readonly volumes: readonly object[];
    readonly volumeMounts: readonly object[];
  };
}

function deployment(model: VenueModel, input: DeploymentInput) {
  return {
    apiVersion: "apps/v1" as const,
    kind: "Deployment" as const,
    metadata: metadataOf(model, input.name, input.component),
    spec: {
      replicas: input.replicas,
      selector: { matchLabels: selectorLabels(model, input.component) },
      strategy: input.strategy ?? { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: labelsOf(model, input.component),
          annotations: { [ANNOTATIONS.configHash]: input.hash },
        },
        spec: {
          serviceAccountName: names.serviceAccount(model.name, input.component),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext,
          ...imagePullSecretsOf(model.pullSecrets),
          containers: [
            {
              name: input.component,
              image: input.image,
              imagePullPolicy: model.pullPolicy,
              env: [...envOf(), ...(input.extra?.env ?? [])],
              ports: input.ports.map((p) => ({ ...p, protocol: "TCP" })),
              resources: {
                requests: { cpu: input.cpu, memory: input.memory },
                limits: { memory: input.memory },
              },
              securityContext: containerSecurityContext,
              volumeMounts: [...(input.volumes?.mounts ?? volumeMountsOf(model)), ...(input.extra?.volumeMounts ?? [])],
              ...probesOn("ops"),
            },
          ],
          volumes: [...(input.volumes?.volumes ?? volumesOf(model, input.configMap)), ...(input.extra?.volumes ?? [])],
        },
      },
    },
  };
}

export function riskDeployment(model: VenueModel) {
  const peers = model.placement.riskPeerTokenFile !== undefined;
  return deployment(model, {
    component: "risk",
    name: names.risk(model.name),
    configMap: names.riskConfig(model.name),
    hash: configHash(riskConfigMap(model)),
    replicas: model.venue.spec.risk.replicas,
    image: model.images.risk,
    ports: [
      { name: "grpc", containerPort: POD_PORTS.riskGrpc },
      { name: "ops", containerPort: POD_PORTS.riskOps },
      ...(peers ? [{ name: "peer", containerPort: POD_PORTS.riskPeer }] : []),
    ],
    cpu: "500m",
    memory: "512Mi",
    ...(peers ? { extra: riskPeerSettings(model) } : {}),
  });
}

/**
 * What several risk replicas need to forward to each other (ADR 0003): the pod's own IP as
 * its peer address (the downward API; an address, not a name, so no headless Service and no
 * DNS wait at start), the peer token Secret as a file, and the peer TLS Secret when the venue
 * names one.
 */
function riskPeerSettings(model: VenueModel) {
  // The certificate Secret for mutual TLS between the replicas (cert-manager's keys), when named.
  const tls = model.venue.spec.risk.peerTlsSecret;
  return {
    env: [
      { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
      { name: "TP_PEER_ADDRESS", value: `$(POD_IP):${POD_PORTS.riskPeer}` },
    ],
    volumes: [
      {
        name: "risk-peer",
        secret: { secretName: names.riskPeerToken(model.name), defaultMode: RISK_PEER_SECRET_MODE },
      },
      ...(tls === undefined
        ? []
        : [{ name: "risk-peer-tls", secret: { secretName: tls, defaultMode: RISK_PEER_SECRET_MODE } }]),
    ],
    volumeMounts: [
      { name: "risk-peer", mountPath: MOUNTS.riskPeer, readOnly: true },
      ...(tls === undefined ? [] : [{ name: "risk-peer-tls", mountPath: MOUNTS.riskPeerTls, readOnly: true }]),
    ],
  };
}

export function marketDataDeployment(model: VenueModel) {
  return deployment(model, {
    component: "market-data",
    name: names.marketData(model.name),
    configMap: names.marketDataConfig(model.name),
    hash: configHash(marketDataConfigMap(model)),
    replicas: model.venue.spec.marketData.replicas,
    image: model.images.marketData,
    ports: [
      { name: "grpc", containerPort: POD_PORTS.marketDataGrpc },
      { name: "ws", containerPort: POD_PORTS.marketDataWs },
      { name: "ops", containerPort: POD_PORTS.marketDataOps },
    ],
    cpu: "250m",
    memory: "512Mi",
  });
}

/**
 * The FIX gateway: one replica, replaced not rolled (Recreate). A FIX session is one TCP
 * connection whose sequence numbers live in the venue's FIX bucket; two gateways at once
 * would both accept a client's Logon and write the same session's sequences, so the old pod
 * stops (and flushes its store) before the new one starts. It mounts its session tokens and
 * the NATS credentials and TLS Secrets, not the admin tokens: it faces clients and needs no
 * admin call. The pods roll when the config or the set of tokens changes (the gateway reads
 * both at start).
 */
export function fixGatewayDeployment(model: VenueModel, config: ConfigMap, tokens: FixSessionTokens) {
  return deployment(model, {
    component: "fix-gateway",
    name: names.fixGateway(model.name),
    configMap: config.metadata.name,
    hash: hashOf({ config: config.data, tokens: fixSessionTokenIds(tokens) }),
    replicas: 1,
    image: model.images.fixGateway,
    ports: [
      { name: "fix", containerPort: POD_PORTS.fix },
      { name: "ops", containerPort: POD_PORTS.fixOps },
    ],
    cpu: "250m",
    memory: "256Mi",
    strategy: { type: "Recreate" },
    volumes: {
      volumes: [
        { name: "config", configMap: { name: config.metadata.name } },
        { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
        {
          name: "session-tokens",
          secret: { secretName: names.fixSessionTokens(model.name), defaultMode: SECRET_MODE },
        },
        ...natsVolumesOf(model),
      ],
      mounts: [
        { name: "config", mountPath: MOUNTS.config, readOnly: true },
        { name: "tmp", mountPath: MOUNTS.tmp },
        { name: "session-tokens", mountPath: MOUNTS.fixSessionTokens, readOnly: true },
        ...natsVolumeMountsOf(model),
      ],
    },
  });
}

/**
 * The journal: one replica, replaced not rolled (Recreate), because its projector is the
 * single writer of the journal database. It follows the event stream from the resume
 * position stored in the database and commits each batch with the new position; a second
 * projector on the same database would read the same position, project the same messages
 * again (harmless rows, ON CONFLICT DO NOTHING) and race to move the position, doubling the
 * database's write load for nothing; an embedded PGlite database is one process's files.
 * Queries scale with the database, not with pods. The database URL is a file from the
 * Secret spec.journal.databaseUrlSecret names (only its key), never a value in the pod spec
 * or the ConfigMap; without one, PGlite lives on the journal's volume. The admin tokens
 * authenticate JournalQuery callers.
 */
export function journalDeployment(model: VenueModel, config: ConfigMap) {
  const database = model.venue.spec.journal.databaseUrlSecret;
  return deployment(model, {
    component: "journal",
    name: names.journal(model.name),
    configMap: config.metadata.name,
    // The Secret's name and key are inputs too: pointing at another Secret rolls the pod.
    hash: hashOf({ config: config.data, database: database ?? null }),
    replicas: 1,
    image: model.images.journal,
    ports: [
      { name: "grpc", containerPort: POD_PORTS.journalGrpc },
      { name: "ops", containerPort: POD_PORTS.journalOps },
    ],
    cpu: "250m",
    memory: "512Mi",
    strategy: { type: "Recreate" },
    volumes: {
      volumes: [
        ...volumesOf(model, config.metadata.name),
        database !== undefined
          ? {
              name: "database-url",
              secret: {
                secretName: database.name,
                defaultMode: SECRET_MODE,
                items: [{ key: database.key, path: database.key }],
              },
            }
          : { name: "journal-data", persistentVolumeClaim: { claimName: names.journalData(model.name) } },
      ],
      mounts: [
        ...volumeMountsOf(model),
        database !== undefined
          ? { name: "database-url", mountPath: POD_JOURNAL_DATABASE_URL_DIR, readOnly: true }
          : { name: "journal-data", mountPath: POD_JOURNAL_PGLITE_DIR },
      ],
    },
  });
}

export type VenueDeployment = ReturnType<typeof riskDeployment>;
