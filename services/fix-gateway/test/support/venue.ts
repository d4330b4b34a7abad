// A real local venue for FIX gateway tests: nats-server with the venue's streams and
// buckets, the engine process, the risk gateway and market data in this process, and the
// FIX gateway in front of them with sessions whose tokens are in files.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { accountsBucket } from "@tradeplane/contracts";
import { provision, venueProvisioningPlan, type StartedService } from "@tradeplane/platform";
import { fileURLToPath } from "node:url";
import {
  connectTo,
  freePort,
  NatsServer,
  REFERENCE_PRICE,
  ServiceProcess,
  testInstrumentSettings,
  TEST_INSTRUMENTS,
} from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { main as riskMain } from "@tradeplane/risk/main";
import { putAccount, putToken } from "@tradeplane/accounts";
import { main as marketDataMain } from "@tradeplane/market-data/main";
import type { FixGatewayConfig, FixSessionConfig } from "../../src/config.ts";
import { DEFAULT_FLOW_LIMITS, type FlowLimits } from "../../src/domain/flow-control.ts";
import { main as fixMain, type StartedFixGateway } from "../../src/main.ts";

export { REFERENCE_PRICE, TEST_INSTRUMENTS };

/** Prices: 0.01 per tick, so REFERENCE_PRICE ticks is 1000.00. Quantities: 1 per lot. */
export const PRICE_UNIT = "0.01";

export interface FixVenue {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
  /** In-process gateway (absent with `processes`: then only `fixPort` is known). */
  gateway: StartedFixGateway;
  readonly fixConfig: FixGatewayConfig;
  restartFixGateway(): Promise<void>;
  close(): Promise<void>;
}

/** Sessions: compId -> account. Each account gets token `<account>-token-0123456789`. */
/**
 * With `processes`, the risk gateway, market data and the FIX gateway run as child
 * processes (as in local mode; benchmarks), and the result's `gateway` holds only fixPort.
 */
