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
import { connectTo, NatsServer, REFERENCE_PRICE, testInstrumentSettings, TEST_INSTRUMENTS } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { main as riskMain } from "@tradeplane/risk/main";
import { AccountRegistry } from "@tradeplane/risk/accounts";
import { main as marketDataMain } from "@tradeplane/market-data/main";
import type { FixGatewayConfig, FixSessionConfig } from "../../src/config.ts";
import { main as fixMain, type StartedFixGateway } from "../../src/main.ts";

export { REFERENCE_PRICE, TEST_INSTRUMENTS };

/** Prices: 0.01 per tick, so REFERENCE_PRICE ticks is 1000.00. Quantities: 1 per lot. */
export const PRICE_UNIT = "0.01";

export interface FixVenue {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
  gateway: StartedFixGateway;
  readonly fixConfig: FixGatewayConfig;
  restartFixGateway(): Promise<void>;
  close(): Promise<void>;
}

/** Sessions: compId -> account. Each account gets token `<account>-token-0123456789`. */
export async function startFixVenue(
  venue: string,
  sessions: readonly { id: string; compId: string; account: string; cancelOnDisconnect?: boolean }[],
): Promise<FixVenue> {
  const server = await NatsServer.start();
  const nc = await connectTo(server.url);
  await provision(nc, venueProvisioningPlan({ venue }));
  const kv = await new Kvm(nc).open(accountsBucket(venue));
  const dir = mkdtempSync(join(tmpdir(), "fix-venue-"));
  const accounts = [...new Set(sessions.map((s) => s.account))];
  for (const name of accounts) {
    await AccountRegistry.putAccount(kv, { name, disabled: false, principals: [name], limits: {}, defaultStpMode: 0 });
    await AccountRegistry.putToken(kv, `${name}-token-0123456789`, name);
    writeFileSync(join(dir, `${name}.token`), `${name}-token-0123456789\n`, { mode: 0o600 });
  }
  const engine = new EngineProcess({
    natsUrl: server.url,
    venue,
    instanceId: "engine",
    instruments: testInstrumentSettings,
  });
  await engine.start();
  const risk: StartedService = await riskMain({
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
    logLevel: "silent",
    tracing: "none",
  });
  const md = await marketDataMain({
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
    logLevel: "silent",
    tracing: "none",
  });
  const fixConfig: FixGatewayConfig = {
    natsUrl: [server.url],
    venue,
    instanceId: "fix",
    senderCompId: "VENUE",
    orderEntryAddress: `127.0.0.1:${risk.grpcPort}`,
    marketDataAddress: `127.0.0.1:${md.grpcPort}`,
    orderEntryDeadlineMs: 10_000,
    sessions: sessions.map((s): FixSessionConfig => ({
      id: s.id,
      targetCompId: s.compId,
      account: s.account,
      tokenFile: join(dir, `${s.account}.token`),
      cancelOnDisconnect: s.cancelOnDisconnect ?? false,
      maxMessagesPerSecond: 0,
    })),
    fixHost: "127.0.0.1",
    fixPort: 0,
    maxSendingTimeSkewMs: 120_000,
    opsHost: "127.0.0.1",
    opsPort: 0,
    logLevel: "silent",
    tracing: "none",
  };
  const fv: FixVenue = {
    server,
    nc,
    fixConfig,
    gateway: await fixMain(fixConfig),
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
      await nc.close();
      await server.dispose();
    },
  };
  return fv;
}
