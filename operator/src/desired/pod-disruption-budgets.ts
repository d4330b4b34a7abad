import { metadataOf, names, selectorLabels, type Component, type VenueModel } from "./venue-model.ts";

/**
 * PodDisruptionBudgets: a drain takes at most one pod of a component at a time. With one
 * replica that still lets a node drain (a budget of minAvailable 1 would block it forever);
 * with a standby, an engine partition keeps one pod through any voluntary disruption.
 */
function budget(model: VenueModel, name: string, component: Component, partition?: number) {
  return {
    apiVersion: "policy/v1" as const,
    kind: "PodDisruptionBudget" as const,
    metadata: metadataOf(model, name, component, partition),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(model, component, partition) },
    },
  };
}

export const engineBudget = (model: VenueModel, partition: number) =>
  budget(model, names.engine(model.name, partition), "engine", partition);
export const riskBudget = (model: VenueModel) => budget(model, names.risk(model.name), "risk");
export const marketDataBudget = (model: VenueModel) => budget(model, names.marketData(model.name), "market-data");
export const fixGatewayBudget = (model: VenueModel) => budget(model, names.fixGateway(model.name), "fix-gateway");
export const journalBudget = (model: VenueModel) => budget(model, names.journal(model.name), "journal");
