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
  labelsOf,
  metadataOf,
  names,
  selectorLabels,
  type Component,
  type VenueModel,
} from "./venue-model.ts";

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
              env: envOf(),
              ports: input.ports.map((p) => ({ ...p, protocol: "TCP" })),
              resources: {
                requests: { cpu: input.cpu, memory: input.memory },
                limits: { memory: input.memory },
              },
              securityContext: containerSecurityContext,
              volumeMounts: volumeMountsOf(model),
              ...probesOn("ops"),
            },
          ],
          volumes: volumesOf(model, input.configMap),
        },
      },
    },
  };
}

export function riskDeployment(model: VenueModel) {
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
    ],
    cpu: "500m",
    memory: "512Mi",
  });
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
