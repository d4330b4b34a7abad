import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadEngineServiceConfig } from "@tradeplane/matching/config";
import { loadRiskGatewayConfig } from "@tradeplane/risk/config";
import { loadMarketDataConfig } from "@tradeplane/market-data/config";
import { loadJournalConfig } from "@tradeplane/journal/config";
import { loadFixGatewayConfig } from "@tradeplane/fix-gateway/config";
import { tradingVenueSchema } from "@tradeplane/operator/api/v1alpha1";
import {
  engineServiceConfig,
  fixGatewayConfig,
  journalConfig,
  localPorts,
  marketDataConfig,
  partitionsOf,
  POD_PORTS,
  POD_SECRET_FILES,
  riskGatewayConfig,
  type Placement,
} from "@tradeplane/operator/service-configs";

/**
 * Spec and services agree: every TradingVenue the CRD schema accepts yields configs that
 * each service's own loader (the one its main runs, exit 78 on refusal) accepts, and no
 * config holds a secret. Specs are generated around the edges of every range in the schema
 * (0, the minimum, the maximum), where the two used to disagree (risk defaults of 0).
 */
const dir = mkdtempSync(join(tmpdir(), "tp-spec-configs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN_TOKEN = "admin-token-from-a-secret-0123456789";
const NATS_TOKEN = "nats-token-from-a-secret-0123";
writeFileSync(join(dir, "admin-token"), `${ADMIN_TOKEN}\n`);
writeFileSync(join(dir, "nats-token"), NATS_TOKEN);
const DATABASE_URL = "postgres://journal:from-a-secret@db:5432/journal";
writeFileSync(join(dir, "database-url"), `${DATABASE_URL}\n`);
writeFileSync(join(dir, "risk-peer-token"), "risk-peer-token-from-a-secret-0123456789\n");
for (const f of ["ca.crt", "tls.crt", "tls.key", "nats.creds"]) writeFileSync(join(dir, f), "not read by the loader");

const local: Placement = {
  natsUrl: ["nats://127.0.0.1:7400"],
  natsTokenFile: join(dir, "nats-token"),
  adminTokenFiles: { venueOperator: join(dir, "admin-token"), riskOfficer: join(dir, "admin-token") },
  host: "127.0.0.1",
  ports: localPorts(7400),
};
const pod: Placement = {
  natsUrl: ["nats://nats.tradeplane:4222"],
  ...POD_SECRET_FILES,
  adminTokenFiles: { venueOperator: join(dir, "admin-token"), readOnly: join(dir, "admin-token") },
  natsCredsFile: join(dir, "nats.creds"),
  riskPeerTokenFile: join(dir, "risk-peer-token"),
  natsTls: { caFile: join(dir, "ca.crt"), certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") },
  host: "0.0.0.0",
  ports: POD_PORTS,
};

let n = 0;
/** Loads a config the way a service's main does: from a config file, TP_CONFIG_FILE. */
function load<C>(loader: (o: { env: Record<string, string> }) => C, config: object): C {
  const file = join(dir, `config-${++n}.json`);
  writeFileSync(file, JSON.stringify(config));
  // TP_PEER_ADDRESS is what the risk Deployment sets from the pod's IP (several replicas).
  return loader({ env: { TP_CONFIG_FILE: file, TP_PEER_ADDRESS: "10.0.0.7:50062" } });
}

const edge = (min: number, max: number) =>
  fc.constantFrom(min, max, Math.min(max, min + 1), Math.floor((min + max) / 2));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const defined = (o: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
/** Leaves out absent fields, in nested groups too, as a manifest would. */
const clean = (o: object | undefined): Record<string, unknown> | undefined =>
  o === undefined
    ? undefined
    : defined(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "object" ? clean(v) : v])));

const instrument = (partition: number) =>
  fc
    .record({
      symbol: fc.stringMatching(/^[A-Z0-9][A-Za-z0-9_-]{0,31}$/),
      description: maybe(fc.string({ maxLength: 200 })),
      priceUnit: maybe(fc.constantFrom("0.01", "1", "0.05", "0.0001", "100")),
      lotSize: maybe(fc.constantFrom("1", "75", "0.1", "1000000")),
      tickSize: maybe(edge(1, 2 ** 31 - 1)),
      qtyIncrement: maybe(edge(1, 2 ** 31 - 1)),
      minQty: maybe(edge(1, 1_000)),
      maxQty: maybe(fc.constantFrom(1_000, 1_000_000_000, Number.MAX_SAFE_INTEGER)),
      maxOrderValue: maybe(fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER)),
      referencePrice: fc.constantFrom(1, 100, 130_000, 2 ** 31 - 1, Number.MAX_SAFE_INTEGER),
      priceBandPercent: maybe(edge(0, 100)),
      initialState: maybe(fc.constantFrom("PRE_OPEN", "CONTINUOUS", "HALTED", "CLOSED")),
      cancelOnHalt: maybe(fc.boolean()),
    })
    .map((i) => ({ ...defined(i), symbol: i.symbol, partition }));

