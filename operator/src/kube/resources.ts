/**
 * The resource types the operator touches, with their REST paths. A fixed table instead of
 * discovery: the operator's RBAC names exactly these, and a missing API (an old cluster
 * without policy/v1) shows up as a clear 404 on first use.
 */
export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const table: readonly ResourceType[] = [
  { apiVersion: "tradeplane.io/v1alpha1", kind: "TradingVenue", plural: "tradingvenues", namespaced: true },
  { apiVersion: "tradeplane.io/v1alpha1", kind: "StrategyDeployment", plural: "strategydeployments", namespaced: true },
  { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
  { apiVersion: "v1", kind: "Secret", plural: "secrets", namespaced: true },
  { apiVersion: "v1", kind: "Service", plural: "services", namespaced: true },
  { apiVersion: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true },
  { apiVersion: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", namespaced: true },
  { apiVersion: "v1", kind: "Pod", plural: "pods", namespaced: true },
  { apiVersion: "v1", kind: "Event", plural: "events", namespaced: true },
  { apiVersion: "v1", kind: "Namespace", plural: "namespaces", namespaced: false },
  { apiVersion: "apps/v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true },
  { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments", namespaced: true },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", namespaced: true },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true },
  { apiVersion: "coordination.k8s.io/v1", kind: "Lease", plural: "leases", namespaced: true },
];

const byKey = new Map(table.map((r) => [`${r.apiVersion}/${r.kind}`, r]));

export function resourceOf(apiVersion: string, kind: string): ResourceType {
  const found = byKey.get(`${apiVersion}/${kind}`);
  if (found === undefined) throw new Error(`the operator does not manage ${apiVersion} ${kind}`);
  return found;
}

/** `/apis/apps/v1/namespaces/ns/statefulsets[/name]`; all namespaces when ns is undefined. */
export function pathOf(resource: ResourceType, namespace?: string, name?: string): string {
  const group = resource.apiVersion.includes("/") ? `/apis/${resource.apiVersion}` : `/api/${resource.apiVersion}`;
  const ns = resource.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const tail = name !== undefined ? `/${encodeURIComponent(name)}` : "";
  return `${group}${ns}/${resource.plural}${tail}`;
}
