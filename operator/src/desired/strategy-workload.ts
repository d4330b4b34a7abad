import { stringify } from "yaml";
import { venuesOf } from "@tradeplane/strategy-api";
import type { StrategyDeployment } from "../api/v1alpha1/index.ts";
import { POD_PORTS } from "./service-configs.ts";
import { containerSecurityContext, imagePullSecretsOf, podSecurityContext, probesOn } from "./pod-templates.ts";
import { ANNOTATIONS, hashOf, names, ownerOf, type OwnerReference } from "./venue-model.ts";

/**
 * What a StrategyDeployment runs: one Deployment of the strategy runtime (or the user's
 * image) with its config in a ConfigMap and its trading tokens in a Secret, both mounted as
 * files. A strategy on several venues (spec.venues) has an account and a token on each: one
 * Secret key per venue, every venue's services and token file in the config. `paused`
 * scales it to zero (the controller also engages each account's kill switch). Pure: the
 * tokens come from the controller, which had each issued by its venue's gateway.
 */

export interface StrategyModel {
  readonly strategy: StrategyDeployment;
  /** Every venue it trades on with its account there: venueRef first, then spec.venues. */
  readonly venues: readonly { readonly venue: string; readonly account: string }[];
  readonly name: string;
  readonly namespace: string;
  readonly owner: OwnerReference;
  readonly image: string;
  readonly pullPolicy: "Always" | "IfNotPresent" | "Never";
  /** Names of the Secrets its pod pulls its image with: those of its venue (venueRef), see strategyModel. */
  readonly pullSecrets: readonly string[];
}

export const STRATEGY_MOUNTS = {
  config: "/etc/tradeplane",
  configFile: "/etc/tradeplane/config.yaml",
  /** The StrategyDeployment itself, which the runtime reads its strategy, account and instruments from. */
  specFile: "/etc/tradeplane/strategy.yaml",
  token: "/var/run/secrets/tradeplane/strategy",
  /** The first venue's (venueRef's) token; a further venue V's is `token.V` beside it. */
  tokenFile: "/var/run/secrets/tradeplane/strategy/token",
} as const;

/**
 * The token Secret's key of a venue: `token` for the first venue (as before several venues),
 * `token.<venue>` for each further one (venue names are DNS labels, valid in Secret keys).
 */
export function tokenKey(model: StrategyModel, venue: string): string {
  return venue === model.venues[0]!.venue ? "token" : `token.${venue}`;
}

export function tokenFileOf(model: StrategyModel, venue: string): string {
  return `${STRATEGY_MOUNTS.token}/${tokenKey(model, venue)}`;
}

export const STRATEGY_OPS_PORT = 9467;

export const strategyNames = {
  workload: (name: string) => `${name}-strategy`,
  config: (name: string) => `${name}-strategy-config`,
  token: (name: string) => `${name}-strategy-token`,
};

/**
 * `pullSecrets` are the image pull Secrets of the strategy's venue (venueRef: its pod runs
 * beside that venue's pods, in the same namespace, and the strategy runtime comes from the
 * same registry as the venue's images), as the controller finds them: the venue's
 * spec.images.pullSecrets, else the operator's. A custom image from another registry needs
 * its Secret in that list too.
 */
