import { readFileSync } from "node:fs";
import { parseManifests, venueFrom, type TradingVenue } from "../../src/api/v1alpha1/index.ts";
import { venueModel, type OperatorDefaults, type VenueModel } from "../../src/desired/venue-model.ts";

/** Venues the builder tests share: the example manifest and variants of it. */

export const DEFAULTS: OperatorDefaults = {
  images: {
    engine: "ghcr.io/tradeplane/engine:0.1.0",
    risk: "ghcr.io/tradeplane/risk:0.1.0",
    marketData: "ghcr.io/tradeplane/market-data:0.1.0",
    fixGateway: "ghcr.io/tradeplane/fix-gateway:0.1.0",
    journal: "ghcr.io/tradeplane/journal:0.1.0",
  },
  pullSecrets: [],
  natsUrl: ["nats://nats.nats.svc:4222"],
};

export const EXAMPLE_TEXT = readFileSync(new URL("../../../examples/venue.yaml", import.meta.url), "utf8");

/** A venue from YAML, with the uid and namespace the API server would give it. */
export function venueOf(text: string, namespace = "markets"): TradingVenue {
  const venue = venueFrom(parseManifests(text, "venue.yaml"), "venue.yaml");
  return { ...venue, metadata: { ...venue.metadata, namespace, uid: "3f1c2a9e-0000-4000-8000-000000000001" } };
}

export function modelOf(text: string, defaults: OperatorDefaults = DEFAULTS): VenueModel {
  return venueModel(venueOf(text), defaults);
}

export const PINNED_TWO_PARTITIONS = `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata:
  name: nse
spec:
  instruments:
    - { symbol: RELIANCE, referencePrice: 130000, partition: 0 }
    - { symbol: INFY, referencePrice: 150000, partition: 1 }
  engine:
    cpus: 2
    memory: 4Gi
    standby: true
    placement:
      nodeSelector: { tradeplane.io/pool: isolated }
      tolerations: [{ key: dedicated, operator: Equal, value: engine, effect: NoSchedule }]
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - topologyKey: kubernetes.io/hostname
              labelSelector: { matchLabels: { app.kubernetes.io/component: engine } }
      topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway }
      priorityClassName: trading-critical
      runtimeClassName: performance
      hugepages: { size: 2Mi, quantity: 512Mi }
  risk: { replicas: 3, peerTlsSecret: nse-risk-peer-tls }
  marketData: { replicas: 2, depth: 20 }
  nats:
    url: [tls://nats-0.nats:4222, tls://nats-1.nats:4222]
    credentialsSecret: nse-nats
    tls: { caSecret: { name: nats-ca, key: ca.pem }, clientCertSecret: nse-nats-client }
  images: { engine: registry.local/engine:1.2.3, pullPolicy: Always, pullSecrets: [registry-local] }
  streams: { replicas: 3, eventMaxAge: 30d }
  deletionPolicy: Delete
`;

/** A venue with the FIX gateway behind a cloud load balancer, two sessions, NATS credentials. */
export const FIX_BEHIND_LOAD_BALANCER = `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata:
  name: nse
spec:
  instruments:
    - { symbol: RELIANCE, referencePrice: 130000 }
  nats:
    url: [tls://nats-0.nats:4222]
    credentialsSecret: nse-nats
  fix:
    enabled: true
    senderCompId: NSEX
    sessions:
      - { id: broker-1, targetCompId: BROKER1, account: alice, cancelOnDisconnect: true }
      - { id: broker-2, targetCompId: BROKER2, account: bob, maxMessagesPerSecond: 100 }
    service:
      type: LoadBalancer
      annotations: { service.beta.kubernetes.io/aws-load-balancer-internal: "true" }
      loadBalancerSourceRanges: [203.0.113.0/24]
`;

/** A venue with the journal on PostgreSQL (its URL in a Secret) and an explicit calendar. */
export const JOURNAL_ON_POSTGRES = `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata:
  name: nse
spec:
  instruments:
    - { symbol: RELIANCE, referencePrice: 130000 }
  calendar: { holidays: ["2026-12-25"], settlementDays: 1 }
  journal:
    enabled: true
    databaseUrlSecret: { name: nse-journal-db, key: url }
    poolSize: 8
`;
