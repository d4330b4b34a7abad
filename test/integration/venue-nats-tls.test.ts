import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEngineServiceConfig } from "@tradeplane/matching/config";
import { loadRiskGatewayConfig } from "@tradeplane/risk/config";
import { loadMarketDataConfig } from "@tradeplane/market-data/config";
import { loadJournalConfig } from "@tradeplane/journal/config";
import { loadFixGatewayConfig } from "@tradeplane/fix-gateway/config";
import { parseManifests, venueFrom } from "@tradeplane/operator/api/v1alpha1";
import { venueChildren } from "@tradeplane/operator/venue-children";
import { venueModel } from "@tradeplane/operator/venue-model";
import {
  connectNats,
  createLogger,
  provision,
  UnavailableError,
  venueProvisioningPlan,
  type NatsSettings,
} from "@tradeplane/platform";
import { NatsServer, ServiceProcess, ThrowawayPki, type IssuedCert } from "@tradeplane/testkit";

/**
 * The configs the operator renders for a venue with spec.nats.tls, used as they are by the
 * services against a real nats-server that requires TLS and verifies client certificates
 * (`verify: true`). The Secrets the operator mounts are laid out as their volumes lay them
 * out (ca.crt, tls.crt, tls.key under the mount), in a folder that stands for
 * /var/run/secrets/tradeplane; nothing else of the configs is changed.
 */
const MARKET_DATA_MAIN = fileURLToPath(new URL("../../services/market-data/src/main.ts", import.meta.url));
const SECRETS_DIR = "/var/run/secrets/tradeplane";
const logger = createLogger({ service: "test", level: "silent" });
const VENUE = "tlsv";

const venueYaml = (url: string, tls: string | undefined) => `
apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata: { name: ${VENUE}, namespace: markets }
spec:
  instruments:
    - { symbol: ABC, referencePrice: 10000 }
  fix:
    enabled: true
    sessions: [{ id: broker-1, targetCompId: BROKER1, account: alice }]
  journal: { enabled: true }
  nats:
    url: [${url}]
${tls === undefined ? "" : `    tls: ${tls}\n`}`;

let pki: ThrowawayPki;
let otherPki: ThrowawayPki;
let server: NatsServer;
let plainServer: NatsServer;
let client: IssuedCert;
let foreignClient: IssuedCert;
let secrets: string;

/** The operator's ConfigMaps of a venue: each service's config.yaml, by ConfigMap name, paths moved to `secrets`. */
function renderedConfigs(url: string, tls: string | undefined): Map<string, Record<string, unknown>> {
  const venue = venueFrom(parseManifests(venueYaml(url, tls), "venue.yaml"), "venue.yaml");
  const model = venueModel(venue, {
    images: { engine: "e", risk: "r", marketData: "m", fixGateway: "f", journal: "j" },
    pullSecrets: [],
    natsUrl: [url],
  });
  const fixTokens = {
    tokens: new Map([["broker-1", { tokenId: "00000000000000a1", account: "alice", token: "fix-1" }]]),
    allIssued: true,
  };
  const tokens = { "venue-operator": "t1", "risk-officer": "t2", "read-only": "t3" };
  const { objects, invalid } = venueChildren(model, tokens, fixTokens);
  expect(invalid).toEqual([]);
  const configs = new Map<string, Record<string, unknown>>();
  for (const o of objects as unknown as { kind: string; metadata: { name: string }; data: Record<string, string> }[])
    if (o.kind === "ConfigMap")
      configs.set(
        o.metadata.name,
        parse(o.data["config.yaml"]!.replaceAll(`${SECRETS_DIR}/`, `${secrets}/`)) as Record<string, unknown>,
      );
  return configs;
}

