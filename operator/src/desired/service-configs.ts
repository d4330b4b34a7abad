import {
  durationSeconds,
  notionalPerTickLot,
  partitionCount,
  tickBandsOf,
  type InstrumentSpec,
  type TradingVenue,
} from "../api/v1alpha1/index.ts";

/**
 * Turns a TradingVenue into each service's configuration (the TP_CONFIG_FILE contents).
 * Pure: the operator renders these into ConfigMaps, local mode into files. Each service
 * validates its file with its own schema at start, so these shapes are checked against
 * those schemas in the tests.
 */

/**
 * Where a service runs and how it reaches NATS: what differs between Kubernetes and local
 * mode. Secrets are named by file path only (a mounted Secret, a 0600 file of local mode):
 * the configs these builders make go into ConfigMaps, which must never hold a secret.
 */
export interface Placement {
  readonly natsUrl: readonly string[];
  /** A NATS .creds file (JWT and NKey seed): Kubernetes. */
  readonly natsCredsFile?: string;
  /** A file holding the NATS token: local mode. */
  readonly natsTokenFile?: string;
  /** TLS to NATS: the CA, and a client certificate with its key when the server verifies clients. */
  readonly natsTls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  /** Files holding the admin tokens of each role (one token per line) for VenueAdmin and RiskAdmin. */
  readonly adminTokenFiles?: AdminTokenFiles;
  /**
   * The risk gateway replicas' shared peer token (ADR 0003): set when the venue runs several
   * replicas, which then own accounts by lease and forward to each other. Kubernetes only:
   * local mode runs one gateway.
   */
  readonly riskPeerTokenFile?: string;
  /** GatewayPeer's mutual TLS (the Secret of spec.risk.peerTlsSecret, mounted): the risk config's peerTls. */
  readonly riskPeerTls?: {
    readonly certFile: string;
    readonly keyFile: string;
    readonly caFile: string;
    /** The DNS name every replica's certificate carries (replicas dial pod addresses). */
    readonly serverName?: string;
  };
  /** Interfaces to listen on: "0.0.0.0" in a pod, "127.0.0.1" on a laptop. */
  readonly host: string;
  readonly ports: ServicePorts;
}

export interface AdminTokenFiles {
  readonly venueOperator?: string;
  readonly riskOfficer?: string;
  readonly readOnly?: string;
}

/**
 * Where a pod finds its secrets when the operator mounts them (Kubernetes Secret volumes,
 * one file per key): the admin tokens Secret with keys venue-operator, risk-officer and
 * read-only; the NATS credentials Secret with key nats.creds; the NATS TLS Secret of
 * cert-manager (ca.crt, tls.crt, tls.key).
 */
export const POD_SECRET_FILES = {
  adminTokenFiles: {
    venueOperator: "/var/run/secrets/tradeplane/admin/venue-operator",
    riskOfficer: "/var/run/secrets/tradeplane/admin/risk-officer",
    readOnly: "/var/run/secrets/tradeplane/admin/read-only",
  },
  natsCredsFile: "/var/run/secrets/tradeplane/nats/nats.creds",
  riskPeerTokenFile: "/var/run/secrets/tradeplane/risk-peer/peer-token",
  riskPeerTls: {
    caFile: "/var/run/secrets/tradeplane/risk-peer-tls/ca.crt",
    certFile: "/var/run/secrets/tradeplane/risk-peer-tls/tls.crt",
    keyFile: "/var/run/secrets/tradeplane/risk-peer-tls/tls.key",
  },
  natsTls: {
    caFile: "/var/run/secrets/tradeplane/nats-tls/ca.crt",
    certFile: "/var/run/secrets/tradeplane/nats-tls/tls.crt",
    keyFile: "/var/run/secrets/tradeplane/nats-tls/tls.key",
  },
} as const satisfies Partial<Placement>;

export interface ServicePorts {
  readonly engineGrpc: (partition: number) => number;
  readonly engineOps: (partition: number) => number;
  readonly riskGrpc: number;
  readonly riskOps: number;
  /** The risk gateway's internal GatewayPeer port (several replicas only). */
  readonly riskPeer: number;
  readonly marketDataGrpc: number;
  readonly marketDataOps: number;
  readonly marketDataWs: number;
  readonly fix: number;
  readonly fixOps: number;
  readonly journalGrpc: number;
  readonly journalOps: number;
}

/** The ports of a pod (every service alone in its network namespace). */
export const POD_PORTS: ServicePorts = {
  engineGrpc: () => 50051,
  engineOps: () => 9464,
  riskGrpc: 50061,
  riskOps: 9465,
  riskPeer: 50062,
  marketDataGrpc: 50071,
  marketDataOps: 9466,
  marketDataWs: 8081,
  fix: 9878,
  fixOps: 9467,
  journalGrpc: 50081,
  journalOps: 9468,
};

