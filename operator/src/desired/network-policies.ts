import { POD_PORTS } from "./service-configs.ts";
import { LABELS, metadataOf, names, NATS_CLIENT_PORT, selectorLabels, type VenueModel } from "./venue-model.ts";

/**
 * NetworkPolicies of a venue. Ingress: only order entry (the risk gateway's gRPC port),
 * market data (gRPC and WebSocket) and the FIX gateway's FIX port accept clients from anywhere; engine pods accept only
 * the venue's own pods on gRPC; every ops port (metrics, probes) stays open for scraping.
 * Egress: venue pods reach NATS, DNS and each other, nothing else. That NATS accepts only
 * venue pods is the NATS deployment's own policy (docs/operator.md shows one).
 */

const venuePods = (model: VenueModel) => ({ podSelector: { matchLabels: { [LABELS.venue]: model.name } } });
const port = (n: number) => ({ protocol: "TCP", port: n });

export function engineNetworkPolicy(model: VenueModel) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: metadataOf(model, names.policy(model.name, "engine"), "engine"),
    spec: {
      podSelector: { matchLabels: { [LABELS.venue]: model.name, [LABELS.component]: "engine" } },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [venuePods(model)], ports: [port(POD_PORTS.engineGrpc(0))] },
        { ports: [port(POD_PORTS.engineOps(0))] },
      ],
    },
  };
}

export function riskNetworkPolicy(model: VenueModel) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: metadataOf(model, names.policy(model.name, "risk"), "risk"),
    spec: {
      podSelector: { matchLabels: selectorLabels(model, "risk") },
      policyTypes: ["Ingress"],
      ingress: [
        { ports: [port(POD_PORTS.riskGrpc), port(POD_PORTS.riskOps)] },
        // GatewayPeer, between the venue's risk replicas only (ADR 0003).
        ...(model.placement.riskPeerTokenFile !== undefined
          ? [
              {
                from: [{ podSelector: { matchLabels: selectorLabels(model, "risk") } }],
                ports: [port(POD_PORTS.riskPeer)],
              },
            ]
          : []),
      ],
    },
  };
}

export function marketDataNetworkPolicy(model: VenueModel) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: metadataOf(model, names.policy(model.name, "market-data"), "market-data"),
    spec: {
      podSelector: { matchLabels: selectorLabels(model, "market-data") },
      policyTypes: ["Ingress"],
      ingress: [
        { ports: [port(POD_PORTS.marketDataGrpc), port(POD_PORTS.marketDataWs), port(POD_PORTS.marketDataOps)] },
      ],
    },
  };
}

/** FIX clients reach the FIX port from anywhere (the Service decides who gets in from outside). */
export function fixGatewayNetworkPolicy(model: VenueModel) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: metadataOf(model, names.policy(model.name, "fix-gateway"), "fix-gateway"),
    spec: {
      podSelector: { matchLabels: selectorLabels(model, "fix-gateway") },
      policyTypes: ["Ingress"],
      ingress: [{ ports: [port(POD_PORTS.fix), port(POD_PORTS.fixOps)] }],
    },
  };
}

/** The journal's query API and ops port accept clients in the cluster, as order entry does. */
export function journalNetworkPolicy(model: VenueModel) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: metadataOf(model, names.policy(model.name, "journal"), "journal"),
    spec: {
      podSelector: { matchLabels: selectorLabels(model, "journal") },
      policyTypes: ["Ingress"],
      ingress: [{ ports: [port(POD_PORTS.journalGrpc), port(POD_PORTS.journalOps)] }],
    },
  };
}

/** PostgreSQL's port: the journal's database is outside the venue, where the URL says. */
export const POSTGRES_PORT = 5432;

/**
 * The journal may also reach its database, on PostgreSQL's port anywhere (policies add up:
 * this widens the venue's egress policy for journal pods only). Where the database is comes
 * from the URL in a Secret the operator does not read; a database on another port needs a
 * policy of its own.
 */
export function journalDatabaseNetworkPolicy(model: VenueModel) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: metadataOf(model, names.policy(model.name, "journal-database"), "journal"),
    spec: {
      podSelector: { matchLabels: selectorLabels(model, "journal") },
      policyTypes: ["Egress"],
      egress: [{ ports: [port(POSTGRES_PORT)] }],
    },
  };
}

export function egressNetworkPolicy(model: VenueModel) {
  return {
    apiVersion: "networking.k8s.io/v1" as const,
    kind: "NetworkPolicy" as const,
    metadata: metadataOf(model, names.policy(model.name, "egress"), "venue"),
    spec: {
      podSelector: venuePods(model).podSelector,
      policyTypes: ["Egress"],
      egress: [
        { ports: [port(NATS_CLIENT_PORT)] },
        { ports: [{ protocol: "UDP", port: 53 }, port(53)] },
        { to: [venuePods(model)] },
      ],
    },
  };
}
