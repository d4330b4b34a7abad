import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServer, NatsTrust, ThrowawayPki, type IssuedCert } from "@tradeplane/testkit";
import { ConfigError, connectNats, createLogger, UnavailableError, type NatsSettings } from "../../src/index.ts";

const logger = createLogger({ service: "test", level: "silent" });

/**
 * NATS over TLS as a production cluster runs it: server certificate from the venue's CA,
 * client certificates verified (`verify: true`), and decentralised JWT auth with `.creds`
 * files. A service connects only with all three right.
 */
describe("connectNats against a nats-server with TLS, client certificates and .creds", () => {
  let pki: ThrowawayPki;
  let otherPki: ThrowawayPki;
  let server: NatsServer;
  let client: IssuedCert;
  let foreignClient: IssuedCert;
  let creds: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tp-nats-tls-"));
    pki = await ThrowawayPki.create();
    otherPki = await ThrowawayPki.create("another-ca");
    const trust = await NatsTrust.create(dir);
    const serverCert = await pki.server();
    server = await NatsServer.start({ tls: { ...serverCert, caFile: pki.ca.certFile, verify: true }, trust });
    client = await pki.client("risk-gateway");
    foreignClient = await otherPki.client("risk-gateway");
    creds = await trust.userCreds("venue-services");
  });

  afterAll(async () => {
    await server?.dispose();
    await pki?.dispose();
    await otherPki?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const settings = (overrides: Partial<NatsSettings> = {}): NatsSettings => ({
    natsUrl: [server.url],
    natsCredsFile: creds,
    natsTls: { caFile: pki.ca.certFile, certFile: client.certFile, keyFile: client.keyFile },
    ...overrides,
  });

  it("connects with the CA, a client certificate and a .creds file, and reaches JetStream", async () => {
    const nc = await connectNats(settings(), "tls-test", logger);
    try {
      expect(nc.info?.tls_required).toBe(true);
      const info = await (await jetstreamManager(nc)).getAccountInfo();
      expect(info.limits.max_streams).toBe(-1);
    } finally {
      await nc.close();
    }
  });

  it.each([
    ["without a client certificate", () => settings({ natsTls: { caFile: pki.ca.certFile } })],
    [
      "with a client certificate of another CA",
      () =>
        settings({
          natsTls: { caFile: pki.ca.certFile, certFile: foreignClient.certFile, keyFile: foreignClient.keyFile },
        }),
    ],
    [
      "without the venue's CA (the server's certificate is not trusted)",
      () => settings({ natsTls: { certFile: client.certFile, keyFile: client.keyFile } }),
    ],
    ["without a .creds file", () => settings({ natsCredsFile: undefined })],
  ])("is refused %s", async (_what, make) => {
    await expect(connectNats(make(), "tls-test", logger)).rejects.toBeInstanceOf(UnavailableError);
  });

  it.each([
    ["the CA file", { natsTls: { caFile: "/nonexistent/ca.crt" } }, /TP_NATS_TLS_CA_FILE \(natsTls.caFile\)/],
    ["the .creds file", { natsCredsFile: "/nonexistent/x.creds" }, /TP_NATS_CREDS_FILE/],
  ])("stops with a ConfigError naming %s when it cannot be read", async (_what, overrides, message) => {
    const attempt = connectNats(settings(overrides), "tls-test", logger);
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(message);
  });
});