/** Ports for every service on one machine, from a base (nats-server takes the base itself). */
export function localPorts(base: number): ServicePorts {
  return {
    riskGrpc: base + 1,
    marketDataGrpc: base + 2,
    marketDataWs: base + 3,
    riskOps: base + 4,
    marketDataOps: base + 5,
    fix: base + 6,
    fixOps: base + 7,
    journalGrpc: base + 8,
    journalOps: base + 9,
    // Only a venue with several gateway replicas listens on it, which local mode never runs:
    // kept clear of the engines' ports, at the end of the venue's block of 100.
    riskPeer: base + 99,
    engineGrpc: (p) => base + 10 + 2 * p,
    engineOps: (p) => base + 11 + 2 * p,
  };
}

function common(venue: TradingVenue, placement: Placement) {
  return {
    venue: venue.metadata.name,
    natsUrl: [...placement.natsUrl],
    ...(placement.natsTokenFile !== undefined ? { natsTokenFile: placement.natsTokenFile } : {}),
    ...(placement.natsCredsFile !== undefined ? { natsCredsFile: placement.natsCredsFile } : {}),
    ...(placement.natsTls !== undefined ? { natsTls: { ...placement.natsTls } } : {}),
    grpcHost: placement.host,
    opsHost: placement.host,
    logLevel: venue.spec.observability.logLevel,
    tracing: venue.spec.observability.tracing,
    ...(venue.spec.observability.otlpEndpoint !== undefined
      ? { otlpEndpoint: venue.spec.observability.otlpEndpoint }
      : {}),
    ...(venue.spec.observability.traceSampleBps !== undefined
      ? { traceSampleRatio: venue.spec.observability.traceSampleBps / 10_000 }
      : {}),
    ...(venue.spec.observability.resourceAttributes !== undefined
      ? { traceResourceAttributes: { ...venue.spec.observability.resourceAttributes } }
      : {}),
  };
}

/** The admin token files of a service with admin calls, as its config names them (`<role>File`). */
function adminTokens(placement: Placement) {
  const files = placement.adminTokenFiles;
  if (files === undefined) return {};
  return {
    adminTokens: {
      ...(files.venueOperator !== undefined ? { venueOperatorFile: files.venueOperator } : {}),
      ...(files.riskOfficer !== undefined ? { riskOfficerFile: files.riskOfficer } : {}),
      ...(files.readOnly !== undefined ? { readOnlyFile: files.readOnly } : {}),
    },
  };
}

/** Engine configuration of one partition (input of services/matching's config schema). */
export function engineServiceConfig(venue: TradingVenue, partition: number, placement: Placement) {
  const { engine } = venue.spec;
  return {
    ...common(venue, placement),
    ...adminTokens(placement),
    partition,
    grpcPort: placement.ports.engineGrpc(partition),
    opsPort: placement.ports.engineOps(partition),
    instruments: venue.spec.instruments.filter((i) => i.partition === partition).map(engineInstrument),
    snapshotEveryCommands: engine.snapshotEveryCommands,
    snapshotEverySeconds: engine.snapshotEverySeconds,
    ...(engine.maxOrders !== undefined ? { maxOrders: engine.maxOrders } : {}),
  };
}

function engineInstrument(i: InstrumentSpec) {
  return {
    symbol: i.symbol,
    tickSlabs: tickBandsOf(i).map((b) => ({ fromPrice: b.fromPrice, tickSize: b.tickSize })),
    lotSize: i.qtyIncrement,
    minQty: i.minQty,
    maxQty: i.maxQty,
    maxOrderValue: i.maxOrderValue,
    referencePrice: i.referencePrice,
    bandPercent: i.priceBandPercent,
    initialState: i.initialState,
    cancelOnHalt: i.cancelOnHalt,
  };
}

/** Risk gateway configuration (input of services/risk's config schema). */
export function riskGatewayConfig(venue: TradingVenue, placement: Placement) {
  const { risk, market } = venue.spec;
  return {
    ...common(venue, placement),
    ...adminTokens(placement),
    grpcPort: placement.ports.riskGrpc,
    opsPort: placement.ports.riskOps,
    instruments: venue.spec.instruments.map((i) => ({
      symbol: i.symbol,
      partition: i.partition,
      referencePrice: i.referencePrice,
      notionalPerTickLot: notionalPerTickLot(i, market.notionalExponent),
    })),
    defaultLimits: { ...risk.defaults },
    commandTimeoutMs: risk.commandTimeoutMs,
    // Several replicas: accounts owned by lease (ADR 0003). The peer address is the pod's
    // own (TP_PEER_ADDRESS from the downward API), the token a mounted Secret file.
    ...(placement.riskPeerTokenFile !== undefined
      ? { ownership: "lease" as const, peerPort: placement.ports.riskPeer, peerTokensFile: placement.riskPeerTokenFile }
      : {}),
    ...(placement.riskPeerTls !== undefined ? { peerTls: { ...placement.riskPeerTls } } : {}),
  };
}