const limit = (max: number) => maybe(fc.constantFrom(0, 1, max));
const spec = fc
  .record({
    partitions: fc.integer({ min: 1, max: 3 }),
    market: maybe(fc.record({ notionalExponent: edge(-18, 0), currency: fc.constantFrom("INR", "USD", "USDT") })),
    engine: maybe(
      fc.record({
        snapshotEveryCommands: maybe(edge(0, 1e9)),
        snapshotEverySeconds: maybe(edge(0, 86_400)),
        maxOrders: maybe(edge(1_024, 1 << 26)),
        standby: maybe(fc.boolean()),
      }),
    ),
    risk: maybe(
      fc.record({
        replicas: maybe(edge(1, 32)),
        commandTimeoutMs: maybe(edge(100, 60_000)),
        defaults: maybe(
          fc.record({
            maxOrderQty: limit(Number.MAX_SAFE_INTEGER),
            maxOrderNotional: limit(Number.MAX_SAFE_INTEGER),
            priceCollarBps: limit(100_000),
            maxPosition: limit(Number.MAX_SAFE_INTEGER),
            creditLimit: limit(Number.MAX_SAFE_INTEGER),
            maxOrdersPerSecond: limit(1_000_000),
          }),
        ),
      }),
    ),
    marketData: maybe(fc.record({ depth: maybe(edge(1, 500)), replicas: maybe(edge(1, 32)) })),
    journal: maybe(
      fc.record({ enabled: fc.boolean(), poolSize: maybe(edge(1, 64)), batchMessages: maybe(edge(1, 65_536)) }),
    ),
    calendar: maybe(
      fc.record({
        timeZone: maybe(fc.constantFrom("Asia/Kolkata", "UTC", "America/New_York", "Europe/London")),
        tradingDayEnd: maybe(fc.constantFrom("00:00", "17:00", "23:59", "24:00")),
        settlementDays: maybe(edge(0, 10)),
        holidays: maybe(fc.constantFrom([], ["2026-01-26", "2026-12-25"])),
        weekendDays: maybe(fc.constantFrom([], ["Sat", "Sun"], ["Fri"])),
      }),
    ),
    observability: maybe(
      fc
        .record({
          logLevel: fc.constantFrom("error", "warn", "info", "debug"),
          tracing: fc.constantFrom("none", "console", "otlp"),
          otlpEndpoint: maybe(fc.constant("http://otel-collector.monitoring:4318/v1/traces")),
          traceSampleBps: maybe(edge(0, 10_000)),
          resourceAttributes: maybe(
            fc.constantFrom({}, { "deployment.environment": "prod", "k8s.cluster.name": "mumbai-1" }),
          ),
        })
        .map((o) => defined(o)),
    ),
    fix: maybe(
      fc.record({
        enabled: fc.boolean(),
        sessions: fc.constant([{ id: "b1", targetCompId: "BROKER1", account: "alice" }]),
      }),
    ),
  })
  .chain((s) =>
    fc
      .tuple(...Array.from({ length: s.partitions }, (_, p) => fc.array(instrument(p), { minLength: 1, maxLength: 3 })))
      .map((lists) => {
        const instruments = lists.flat().map((i, k) => ({ ...i, symbol: `${String(i.symbol).slice(0, 28)}-${k}` }));
        return {
          apiVersion: "tradeplane.io/v1alpha1",
          kind: "TradingVenue",
          metadata: { name: "prop" },
          spec: defined({
            instruments,
            market: s.market,
            engine: clean(s.engine),
            risk: clean(s.risk),
            marketData: clean(s.marketData),
            journal: clean(s.journal),
            calendar: s.calendar && defined(s.calendar),
            observability: s.observability,
            fix: s.fix,
          }),
        };
      }),
  );

