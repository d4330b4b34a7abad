import { stringify } from "yaml";
import type { StrategyDeployment } from "../api/v1alpha1/index.ts";
import { POD_PORTS } from "./service-configs.ts";
import { containerSecurityContext, podSecurityContext, probesOn } from "./pod-templates.ts";
import { ANNOTATIONS, hashOf, names, ownerOf, type OwnerReference } from "./venue-model.ts";

/**
 * What a StrategyDeployment runs: one Deployment of the strategy runtime (or the user's
 * image) with its config in a ConfigMap and its trading token in a Secret, both mounted as
 * files. `paused` scales it to zero (the controller also engages the account's kill
 * switch). Pure: the token comes from the controller, which had it issued by the gateway.
 */

export interface StrategyModel {
  readonly strategy: StrategyDeployment;
  readonly name: string;
  readonly namespace: string;
  readonly owner: OwnerReference;
  readonly image: string;
  readonly pullPolicy: "Always" | "IfNotPresent" | "Never";
}

export const STRATEGY_MOUNTS = {
  config: "/etc/tradeplane",
  configFile: "/etc/tradeplane/config.yaml",
  /** The StrategyDeployment itself, which the runtime reads its strategy, account and instruments from. */
  specFile: "/etc/tradeplane/strategy.yaml",
  token: "/var/run/secrets/tradeplane/strategy",
  tokenFile: "/var/run/secrets/tradeplane/strategy/token",
} as const;

export const STRATEGY_OPS_PORT = 9467;

export const strategyNames = {
  workload: (name: string) => `${name}-strategy`,
  config: (name: string) => `${name}-strategy-config`,
  token: (name: string) => `${name}-strategy-token`,
};

export function strategyModel(strategy: StrategyDeployment, runtimeImage: string): StrategyModel {
  const custom = "image" in strategy.spec.strategy ? strategy.spec.strategy.image : undefined;
  return {
    strategy,
    name: strategy.metadata.name,
    namespace: strategy.metadata.namespace ?? "default",
    owner: ownerOf("StrategyDeployment", strategy.metadata),
    image: custom ?? runtimeImage,
    pullPolicy: "IfNotPresent",
  };
}

function metadataOf(model: StrategyModel, name: string) {
  return {
    name,
    namespace: model.namespace,
    labels: {
      "app.kubernetes.io/name": "tradeplane-strategy",
      "app.kubernetes.io/instance": model.name,
      "app.kubernetes.io/part-of": "tradeplane",
      "app.kubernetes.io/managed-by": "tradeplane-operator",
      "app.kubernetes.io/component": "strategy",
      "tradeplane.io/strategy": model.name,
      "tradeplane.io/venue": model.strategy.spec.venueRef.name,
    },
    ownerReferences: [model.owner],
  };
}

/** The strategy's config file: where to trade, as whom, what; never its token. */
/**
 * The strategy runtime's configuration (services/strategy-runtime's config schema): where
 * the StrategyDeployment and the token are mounted and where the venue's services are. A
 * user image gets the same two files.
 */
export function strategyConfig(model: StrategyModel) {
  const venue = model.strategy.spec.venueRef.name;
  return {
    specFile: STRATEGY_MOUNTS.specFile,
    tokenFile: STRATEGY_MOUNTS.tokenFile,
    orderEntry: `${names.risk(venue)}.${model.namespace}.svc:${POD_PORTS.riskGrpc}`,
    marketData: `${names.marketData(venue)}.${model.namespace}.svc:${POD_PORTS.marketDataGrpc}`,
    opsPort: STRATEGY_OPS_PORT,
  };
}

/** The StrategyDeployment as the runtime reads it: its name and spec (no status, no server fields). */
export function strategyManifest(model: StrategyModel) {
  const { strategy } = model;
  return {
    apiVersion: strategy.apiVersion,
    kind: strategy.kind,
    metadata: { name: strategy.metadata.name, namespace: model.namespace },
    spec: strategy.spec,
  };
}

export function strategyConfigMap(model: StrategyModel) {
  return {
    apiVersion: "v1" as const,
    kind: "ConfigMap" as const,
    metadata: metadataOf(model, strategyNames.config(model.name)),
    data: {
      "config.yaml": stringify(strategyConfig(model), { lineWidth: 0 }),
      "strategy.yaml": stringify(strategyManifest(model), { lineWidth: 0 }),
    },
  };
}

export const TOKEN_ID_ANNOTATION = "tradeplane.io/token-id";

export interface StrategyToken {
  readonly id: string;
  readonly token: string;
}

/** The token Secret; it names the token's id (not secret) so that deleting can revoke it. */
export function strategyTokenSecret(model: StrategyModel, issued: StrategyToken) {
  return {
    apiVersion: "v1" as const,
    kind: "Secret" as const,
    metadata: {
      ...metadataOf(model, strategyNames.token(model.name)),
      annotations: { [TOKEN_ID_ANNOTATION]: issued.id },
    },
    type: "Opaque",
    data: { token: Buffer.from(issued.token, "utf8").toString("base64") },
  };
}

export function strategyServiceAccount(model: StrategyModel) {
  return {
    apiVersion: "v1" as const,
    kind: "ServiceAccount" as const,
    metadata: metadataOf(model, strategyNames.workload(model.name)),
    automountServiceAccountToken: false,
  };
}

export function strategyDeployment(model: StrategyModel) {
  const selector = { "tradeplane.io/strategy": model.name, "app.kubernetes.io/component": "strategy" };
  const meta = metadataOf(model, strategyNames.workload(model.name));
  return {
    apiVersion: "apps/v1" as const,
    kind: "Deployment" as const,
    metadata: meta,
    spec: {
      replicas: model.strategy.spec.paused ? 0 : 1,
      // One instance trades the account at a time: never two during a roll.
      strategy: { type: "Recreate" },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: meta.labels,
          annotations: { [ANNOTATIONS.configHash]: hashOf([strategyConfig(model), strategyManifest(model)]) },
        },
        spec: {
          serviceAccountName: strategyNames.workload(model.name),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext,
          containers: [
            {
              name: "strategy",
              image: model.image,
              imagePullPolicy: model.pullPolicy,
              env: [
                { name: "TP_CONFIG_FILE", value: STRATEGY_MOUNTS.configFile },
                // The pod's name names the instance in logs and client order ids.
                { name: "TP_INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              ],
              ports: [{ name: "ops", containerPort: STRATEGY_OPS_PORT, protocol: "TCP" }],
              resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "256Mi" } },
              securityContext: containerSecurityContext,
              volumeMounts: [
                { name: "config", mountPath: STRATEGY_MOUNTS.config, readOnly: true },
                { name: "token", mountPath: STRATEGY_MOUNTS.token, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
              ...probesOn("ops"),
            },
          ],
          volumes: [
            { name: "config", configMap: { name: strategyNames.config(model.name) } },
            { name: "token", secret: { secretName: strategyNames.token(model.name), defaultMode: 0o440 } },
            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
          ],
        },
      },
    },
  };
}

/** Every child of a strategy in apply order; the token Secret and the pods only once it has a token. */
export function strategyChildren(model: StrategyModel, token: StrategyToken | undefined) {
  return [
    strategyServiceAccount(model),
    strategyConfigMap(model),
    ...(token !== undefined ? [strategyTokenSecret(model, token), strategyDeployment(model)] : []),
  ];
}