export function strategyModel(
  strategy: StrategyDeployment,
  runtimeImage: string,
  pullSecrets: readonly string[] = [],
): StrategyModel {
  const custom = "image" in strategy.spec.strategy ? strategy.spec.strategy.image : undefined;
  return {
    strategy,
    venues: venuesOf(strategy.spec),
    name: strategy.metadata.name,
    namespace: strategy.metadata.namespace ?? "default",
    owner: ownerOf("StrategyDeployment", strategy.metadata),
    image: custom ?? runtimeImage,
    pullPolicy: "IfNotPresent",
    pullSecrets,
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

const orderEntryOf = (model: StrategyModel, venue: string) =>
  `${names.risk(venue)}.${model.namespace}.svc:${POD_PORTS.riskGrpc}`;
const marketDataOf = (model: StrategyModel, venue: string) =>
  `${names.marketData(venue)}.${model.namespace}.svc:${POD_PORTS.marketDataGrpc}`;

/**
 * The strategy runtime's configuration (services/strategy-runtime's config schema): where
 * the StrategyDeployment and the tokens are mounted and where each venue's services are
 * (the first venue's at the top, each further venue's under `venues`); never a token
 * itself. A user image gets the same files.
 */
export function strategyConfig(model: StrategyModel) {
  const [first, ...further] = model.venues;
  return {
    specFile: STRATEGY_MOUNTS.specFile,
    tokenFile: STRATEGY_MOUNTS.tokenFile,
    orderEntry: orderEntryOf(model, first!.venue),
    marketData: marketDataOf(model, first!.venue),
    ...(further.length > 0
      ? {
          venues: further.map(({ venue }) => ({
            venue,
            orderEntry: orderEntryOf(model, venue),
            marketData: marketDataOf(model, venue),
            tokenFile: tokenFileOf(model, venue),
          })),
        }
      : {}),
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

/** The first venue's token id. */
export const TOKEN_ID_ANNOTATION = "tradeplane.io/token-id";
/** The further venues' token ids, a JSON object by venue (an annotation name cannot hold a venue's 63 characters after a prefix). */
export const TOKEN_IDS_ANNOTATION = "tradeplane.io/token-ids";

export interface StrategyToken {
  readonly id: string;
  readonly token: string;
}

/** A strategy's tokens by venue. */
export type StrategyTokens = Readonly<Record<string, StrategyToken>>;

/**
 * The token Secret, one key per venue; it names each token's id (not secret) so that
 * deleting can revoke them. It holds the tokens issued so far: a venue whose gateway is
 * down must not cost the others their tokens (a token not kept would be revoked and issued
 * again at every retry).
 */
export function strategyTokenSecret(model: StrategyModel, issued: StrategyTokens) {
  const held = model.venues.flatMap(({ venue }) => {
    const token = issued[venue];
    return token !== undefined ? [{ venue, token }] : [];
  });
  const first = held.find((v) => v.venue === model.venues[0]!.venue);
  const further = held.filter((v) => v !== first);
  return {
    apiVersion: "v1" as const,
    kind: "Secret" as const,
    metadata: {
      ...metadataOf(model, strategyNames.token(model.name)),
      annotations: {
        ...(first !== undefined ? { [TOKEN_ID_ANNOTATION]: first.token.id } : {}),
        ...(further.length > 0
          ? { [TOKEN_IDS_ANNOTATION]: JSON.stringify(Object.fromEntries(further.map((v) => [v.venue, v.token.id]))) }
          : {}),
      },
    },
    type: "Opaque",
    data: Object.fromEntries(
      held.map((v) => [tokenKey(model, v.venue), Buffer.from(v.token.token, "utf8").toString("base64")]),
    ),
  };
}

/** The tokens a Secret of ours holds, by venue; a venue whose key or id is missing has none. */
export function tokensOfSecret(
  model: StrategyModel,
  secret: { data?: unknown; metadata: { annotations?: Record<string, string> | undefined } } | undefined,
): Record<string, StrategyToken> {
  if (secret === undefined) return {};
  const data = (secret.data ?? {}) as Record<string, string>;
  const annotations = secret.metadata.annotations ?? {};
  let further: Record<string, unknown> = {};
  try {
    further = JSON.parse(annotations[TOKEN_IDS_ANNOTATION] ?? "{}") as Record<string, unknown>;
  } catch {
    // A mangled annotation: those tokens count as lost (revoked by label and issued again).
  }
  const tokens: Record<string, StrategyToken> = {};
  for (const { venue } of model.venues) {
    const first = venue === model.venues[0]!.venue;
    const id = first ? annotations[TOKEN_ID_ANNOTATION] : further[venue];
    const token = data[tokenKey(model, venue)];
    if (typeof id === "string" && token !== undefined)
      tokens[venue] = { id, token: Buffer.from(token, "base64").toString("utf8") };
  }
  return tokens;
}

/** Whether every venue of the strategy has a token. */
export const hasEveryToken = (model: StrategyModel, tokens: StrategyTokens | undefined): tokens is StrategyTokens =>
  tokens !== undefined && model.venues.every(({ venue }) => tokens[venue] !== undefined);

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
          ...imagePullSecretsOf(model.pullSecrets),
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

/**
 * Every child of a strategy in apply order; the token Secret once it has a token, the pods
 * only once it has a token on every venue.
 */
export function strategyChildren(model: StrategyModel, tokens: StrategyTokens | undefined) {
  const some = tokens !== undefined && Object.keys(tokens).length > 0;
  return [
    strategyServiceAccount(model),
    strategyConfigMap(model),
    ...(some ? [strategyTokenSecret(model, tokens)] : []),
    ...(hasEveryToken(model, tokens) ? [strategyDeployment(model)] : []),
  ];
}
