import { credentials, Metadata } from "@grpc/grpc-js";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  accountsBucket,
  OrderEntryClient,
  OrderType,
  RiskAdminClient,
  Side,
  TimeInForce,
  type ReplaceOrderResponse,
  type SubmitOrderRequest,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { provision, venueProvisioningPlan, type GrpcTlsSettings, type StartedService } from "@tradeplane/platform";
import { connectTo, NatsServer, testInstrumentSettings, unary } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { putAccount, putToken, type AccountRecord } from "@tradeplane/accounts";
import type { RiskGatewayConfig } from "../../src/config.ts";
import { main } from "../../src/main.ts";

/**
 * A venue for gateway tests: a real nats-server with the venue's streams and buckets, the
 * real engine process, and the gateway in this process, with clients for both its APIs.
 */
export const ADMIN_TOKEN = "risk-admin-token-0123456789";
export const ENGINE_ADMIN_TOKEN = "engine-admin-token-0123456789";

export function auth(token: string): Metadata {
  const m = new Metadata();
  m.set("authorization", `Bearer ${token}`);
  return m;
}

export function order(overrides: Partial<SubmitOrderRequest>): SubmitOrderRequest {
  return {
    account: "",
    clientOrderId: "c1",
    instrument: "INFY",
    side: Side.BUY,
    orderType: OrderType.LIMIT,
    timeInForce: TimeInForce.DAY,
    price: 100_010,
    stopPrice: 0,
    qty: 1,
    postOnly: false,
    stpMode: 0,
    expireTime: undefined,
    displayQty: 0,
    stpGroup: 0,
    ...overrides,
  };
}

/** ReplaceOrder over the venue's client: the order `origClientOrderId` of `token`'s account becomes `clientOrderId`. */
export function replaceOrder(
  venue: Pick<Venue, "orderEntry">,
  token: string,
  r: { origClientOrderId: string; clientOrderId: string; price: number; qty: number; instrument?: string },
): Promise<ReplaceOrderResponse> {
  return unary<ReplaceOrderResponse>((cb) =>
    venue.orderEntry.replaceOrder(
      {
        account: "",
        instrument: r.instrument ?? "INFY",
        target: { $case: "origClientOrderId", value: r.origClientOrderId },
        clientOrderId: r.clientOrderId,
        price: r.price,
        stopPrice: 0,
        qty: r.qty,
      },
      auth(token),
      cb,
    ),
  );
}

export interface Venue {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
  readonly kv: KV;
  readonly engine: EngineProcess;
  gateway: StartedService;
  orderEntry: OrderEntryClient;
  admin: RiskAdminClient;
  readonly config: Readonly<RiskGatewayConfig>;
  submit(token: string, req: SubmitOrderRequest): Promise<SubmitOrderResponse>;
  /** Stops the gateway, runs `between` (if given), and starts a new one on the same venue. */
  restartGateway(between?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface VenueOptions {
  readonly venue: string;
  /** Accounts to store before the gateway starts; each trades with token `<name>-token-0123456789`. */
  readonly accounts?: readonly Partial<AccountRecord>[];
  readonly defaultLimits?: RiskGatewayConfig["defaultLimits"];
  /** Projection snapshot period; 0 (the default here) = only at shutdown, so tests know which exist. */
  readonly snapshotIntervalMs?: number;
  /** TLS for the gateway's gRPC server; the fixture's own clients are plaintext, so bring TLS clients. */
  readonly grpcTls?: GrpcTlsSettings;
  /** Admin tokens by role; by default ADMIN_TOKEN holds venue-operator and risk-officer. */
  readonly adminTokens?: RiskGatewayConfig["adminTokens"];
  /** How long an order call waits for the engine (default 10 s); also the kill switch repair's grace. */
  readonly commandTimeoutMs?: number;
  /** Tracing of the gateway and the engine (default: none). */
  readonly tracing?: Pick<RiskGatewayConfig, "tracing" | "otlpEndpoint" | "traceSampleRatio">;
}

export function tokenOf(account: string): string {
  return `${account}-token-0123456789`;
}

export async function startVenue(options: VenueOptions): Promise<Venue> {
  const server = await NatsServer.start();
  const nc = await connectTo(server.url);
  await provision(nc, venueProvisioningPlan({ venue: options.venue }));
  const kv = await new Kvm(nc).open(accountsBucket(options.venue));
  for (const a of options.accounts ?? []) {
    const name = a.name!;
    await putAccount(kv, {
      name,
      disabled: false,
      principals: [name],
      limits: {},
      defaultStpMode: 0,
      ...a,
    });
    await putToken(kv, tokenOf(name), name);
  }
  const engine = new EngineProcess({
    natsUrl: server.url,
    venue: options.venue,
    instanceId: "engine",
    instruments: testInstrumentSettings,
    env: {
      TP_ADMIN_TOKENS_VENUE_OPERATOR: ENGINE_ADMIN_TOKEN,
      ...(options.tracing === undefined
        ? {}
        : {
            TP_TRACING: options.tracing.tracing,
            ...(options.tracing.otlpEndpoint === undefined ? {} : { TP_OTLP_ENDPOINT: options.tracing.otlpEndpoint }),
            ...(options.tracing.traceSampleRatio === undefined
              ? {}
              : { TP_TRACE_SAMPLE_RATIO: String(options.tracing.traceSampleRatio) }),
          }),
    },
  });
  await engine.start();
  const config: Readonly<RiskGatewayConfig> = {
    natsUrl: [server.url],
    venue: options.venue,
    instanceId: "gw-test",
    instruments: testInstrumentSettings.map((i) => ({
      symbol: i.symbol,
      partition: 0,
      referencePrice: i.referencePrice,
      notionalPerTickLot: 1,
    })),
    defaultLimits: options.defaultLimits ?? {},
    commandTimeoutMs: options.commandTimeoutMs ?? 10_000,
    snapshotIntervalMs: options.snapshotIntervalMs ?? 0,
    adminTokens: options.adminTokens ?? { venueOperator: [ADMIN_TOKEN], riskOfficer: [ADMIN_TOKEN] },
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    ...(options.grpcTls === undefined ? {} : { grpcTls: options.grpcTls }),
    opsHost: "127.0.0.1",
    opsPort: 0,
    logLevel: "silent",
    tracing: "none",
    ...options.tracing,
  };
  const open = async () => {
    const gateway = await main(config);
    const address = `127.0.0.1:${gateway.grpcPort}`;
    return {
      gateway,
      orderEntry: new OrderEntryClient(address, credentials.createInsecure()),
      admin: new RiskAdminClient(address, credentials.createInsecure()),
    };
  };
  const venue: Venue = {
    server,
    nc,
    kv,
    engine,
    config,
    ...(await open()),
    submit: (token, req) => unary<SubmitOrderResponse>((cb) => venue.orderEntry.submitOrder(req, auth(token), cb)),
    restartGateway: async (between) => {
      venue.orderEntry.close();
      venue.admin.close();
      await venue.gateway.shutdown.run();
      await between?.();
      Object.assign(venue, await open());
    },
    close: async () => {
      venue.orderEntry.close();
      venue.admin.close();
      await venue.gateway.shutdown.run();
      await EngineProcess.killAll();
      await nc.close();
      await server.dispose();
    },
  };
  return venue;
}

/** The gateway's /metrics text. */
export async function scrape(venue: Venue): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${venue.gateway.opsPort}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** The value of one sample of a scrape (labels matched as given, in any order), or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{(.*)\}/)?.[1] ?? "";
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}
