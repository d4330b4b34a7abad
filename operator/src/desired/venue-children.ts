import { engineConfigMap, marketDataConfigMap, riskConfigMap } from "./config-maps.ts";
import { marketDataDeployment, riskDeployment } from "./deployments.ts";
import {
  egressNetworkPolicy,
  engineNetworkPolicy,
  marketDataNetworkPolicy,
  riskNetworkPolicy,
} from "./network-policies.ts";
import { engineBudget, marketDataBudget, riskBudget } from "./pod-disruption-budgets.ts";
import { adminTokenSecret, riskPeerTokenSecret, type AdminTokens } from "./secrets.ts";
import { serviceAccount } from "./service-accounts.ts";
import { engineService, marketDataService, riskService } from "./services.ts";
import { engineStatefulSet } from "./stateful-sets.ts";
import { upstreamSchemaError, type KubeObjectLike } from "./upstream-schemas.ts";
import type { VenueModel } from "./venue-model.ts";

/**
 * Every Kubernetes object a venue owns, in apply order (what a pod mounts comes before
 * the pod), each checked against the upstream schemas. The admin token is passed in: the
 * controller reads the existing ones or generates them once.
 */
export interface VenueChildren {
  readonly objects: readonly KubeObjectLike[];
  /** Messages of objects the upstream schemas refuse; none are applied then. */
  readonly invalid: readonly string[];
}

export function venueChildren(model: VenueModel, adminTokens: AdminTokens, riskPeerToken?: string): VenueChildren {
  if (model.placement.riskPeerTokenFile !== undefined && riskPeerToken === undefined)
    throw new Error("a venue with several risk replicas needs its peer token");
  const objects: KubeObjectLike[] = [
    serviceAccount(model, "engine"),
    serviceAccount(model, "risk"),
    serviceAccount(model, "market-data"),
    adminTokenSecret(model, adminTokens),
    ...(model.placement.riskPeerTokenFile !== undefined ? [riskPeerTokenSecret(model, riskPeerToken!)] : []),
    ...model.partitions.map((p) => engineConfigMap(model, p)),
    riskConfigMap(model),
    marketDataConfigMap(model),
    ...model.partitions.map((p) => engineService(model, p)),
    riskService(model),
    marketDataService(model),
    ...model.partitions.map((p) => engineStatefulSet(model, p)),
    riskDeployment(model),
    marketDataDeployment(model),
    ...model.partitions.map((p) => engineBudget(model, p)),
    riskBudget(model),
    marketDataBudget(model),
    engineNetworkPolicy(model),
    riskNetworkPolicy(model),
    marketDataNetworkPolicy(model),
    egressNetworkPolicy(model),
  ];
  const invalid = objects.map(upstreamSchemaError).filter((e): e is string => e !== undefined);
  return { objects, invalid };
}
