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