/** Market-data configuration (input of services/market-data's config schema). */
export function marketDataConfig(venue: TradingVenue, placement: Placement) {
  const { market } = venue.spec;
  return {
    ...common(venue, placement),
    grpcPort: placement.ports.marketDataGrpc,
    opsPort: placement.ports.marketDataOps,
    wsPort: placement.ports.marketDataWs,
    wsHost: placement.host,
    defaultDepth: venue.spec.marketData.depth,
    instruments: venue.spec.instruments.map((i) => ({
      symbol: i.symbol,
      partition: i.partition,
      description: i.description ?? "",
      quoteCurrency: market.currency,
      priceUnit: i.priceUnit,
      lotSize: i.lotSize,
      notionalExponent: market.notionalExponent,
      notionalPerTickLot: notionalPerTickLot(i, market.notionalExponent),
      tickBands: tickBandsOf(i).map((b) => ({ fromPrice: b.fromPrice, tickSize: b.tickSize })),
      qtyIncrement: i.qtyIncrement,
      minQty: i.minQty,
      maxQty: i.maxQty,
      maxOrderValue: i.maxOrderValue,
      referencePrice: i.referencePrice,
      priceBandPercent: i.priceBandPercent,
      initialState: i.initialState,
    })),
  };
}

/**
 * FIX gateway configuration (input of services/fix-gateway's config schema), or undefined
 * when the spec does not ask for the gateway. `tokenFile` names where each session's
 * OrderEntry token is: a file per session in a pod (the operator issues one token per
 * session), a file per account in local mode. Tokens never go into the configuration itself.
 */
export function fixGatewayConfig(
  venue: TradingVenue,
  placement: Placement,
  endpoints: { readonly orderEntry: string; readonly marketData: string },
  tokenFile: (account: string, sessionId: string) => string,
) {
  const { fix } = venue.spec;
  if (!fix.enabled) return undefined;
  const { grpcHost: _grpcHost, ...rest } = common(venue, placement);
  return {
    ...rest,
    senderCompId: fix.senderCompId,
    orderEntryAddress: endpoints.orderEntry,
    marketDataAddress: endpoints.marketData,
    fixHost: placement.host,
    fixPort: placement.ports.fix,
    opsPort: placement.ports.fixOps,
    sessions: fix.sessions.map((s) => ({
      id: s.id,
      targetCompId: s.targetCompId,
      account: s.account,
      tokenFile: tokenFile(s.account, s.id),
      cancelOnDisconnect: s.cancelOnDisconnect,
      maxMessagesPerSecond: s.maxMessagesPerSecond,
    })),
  };
}

/**
 * Where the journal's database is: a file holding the PostgreSQL URL (a mounted Secret:
 * spec.journal.databaseUrlSecret), or the folder of an embedded PGlite database.
 */
export type JournalDatabase = { readonly databaseUrlFile: string } | { readonly pgliteDir: string };

/** Where the operator mounts the journal's database URL Secret (its key as the file name). */
export const POD_JOURNAL_DATABASE_URL_DIR = "/var/run/secrets/tradeplane/journal-db";

/** Where the operator mounts the journal's volume for an embedded PGlite database. */
export const POD_JOURNAL_PGLITE_DIR = "/var/lib/tradeplane/journal";

/**
 * Journal configuration (input of services/journal's config schema), or undefined when the
 * spec does not enable the journal. The database URL is a secret: named by file only.
 */
export function journalConfig(venue: TradingVenue, placement: Placement, database: JournalDatabase) {
  const { journal, calendar, market } = venue.spec;
  if (!journal.enabled) return undefined;
  return {
    ...common(venue, placement),
    ...adminTokens(placement),
    grpcPort: placement.ports.journalGrpc,
    opsPort: placement.ports.journalOps,
    ...database,
    poolSize: journal.poolSize,
    batchMessages: journal.batchMessages,
    currency: market.currency,
    notionalExponent: market.notionalExponent,
    // The journal records these terms with their validity, to value past trades as they were.
    instruments: venue.spec.instruments.map((i) => ({
      symbol: i.symbol,
      notionalPerTickLot: notionalPerTickLot(i, market.notionalExponent),
      priceUnit: i.priceUnit,
      lotSize: i.lotSize,
    })),
    calendar: {
      timeZone: calendar.timeZone,
      tradingDayEnd: calendar.tradingDayEnd,
      weekendDays: [...calendar.weekendDays],
      holidays: [...calendar.holidays],
      settlementDays: calendar.settlementDays,
    },
  };
}

/** The venue's JetStream streams and buckets (input of platform's venueProvisioningPlan). */
export function streamSettings(venue: TradingVenue) {
  const { streams } = venue.spec;
  return {
    venue: venue.metadata.name,
    storage: streams.storage,
    replicas: streams.replicas,
    eventMaxAgeSeconds: durationSeconds(streams.eventMaxAge),
    ...(streams.commandMaxAge !== undefined ? { commandMaxAgeSeconds: durationSeconds(streams.commandMaxAge) } : {}),
  };
}

/** Every engine partition of the venue, 0..n-1. */
export function partitionsOf(venue: TradingVenue): number[] {
  return Array.from({ length: partitionCount(venue.spec) }, (_, p) => p);
}
