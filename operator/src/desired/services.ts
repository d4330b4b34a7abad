import { POD_PORTS } from "./service-configs.ts";
import { metadataOf, names, selectorLabels, type VenueModel } from "./venue-model.ts";

/**
 * Services: order entry (risk gateway) and market data face clients; each engine
 * partition gets a headless Service that names its pods (the StatefulSet's serviceName).
 */

const tcp = (name: string, port: number) => ({ name, port, targetPort: name, protocol: "TCP" });

export function engineService(model: VenueModel, partition: number) {
  return {
    apiVersion: "v1" as const,
    kind: "Service" as const,
    metadata: metadataOf(model, names.engine(model.name, partition), "engine", partition),
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: selectorLabels(model, "engine", partition),
      ports: [tcp("grpc", POD_PORTS.engineGrpc(partition)), tcp("ops", POD_PORTS.engineOps(partition))],
    },
  };
}

export function riskService(model: VenueModel) {
  return {
    apiVersion: "v1" as const,
    kind: "Service" as const,
    metadata: metadataOf(model, names.risk(model.name), "risk"),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(model, "risk"),
      ports: [tcp("grpc", POD_PORTS.riskGrpc), tcp("ops", POD_PORTS.riskOps)],
    },
  };
}

export function marketDataService(model: VenueModel) {
  return {
    apiVersion: "v1" as const,
    kind: "Service" as const,
    metadata: metadataOf(model, names.marketData(model.name), "market-data"),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(model, "market-data"),
      ports: [
        tcp("grpc", POD_PORTS.marketDataGrpc),
        tcp("ws", POD_PORTS.marketDataWs),
        tcp("ops", POD_PORTS.marketDataOps),
      ],
    },
  };
}

/**
 * The FIX port's Service: the one a venue exposes to clients outside the cluster, so its
 * type, annotations (a cloud load balancer's) and source ranges come from spec.fix.service.
 * The ops port stays off it: metrics and probes are for the cluster, not a load balancer.
 */
export function fixGatewayService(model: VenueModel) {
  const service = model.venue.spec.fix.service;
  return {
    apiVersion: "v1" as const,
    kind: "Service" as const,
    metadata: {
      ...metadataOf(model, names.fixGateway(model.name), "fix-gateway"),
      ...(service.annotations !== undefined ? { annotations: { ...service.annotations } } : {}),
    },
    spec: {
      type: service.type,
      selector: selectorLabels(model, "fix-gateway"),
      ports: [tcp("fix", POD_PORTS.fix)],
      ...(service.type === "LoadBalancer" && service.loadBalancerSourceRanges !== undefined
        ? { loadBalancerSourceRanges: [...service.loadBalancerSourceRanges] }
        : {}),
    },
  };
}

/** The journal's JournalQuery gRPC API (admin tokens; every role reads) and its ops port. */
export function journalService(model: VenueModel) {
  return {
    apiVersion: "v1" as const,
    kind: "Service" as const,
    metadata: metadataOf(model, names.journal(model.name), "journal"),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(model, "journal"),
      ports: [tcp("grpc", POD_PORTS.journalGrpc), tcp("ops", POD_PORTS.journalOps)],
    },
  };
}
