import {
  engineConfigMap,
  fixGatewayConfigMap,
  journalConfigMap,
  marketDataConfigMap,
  riskConfigMap,
} from "./config-maps.ts";
import { fixGatewayDeployment, journalDeployment, marketDataDeployment, riskDeployment } from "./deployments.ts";
import {
  egressNetworkPolicy,
  engineNetworkPolicy,
  fixGatewayNetworkPolicy,
  journalDatabaseNetworkPolicy,
  journalNetworkPolicy,
  marketDataNetworkPolicy,
  riskNetworkPolicy,
} from "./network-policies.ts";
import {
  engineBudget,
  fixGatewayBudget,
  journalBudget,
  marketDataBudget,
  riskBudget,
} from "./pod-disruption-budgets.ts";
import {
  adminTokenSecret,
  fixSessionTokenSecret,
  riskPeerTokenSecret,
  type AdminTokens,
  type FixSessionTokens,
} from "./secrets.ts";
import { serviceAccount } from "./service-accounts.ts";
import { engineService, fixGatewayService, journalService, marketDataService, riskService } from "./services.ts";
import { journalDataClaim } from "./persistent-volume-claims.ts";
import { engineStatefulSet } from "./stateful-sets.ts";
import { upstreamSchemaError, type KubeObjectLike } from "./upstream-schemas.ts";
import type { VenueModel } from "./venue-model.ts";

/**
 * Every Kubernetes object a venue owns, in apply order (what a pod mounts comes before
 * the pod), each checked against the upstream schemas. The admin token is passed in: the
 * controller reads the existing ones or generates them once.
 *
 * With spec.fix.enabled, the FIX gateway's objects too. Its session tokens are issued by
 * the venue's risk gateway, so the controller passes in those it holds: they are kept in
 * their Secret (with FIX disabled too, until the controller has revoked them), and the
 * gateway's Deployment exists only once every session has one (`allIssued`).
 *
 * With spec.journal.enabled, the journal's objects too: on PostgreSQL (its URL from the
 * Secret the spec names), or on PGlite embedded on a volume of its own.
 */
export interface FixTokensInput {
  readonly tokens: FixSessionTokens;
  readonly allIssued: boolean;
}

export interface VenueChildren {
  readonly objects: readonly KubeObjectLike[];
  /** Messages of objects the upstream schemas refuse; none are applied then. */
  readonly invalid: readonly string[];
}

export function venueChildren(
  model: VenueModel,
  adminTokens: AdminTokens,
  fixTokens: FixTokensInput = { tokens: new Map(), allIssued: false },
  riskPeerToken?: string,
): VenueChildren {
  if (model.placement.riskPeerTokenFile !== undefined && riskPeerToken === undefined)
    throw new Error("a venue with several risk replicas needs its peer token");
  const fixConfig = fixGatewayConfigMap(model);
  const fix = fixConfig !== undefined;
  const journalConfig = journalConfigMap(model);
  const journal = journalConfig !== undefined;
  const keepSecret = fixTokens.tokens.size > 0 || (fix && fixTokens.allIssued);
  const objects: KubeObjectLike[] = [
    serviceAccount(model, "engine"),
    serviceAccount(model, "risk"),
    serviceAccount(model, "market-data"),
    ...(fix ? [serviceAccount(model, "fix-gateway")] : []),
    ...(journal ? [serviceAccount(model, "journal")] : []),
    adminTokenSecret(model, adminTokens),
    ...(keepSecret ? [fixSessionTokenSecret(model, fixTokens.tokens)] : []),
    ...(model.placement.riskPeerTokenFile !== undefined ? [riskPeerTokenSecret(model, riskPeerToken!)] : []),
    ...model.partitions.map((p) => engineConfigMap(model, p)),
    riskConfigMap(model),
    marketDataConfigMap(model),
    ...(fix ? [fixConfig] : []),
    ...(journal ? [journalConfig] : []),
    ...(journal && model.venue.spec.journal.databaseUrlSecret === undefined ? [journalDataClaim(model)] : []),
    ...model.partitions.map((p) => engineService(model, p)),
    riskService(model),
    marketDataService(model),
    ...(fix ? [fixGatewayService(model)] : []),
    ...(journal ? [journalService(model)] : []),
    ...model.partitions.map((p) => engineStatefulSet(model, p)),
    riskDeployment(model),
    marketDataDeployment(model),
    ...(fix && fixTokens.allIssued ? [fixGatewayDeployment(model, fixConfig, fixTokens.tokens)] : []),
    ...(journal ? [journalDeployment(model, journalConfig)] : []),
    ...model.partitions.map((p) => engineBudget(model, p)),
    riskBudget(model),
    marketDataBudget(model),
    ...(fix ? [fixGatewayBudget(model)] : []),
    ...(journal ? [journalBudget(model)] : []),
    engineNetworkPolicy(model),
    riskNetworkPolicy(model),
    marketDataNetworkPolicy(model),
    ...(fix ? [fixGatewayNetworkPolicy(model)] : []),
    ...(journal ? [journalNetworkPolicy(model)] : []),
    ...(journal && model.venue.spec.journal.databaseUrlSecret !== undefined
      ? [journalDatabaseNetworkPolicy(model)]
      : []),
    egressNetworkPolicy(model),
  ];
  const invalid = objects.map(upstreamSchemaError).filter((e): e is string => e !== undefined);
  return { objects, invalid };
}
