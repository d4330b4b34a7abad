import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putAccount, putToken } from "@tradeplane/accounts";
import { accountsBucket } from "@tradeplane/contracts";
import { tradingVenueSchema } from "@tradeplane/operator/api/v1alpha1";
import {
  engineServiceConfig,
  localPorts,
  marketDataConfig,
  riskGatewayConfig,
  streamSettings,
  type Placement,
} from "@tradeplane/operator/service-configs";
import { ensureLogFormat, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { NatsServer, NatsTrust, REPO_ROOT, ServiceProcess, ThrowawayPki, type IssuedCert } from "@tradeplane/testkit";
import { serviceMain } from "../../src/local/paths.ts";
import { runCli as cli } from "../run-cli.ts";

const ADMIN_TOKEN = "venue-operator-token-0123456789";
const TRADER_TOKEN = "alice-token-0123456789abcdef";

const venue = tradingVenueSchema.parse({
  apiVersion: "tradeplane.io/v1alpha1",
  kind: "TradingVenue",
  metadata: { name: "tlsvenue" },
  spec: { instruments: [{ symbol: "INFY", referencePrice: 150_000 }] },
});

/**
 * A venue as it runs in a cluster with NATS secured: nats-server with TLS that verifies
 * client certificates and trusts an operator's JWTs; every service (engine, risk gateway,
 * market data) configured by the operator's builders with a CA, a client certificate and a
 * `.creds` file, its admin tokens in a file; the gateway's gRPC over mutual TLS; the CLI
 * trading and administering with certificate and token files, as the Helm test hook does.
 */
describe("every service and the CLI on NATS over TLS with client certificates and .creds", () => {
  let dir: string;
  let pki: ThrowawayPki;
  let server: NatsServer;
  let nc: NatsConnection;
  let placement: Placement;
  let services: IssuedCert;
  let cliCert: IssuedCert;
  let grpcServer: IssuedCert;
  let risk: ServiceProcess;
  let creds: string;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tp-tls-venue-"));
    pki = await ThrowawayPki.create();
    const trust = await NatsTrust.create(dir);
    const natsCert = await pki.server();
    server = await NatsServer.start({ tls: { ...natsCert, caFile: pki.ca.certFile, verify: true }, trust });
    services = await pki.client("venue-services");
    cliCert = await pki.client("alice");
    grpcServer = await pki.server();
    creds = await trust.userCreds("venue-services");
    const tls = { caFile: pki.ca.certFile, certFile: services.certFile, keyFile: services.keyFile };

    // Streams, buckets and an account, written over the same secured connection.
    nc = await connect({
      servers: server.url,
      tls,
      authenticator: credsAuthenticator(readFileSync(creds)),
    });
    await provision(nc, venueProvisioningPlan(streamSettings(venue)));
    await ensureLogFormat(nc, venue.metadata.name);
    const kv = await new Kvm(nc).open(accountsBucket(venue.metadata.name));
    await putAccount(kv, { name: "alice", disabled: false, principals: ["alice"], limits: {}, defaultStpMode: 0 });
    await putToken(kv, TRADER_TOKEN, "alice");

    for (const [name, text] of [
      ["admin-token", ADMIN_TOKEN],
      ["trader-token", TRADER_TOKEN],
    ] as const) {
      files[name] = join(dir, name);
      writeFileSync(files[name], `${text}\n`, { mode: 0o600 });
    }
    placement = {
      natsUrl: [server.url],
      natsCredsFile: creds,
      natsTls: tls,
      adminTokenFiles: { venueOperator: files["admin-token"]!, riskOfficer: files["admin-token"]! },
      host: "127.0.0.1",
      ports: localPorts(0),
    };
  });

  afterAll(async () => {
    await ServiceProcess.killAll();
    await nc?.close();
    await server?.dispose();
    await pki?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("starts the engine, the gateway and market data, and trades and administers through the CLI", async () => {
    const engine = new ServiceProcess({
      main: serviceMain("matching"),
      config: engineServiceConfig(venue, 0, placement),
      env: { TP_INSTANCE_ID: "engine-tls", TP_LOG_LEVEL: "warn" },
    });
    risk = new ServiceProcess({
      main: serviceMain("risk"),
      config: riskGatewayConfig(venue, placement),
      env: {
        TP_INSTANCE_ID: "risk-tls",
        TP_LOG_LEVEL: "warn",
        TP_GRPC_TLS_CERT_FILE: grpcServer.certFile,
        TP_GRPC_TLS_KEY_FILE: grpcServer.keyFile,
        TP_GRPC_TLS_CA_FILE: pki.ca.certFile,
        TP_GRPC_TLS_REQUIRE_CLIENT_CERT: "true",
      },
    });
    const marketData = new ServiceProcess({
      main: serviceMain("market-data"),
      config: marketDataConfig(venue, placement),
      env: { TP_INSTANCE_ID: "md-tls", TP_LOG_LEVEL: "warn", TP_WS_PORT: "0" },
    });
    await Promise.all([engine.start(), risk.start(), marketData.start()]);
    for (const s of [engine, risk, marketData])
      expect((await fetch(`http://127.0.0.1:${s.opsPort}/readyz`)).status).toBe(200);

    // By name: a TLS server name may not be an IP address.
    const endpoint = `localhost:${risk.grpcPort}`;
    const tlsFlags = ["--tls-ca", pki.ca.certFile, "--tls-cert", cliCert.certFile, "--tls-key", cliCert.keyFile];
    const order = ["order", "submit", "INFY", "--account", "alice", "--side", "buy", "--qty", "1", "--price", "150000"];
    const placed = await cli(
      "--json",
      "--endpoint",
      endpoint,
      ...tlsFlags,
      "--token-file",
      files["trader-token"]!,
      ...order,
    );
    expect(placed.stderr).toBe("");
    expect(placed.code).toBe(0);
    expect((JSON.parse(placed.stdout) as { reports: { execType: number }[] }).reports[0]!.execType).toBe(1);

    // Without the CA the gateway's certificate is not trusted; without a client certificate the handshake fails.
    const untrusted = await cli("--endpoint", endpoint, "--token-file", files["trader-token"]!, ...order);
    expect(untrusted.code).toBe(3);
    const noClientCert = await cli(
      "--endpoint",
      endpoint,
      "--tls-ca",
      pki.ca.certFile,
      "--token-file",
      files["trader-token"]!,
      ...order,
    );
    expect(noClientCert.code).toBe(3);

    // Admin calls with a token file: a token issued over TLS trades at once.
    const issued = await cli(
      "--json",
      "--endpoint",
      endpoint,
      ...tlsFlags,
      "--admin-token-file",
      files["admin-token"]!,
      "tokens",
      "issue",
      "alice",
    );
    expect(issued.code).toBe(0);
    const secret = (JSON.parse(issued.stdout) as { secret: string }).secret;
    const withIssued = await cli("--json", "--endpoint", endpoint, ...tlsFlags, "--token", secret, ...order);
    expect(withIssued.code).toBe(0);
    // Listed by id, never with its secret; revoked, it is refused.
    const admin = ["--endpoint", endpoint, ...tlsFlags, "--admin-token-file", files["admin-token"]!];
    const tokenId = (JSON.parse(issued.stdout) as { token: { tokenId: string } }).token.tokenId;
    const listed = await cli("--json", ...admin, "tokens", "list", "alice");
    expect(listed.stdout).toContain(tokenId);
    expect(listed.stdout).not.toContain(secret);
    expect((await cli(...admin, "tokens", "revoke", tokenId, "--reason", "test done")).code).toBe(0);
    expect((await cli("--endpoint", endpoint, ...tlsFlags, "--token", secret, ...order)).code).toBe(4);

    // The CLI reads the venue's log over the same secured NATS: the two orders that passed, one lot each.
    const manifest = join(dir, "venue.json");
    writeFileSync(manifest, JSON.stringify(venue));
    const natsFlags = ["--nats-url", server.url, "--nats-creds", creds, "--nats-tls-ca", pki.ca.certFile];
    const clientFlags = ["--nats-tls-cert", services.certFile, "--nats-tls-key", services.keyFile];
    const replayed = await cli(
      "--json",
      "replay",
      "--to-seq",
      "1000000000",
      "-f",
      manifest,
      ...natsFlags,
      ...clientFlags,
    );
    expect(replayed.code).toBe(0);
    const books = (
      JSON.parse(replayed.stdout) as { books: { symbol: string; bids: { price: number; qty: number }[] }[] }
    ).books;
    expect(books.find((b) => b.symbol === "INFY")!.bids[0]).toEqual({ price: 150_000, qty: 2 });
    const withoutCert = await cli("--json", "replay", "--to-seq", "1", "-f", manifest, ...natsFlags);
    expect(withoutCert.code).toBe(3);

    // backtest --command-log reads it the same way: alice's two orders left out, a strategy in her place.
    const backtested = await cli(
      "--json",
      "backtest",
      "--strategy-module",
      join(REPO_ROOT, "examples", "strategies", "01-join-the-best.ts"),
      "--command-log",
      "--account",
      "alice",
      "-f",
      manifest,
      ...natsFlags,
      ...clientFlags,
    );
    expect(backtested.stderr).toBe("");
    expect((JSON.parse(backtested.stdout) as { commandLog: { skipped: number } }).commandLog.skipped).toBe(2);
  });

  it("stops a service whose NATS settings lack the client certificate, with the reason", async () => {
    const engine = new ServiceProcess({
      main: serviceMain("matching"),
      config: engineServiceConfig(venue, 0, { ...placement, natsTls: { caFile: pki.ca.certFile } }),
      env: { TP_INSTANCE_ID: "engine-no-cert" },
    });
    await expect(engine.start()).rejects.toThrow(/exited before ready[\s\S]*cannot connect to NATS/);
  });
});