/** Loads a config as the service's main does: from the file TP_CONFIG_FILE names. */
function load<C>(loader: (o: { env: Record<string, string> }) => C, config: object): C {
  const file = join(secrets, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  return loader({ env: { TP_CONFIG_FILE: file } });
}

beforeAll(async () => {
  pki = await ThrowawayPki.create();
  otherPki = await ThrowawayPki.create("another-ca");
  const serverCert = await pki.server();
  server = await NatsServer.start({ tls: { ...serverCert, caFile: pki.ca.certFile, verify: true } });
  plainServer = await NatsServer.start();
  client = await pki.client(`${VENUE}-services`);
  foreignClient = await otherPki.client(`${VENUE}-services`);
  // The mounted Secrets: the projected NATS TLS volume, the admin tokens, the FIX session token.
  secrets = mkdtempSync(join(tmpdir(), "tp-venue-secrets-"));
  for (const dir of ["nats-tls", "admin", "fix"]) mkdirSync(join(secrets, dir));
  copyFileSync(pki.ca.certFile, join(secrets, "nats-tls", "ca.crt"));
  copyFileSync(client.certFile, join(secrets, "nats-tls", "tls.crt"));
  copyFileSync(client.keyFile, join(secrets, "nats-tls", "tls.key"));
  for (const role of ["venue-operator", "risk-officer", "read-only"])
    writeFileSync(join(secrets, "admin", role), `admin-token-of-${role}-0123456789\n`);
  writeFileSync(join(secrets, "fix", "broker-1"), "fix-session-token-0123456789\n");
  // The venue's streams, as the operator provisions them (over TLS, with the same files).
  const nc = await connectNats(
    {
      natsUrl: [server.url],
      natsTls: { caFile: pki.ca.certFile, certFile: client.certFile, keyFile: client.keyFile },
    },
    "provisioning",
    logger,
  );
  await provision(nc, venueProvisioningPlan({ venue: VENUE, storage: "memory" }));
  await nc.close();
}, 120_000);

afterAll(async () => {
  await ServiceProcess.killAll();
  await server?.dispose();
  await plainServer?.dispose();
  await pki?.dispose();
  await otherPki?.dispose();
  if (secrets !== undefined) rmSync(secrets, { recursive: true, force: true });
});

const WITH_CLIENT_CERT = "{ caSecret: { name: nats-ca }, clientCertSecret: tlsv-nats-client }";

describe("a venue's services with the configs the operator renders for spec.nats.tls", () => {
  it("start and become ready against a nats-server that requires TLS and a client certificate (market data)", async () => {
    const config = renderedConfigs(server.url, WITH_CLIENT_CERT).get(`${VENUE}-market-data-config`)!;
    expect(config.natsTls).toEqual({
      caFile: join(secrets, "nats-tls", "ca.crt"),
      certFile: join(secrets, "nats-tls", "tls.crt"),
      keyFile: join(secrets, "nats-tls", "tls.key"),
    });
    const md = new ServiceProcess({
      main: MARKET_DATA_MAIN,
      config,
      env: { TP_WS_PORT: "0", TP_WS_HOST: "127.0.0.1", TP_LOG_LEVEL: "warn" },
    });
    await md.start();
    expect((await fetch(`http://127.0.0.1:${md.opsPort}/readyz`)).status).toBe(200);
    await md.signal("SIGTERM");
  });

  it.each([
    ["the engine", `${VENUE}-engine-0-config`, loadEngineServiceConfig],
    ["the risk gateway", `${VENUE}-risk-config`, loadRiskGatewayConfig],
    ["market data", `${VENUE}-market-data-config`, loadMarketDataConfig],
    ["the FIX gateway", `${VENUE}-fix-gateway-config`, loadFixGatewayConfig],
    ["the journal", `${VENUE}-journal-config`, loadJournalConfig],
  ] as const)("of %s load and connect over TLS with the client certificate", async (_name, configMap, loader) => {
    const config = renderedConfigs(server.url, WITH_CLIENT_CERT).get(configMap)!;
    const settings: NatsSettings = load(loader as (o: { env: Record<string, string> }) => NatsSettings, config);
    const nc = await connectNats(settings, "tls-test", logger);
    try {
      expect(nc.info?.tls_required).toBe(true);
      expect(nc.info?.tls_verify).toBe(true);
    } finally {
      await nc.close();
    }
  });

  it.each([
    ["without a client certificate", "{ caSecret: { name: nats-ca } }", undefined],
    ["with a client certificate of another CA", WITH_CLIENT_CERT, "foreign"],
    ["verifying the server against the system's CAs ({}), which do not hold the venue's CA", "{}", undefined],
  ] as const)("are refused %s", async (_name, tls, swap) => {
    const config = renderedConfigs(server.url, tls).get(`${VENUE}-market-data-config`)!;
    const settings = load(loadMarketDataConfig, config);
    const swapped: NatsSettings =
      swap === undefined
        ? settings
        : {
            ...settings,
            natsTls: { ...settings.natsTls, certFile: foreignClient.certFile, keyFile: foreignClient.keyFile },
          };
    // A refused client certificate shows as a connection the server drops (the connect times out).
    await expect(connectNats(swapped, "tls-test", logger)).rejects.toBeInstanceOf(UnavailableError);
  });

  it.each([
    ["spec.nats.tls", "{ caSecret: { name: nats-ca } }", "nats"],
    ["a tls:// URL alone", undefined, "tls"],
  ] as const)(
    "with %s refuse a nats-server that offers no TLS instead of talking plaintext to it",
    async (_name, tls, scheme) => {
      const url = plainServer.url.replace("nats://", `${scheme}://`);
      const config = renderedConfigs(url, tls).get(`${VENUE}-risk-config`)!;
      const settings = load(loadRiskGatewayConfig, config);
      expect(settings.natsTls).toBeDefined();
      await expect(connectNats(settings, "tls-test", logger)).rejects.toBeInstanceOf(UnavailableError);
      // The same config without natsTls connects: the refusal is TLS being required.
      const { natsTls: _natsTls, ...plain } = settings;
      await (await connectNats(plain, "tls-test", logger)).close();
    },
  );
});
