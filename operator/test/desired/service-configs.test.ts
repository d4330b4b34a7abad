import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { engineServiceConfigSchema } from "@tradeplane/matching/config";
import { riskGatewayConfigSchema } from "@tradeplane/risk/config";
import { marketDataConfigSchema } from "@tradeplane/market-data/config";
import { fixGatewayConfigSchema } from "@tradeplane/fix-gateway/config";
import { venueProvisioningPlan } from "@tradeplane/platform";
import { parseManifests, venueFrom } from "../../src/api/v1alpha1/index.ts";
import {
  engineServiceConfig,
  fixGatewayConfig,
  localPorts,
  marketDataConfig,
  partitionsOf,
  POD_PORTS,
  riskGatewayConfig,
  streamSettings,
  type Placement,
} from "../../src/desired/service-configs.ts";

const text = readFileSync(new URL("../../../examples/venue.yaml", import.meta.url), "utf8");
const venue = venueFrom(parseManifests(text, "venue.yaml"), "venue.yaml");
const pod: Placement = { natsUrl: ["nats://nats:4222"], host: "0.0.0.0", ports: POD_PORTS, natsCredsFile: "/creds/x" };

describe("service configuration from a TradingVenue", () => {
  it("gives each engine partition its instruments in the engine's own units", () => {
    expect(partitionsOf(venue)).toEqual([0]);
    const config = engineServiceConfigSchema.parse(engineServiceConfig(venue, 0, pod));
    expect(config.instruments.map((i) => i.symbol)).toEqual(["RELIANCE", "INFY", "TCS", "SBIN", "IDEA", "NIFTY-FUT"]);
    expect(config).toMatchObject({
      venue: "demo",
      partition: 0,
      snapshotEveryCommands: 50_000,
      natsCredsFile: "/creds/x",
    });
    const future = config.instruments.find((i) => i.symbol === "NIFTY-FUT")!;
    expect(future).toMatchObject({
      tickSlabs: [{ fromPrice: 0, tickSize: 5 }],
      referencePrice: 2_600_000,
      bandPercent: 10,
    });
  });

  it("gives the risk gateway every instrument with its notional per tick and lot, and the default limits", () => {
    const config = riskGatewayConfigSchema.parse(riskGatewayConfig(venue, pod));
    expect(config.instruments.find((i) => i.symbol === "NIFTY-FUT")).toEqual({
      symbol: "NIFTY-FUT",
      partition: 0,
      referencePrice: 2_600_000,
      notionalPerTickLot: 75,
    });
    expect(config.defaultLimits).toMatchObject({ maxOrderQty: 100_000, priceCollarBps: 500 });
  });

  it("gives market data the reference data it serves and the depth of the spec", () => {
    const config = marketDataConfigSchema.parse(marketDataConfig(venue, pod));
    expect(config.defaultDepth).toBe(10);
    expect(config.instruments.find((i) => i.symbol === "NIFTY-FUT")).toMatchObject({
      quoteCurrency: "INR",
      priceUnit: "0.01",
      lotSize: "75",
      notionalPerTickLot: 75,
      tickBands: [{ fromPrice: 0, tickSize: 5 }],
      initialState: "CONTINUOUS",
    });
  });

  it("places every service on its own port on one machine", () => {
    const p = localPorts(14_000);
    const all = [
      p.riskGrpc,
      p.riskOps,
      p.marketDataGrpc,
      p.marketDataOps,
      p.marketDataWs,
      p.engineGrpc(0),
      p.engineOps(0),
      p.engineGrpc(1),
      p.engineOps(1),
    ];
    expect(new Set(all).size).toBe(all.length);
    expect(Math.min(...all)).toBeGreaterThan(14_000);
  });

  it("turns stream settings into the provisioning plan", () => {
    const plan = venueProvisioningPlan(streamSettings(venue));
    expect(plan.streams.map((s) => [s.name, s.maxAgeSeconds])).toEqual([
      ["DEMO_CMD", 0],
      ["DEMO_EVT", 7 * 86_400],
    ]);
  });

  it("runs the FIX gateway only when the spec enables it, with each session's token in a file", () => {
    const endpoints = { orderEntry: "risk:50061", marketData: "md:50071" };
    const tokenFile = (account: string) => `/secrets/${account}.token`;
    expect(fixGatewayConfig(venue, pod, endpoints, tokenFile)).toBeUndefined();
    const withFix = {
      ...venue,
      spec: {
        ...venue.spec,
        fix: {
          enabled: true,
          senderCompId: "NSEX",
          sessions: [
            { id: "b1", targetCompId: "BROKER1", account: "alice", cancelOnDisconnect: true, maxMessagesPerSecond: 50 },
          ],
          service: { type: "ClusterIP" as const },
        },
      },
    };
    const config = fixGatewayConfigSchema.parse(fixGatewayConfig(withFix, pod, endpoints, tokenFile));
    expect(config).toMatchObject({
      venue: "demo",
      senderCompId: "NSEX",
      orderEntryAddress: "risk:50061",
      marketDataAddress: "md:50071",
      fixPort: 9878,
      opsPort: 9467,
      sessions: [
        {
          id: "b1",
          targetCompId: "BROKER1",
          account: "alice",
          tokenFile: "/secrets/alice.token",
          cancelOnDisconnect: true,
        },
      ],
    });
    expect(JSON.stringify(config)).not.toMatch(/token"\s*:/i);
  });
});