describe("every valid TradingVenue yields configs every service accepts", () => {
  it("accepts the configs of generated specs, in a pod and on one machine", () => {
    let valid = 0;
    fc.assert(
      fc.property(spec, fc.boolean(), (manifest, inPod) => {
        const parsed = tradingVenueSchema.safeParse(manifest);
        fc.pre(parsed.success);
        valid++;
        const venue = parsed.data!;
        const placement = inPod ? pod : local;
        for (const p of partitionsOf(venue))
          expect(load(loadEngineServiceConfig, engineServiceConfig(venue, p, placement)).partition).toBe(p);
        const risk = load(loadRiskGatewayConfig, riskGatewayConfig(venue, placement));
        expect(risk.defaultLimits).toEqual(venue.spec.risk.defaults);
        expect(risk.adminTokens?.venueOperator).toEqual([ADMIN_TOKEN]);
        load(loadMarketDataConfig, marketDataConfig(venue, placement));
        // Every service traces as the venue says, resource attributes included.
        expect(risk.traceResourceAttributes).toEqual(venue.spec.observability.resourceAttributes);
        expect(risk.tracing).toBe(venue.spec.observability.tracing);
        const endpoints = { orderEntry: "risk:50061", marketData: "md:50071" };
        const fix = fixGatewayConfig(venue, placement, endpoints, () => join(dir, "admin-token"));
        if (venue.spec.fix.enabled) {
          const loaded = load(loadFixGatewayConfig, fix!);
          expect(loaded.tracing).toBe(venue.spec.observability.tracing);
          expect(loaded.traceResourceAttributes).toEqual(venue.spec.observability.resourceAttributes);
        } else expect(fix).toBeUndefined();
        const journal = journalConfig(
          venue,
          placement,
          inPod ? { databaseUrlFile: join(dir, "database-url") } : { pgliteDir: "/data/journal" },
        );
        if (venue.spec.journal.enabled) {
          const loaded = load(loadJournalConfig, journal!);
          expect(loaded.calendar).toEqual(venue.spec.calendar);
          expect(loaded.databaseUrl ?? loaded.pgliteDir).toBe(inPod ? DATABASE_URL : "/data/journal");
        } else expect(journal).toBeUndefined();
      }),
      { numRuns: 100, seed: 15 },
    );
    expect(valid, "generated specs the schema accepted").toBeGreaterThan(50);
  });

  it("accepts venue risk defaults of 0 (they block every order the limit applies to, as on an account)", () => {
    const venue = tradingVenueSchema.parse({
      apiVersion: "tradeplane.io/v1alpha1",
      kind: "TradingVenue",
      metadata: { name: "zero" },
      spec: {
        instruments: [{ symbol: "X", referencePrice: 100 }],
        risk: {
          defaults: {
            maxOrderQty: 0,
            maxOrderNotional: 0,
            priceCollarBps: 0,
            maxPosition: 0,
            creditLimit: 0,
            maxOrdersPerSecond: 0,
          },
        },
      },
    });
    expect(load(loadRiskGatewayConfig, riskGatewayConfig(venue, local)).defaultLimits).toEqual({
      maxOrderQty: 0,
      maxOrderNotional: 0,
      priceCollarBps: 0,
      maxPosition: 0,
      creditLimit: 0,
      maxOrdersPerSecond: 0,
    });
  });

  it.each([
    ["in a pod", pod],
    ["on one machine", local],
  ])("puts no secret into any config %s, only the files that hold them", (_where, placement) => {
    const venue = tradingVenueSchema.parse({
      apiVersion: "tradeplane.io/v1alpha1",
      kind: "TradingVenue",
      metadata: { name: "sec" },
      spec: { instruments: [{ symbol: "X", referencePrice: 100 }] },
    });
    for (const config of [
      engineServiceConfig(venue, 0, placement),
      riskGatewayConfig(venue, placement),
      marketDataConfig(venue, placement),
    ]) {
      const text = JSON.stringify(config);
      expect(text).not.toContain(ADMIN_TOKEN);
      expect(text).not.toContain(NATS_TOKEN);
      expect(text).not.toMatch(/"(natsToken|adminToken|natsPassword)"/);
    }
    expect(load(loadEngineServiceConfig, engineServiceConfig(venue, 0, placement)).adminTokens).toBeDefined();
    expect(JSON.stringify(marketDataConfig(venue, placement))).not.toContain("adminTokens");
  });
});
