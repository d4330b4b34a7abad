import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";

/**
 * Checks a built object against the upstream Kubernetes OpenAPI schemas (kubernetes-models),
 * so that a bad value passed through from a spec (a toleration, an affinity) is reported
 * with its path before anything is sent to the API server. Pure.
 */

// Each model class validates its own kind; the constructors are only used for that.
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/ConfigMap": ConfigMap,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

export interface KubeObjectLike {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly unknown[];
  };
}

/** undefined when valid, else a message naming the object and every bad field. */
export function upstreamSchemaError(object: KubeObjectLike): string | undefined {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  const what = `${object.kind} ${object.metadata.name}`;
  if (Model === undefined) return `${what}: no upstream schema for ${object.apiVersion}`;
  try {
    new Model(structuredClone(object) as never).validate();
    return undefined;
  } catch (err) {
    return `${what}: ${(err as Error).message.replaceAll("data/", "")}`;
  }
}
