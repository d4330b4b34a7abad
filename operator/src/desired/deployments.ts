import { POD_PORTS } from "./service-configs.ts";
import { configHash, marketDataConfigMap, riskConfigMap } from "./config-maps.ts";
import {
  containerSecurityContext,
  envOf,
  podSecurityContext,
  probesOn,
  volumeMountsOf,
  volumesOf,
} from "./pod-templates.ts";
import {
  ANNOTATIONS,
  MOUNTS,
  labelsOf,
  metadataOf,
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
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
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
              volumeMounts: [...volumeMountsOf(model), ...(input.extra?.volumeMounts ?? [])],
              ...probesOn("ops"),
            },
          ],
          volumes: [...volumesOf(model, input.configMap), ...(input.extra?.volumes ?? [])],
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
 * DNS wait at start), and the peer token Secret as a file.
 */
function riskPeerSettings(model: VenueModel) {
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
    ],
    volumeMounts: [{ name: "risk-peer", mountPath: MOUNTS.riskPeer, readOnly: true }],
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

export type VenueDeployment = ReturnType<typeof riskDeployment>;