export async function startFixVenue(
  venue: string,
  sessions: readonly { id: string; compId: string; account: string; cancelOnDisconnect?: boolean }[],
  options: {
    processes?: boolean;
    /** Every process exports its spans here over OTLP/HTTP (with `processes`: one tracer per process). */
    otlpEndpoint?: string;
    /** Flow control bounds (the defaults when absent). */
    flow?: Partial<FlowLimits>;
  } = {},
): Promise<FixVenue> {
  const otlp = options.otlpEndpoint;
  if (otlp !== undefined && options.processes !== true)
    throw new Error("tracing needs processes: one tracer provider each");
  const tracing =
    otlp === undefined
      ? { tracing: "none" as const }
      : { tracing: "otlp" as const, otlpEndpoint: otlp, traceSampleRatio: 1 };
  const server = await NatsServer.start();
  const nc = await connectTo(server.url);
  await provision(nc, venueProvisioningPlan({ venue }));
  const kv = await new Kvm(nc).open(accountsBucket(venue));
  const dir = mkdtempSync(join(tmpdir(), "fix-venue-"));
  const accounts = [...new Set(sessions.map((s) => s.account))];
  for (const name of accounts) {
    await putAccount(kv, { name, disabled: false, principals: [name], limits: {}, defaultStpMode: 0 });
    await putToken(kv, `${name}-token-0123456789`, name);
    writeFileSync(join(dir, `${name}.token`), `${name}-token-0123456789\n`, { mode: 0o600 });
  }
  const engine = new EngineProcess({
    natsUrl: server.url,
    venue,
    instanceId: "engine",
    instruments: testInstrumentSettings,
    ...(otlp === undefined ? {} : { env: { TP_TRACING: "otlp", TP_OTLP_ENDPOINT: otlp, TP_TRACE_SAMPLE_RATIO: "1" } }),
  });
  await engine.start();
  const riskConfig = {
    natsUrl: [server.url],
    venue,
    instanceId: "risk",
    instruments: testInstrumentSettings.map((i) => ({
      symbol: i.symbol,
      partition: 0,
      referencePrice: i.referencePrice,
      notionalPerTickLot: 1,
    })),
    defaultLimits: {},
    commandTimeoutMs: 10_000,
    snapshotIntervalMs: 0,
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    opsHost: "127.0.0.1",
    opsPort: 0,
    logLevel: "silent" as const,
    ...tracing,
  };
  const risk = options.processes ? await processOf("@tradeplane/risk/main", riskConfig) : await riskMain(riskConfig);
  const mdConfig = {
    natsUrl: [server.url],
    venue,
    instanceId: "md",
    instruments: testInstrumentSettings.map((i) => ({
      symbol: i.symbol,
      partition: 0,
      description: "",
      quoteCurrency: "INR",
      priceUnit: PRICE_UNIT,
      lotSize: "1",
      notionalExponent: -2,
      notionalPerTickLot: 1,
      tickBands: [],
      qtyIncrement: 1,
      minQty: 1,
      maxQty: 1_000_000,
      maxOrderValue: 0,
      referencePrice: i.referencePrice,
      priceBandPercent: i.bandPercent,
      initialState: i.initialState,
    })),
    wsHost: "127.0.0.1",
    wsPort: 0,
    defaultDepth: 10,
    maxQueuedUpdates: 10_000,
    batchEvents: 512,
    fanoutIntervalMs: 0,
    fanoutDutyWait: 1,
    maxInFlightWrites: 4,
    historyUpdates: 10_000,
    tradesKept: 1_000,
    barsKept: 100,
    snapshotEveryEvents: 0,
    snapshotIntervalMs: 0,
    snapshotsKept: 3,
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    opsHost: "127.0.0.1",
    opsPort: 0,
    logLevel: "silent" as const,
    ...tracing,
  };
  const md = options.processes
    ? await processOf("@tradeplane/market-data/main", mdConfig)
    : await marketDataMain(mdConfig);
  const fixConfig: FixGatewayConfig = {
    natsUrl: [server.url],
    venue,
    instanceId: "fix",
    senderCompId: "VENUE",
    orderEntryAddress: `127.0.0.1:${risk.grpcPort}`,
    marketDataAddress: `127.0.0.1:${md.grpcPort}`,
    orderEntryDeadlineMs: 10_000,
    ...DEFAULT_FLOW_LIMITS,
    ...options.flow,
    sessions: sessions.map((s): FixSessionConfig => ({
      id: s.id,
      targetCompId: s.compId,
      account: s.account,
      tokenFile: join(dir, `${s.account}.token`),
      cancelOnDisconnect: s.cancelOnDisconnect ?? false,
      maxMessagesPerSecond: 0,
    })),
    fixHost: "127.0.0.1",
    fixPort: options.processes ? await freePort() : 0,
    maxSendingTimeSkewMs: 120_000,
    opsHost: "127.0.0.1",
    opsPort: 0,
    logLevel: "silent",
    ...tracing,
  };
  const fv: FixVenue = {
    server,
    nc,
    fixConfig,
    gateway: options.processes
      ? ({
          ...(await processOf("../../src/main.ts", fixConfig)),
          fixPort: fixConfig.fixPort,
        } as unknown as StartedFixGateway)
      : await fixMain(fixConfig),
    async restartFixGateway() {
      const port = fv.gateway.fixPort;
      await fv.gateway.shutdown.run();
      fv.gateway = await fixMain({ ...fixConfig, fixPort: port });
    },
    async close() {
      await fv.gateway.shutdown.run();
      await md.shutdown.run();
      await risk.shutdown.run();
      await EngineProcess.killAll();
      await ServiceProcess.killAll();
      await nc.close();
      await server.dispose();
    },
  };
  return fv;
}

/** A service as a child process, shaped like a started one (shutdown = SIGTERM). */
async function processOf(main: string, config: object): Promise<StartedService> {
  const path = main.startsWith(".")
    ? fileURLToPath(new URL(main, import.meta.url))
    : fileURLToPath(import.meta.resolve(main));
  const p = new ServiceProcess({ main: path, config, env: { TP_LOG_LEVEL: "warn" } });
  await p.start();
  return {
    grpcPort: p.grpcPort,
    opsPort: p.opsPort,
    shutdown: { run: () => p.signal("SIGTERM") } as unknown as StartedService["shutdown"],
  };
}
