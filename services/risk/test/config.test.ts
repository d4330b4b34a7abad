import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRiskGatewayConfig } from "../src/config.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-risk-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const configFile = join(dir, "config.json");
writeFileSync(
  configFile,
  JSON.stringify({ venue: "v", natsUrl: ["nats://127.0.0.1:4222"], instruments: [{ symbol: "A", referencePrice: 1 }] }),
);
const tokenFile = join(dir, "peer-token");
writeFileSync(tokenFile, "a-peer-token-of-at-least-32-characters\n");
const load = (env: Record<string, string>) => loadRiskGatewayConfig({ env: { TP_CONFIG_FILE: configFile, ...env } });

describe("the risk gateway's ownership settings", () => {
  it("a gateway without them decides every account itself", () => {
    const config = load({});
    expect(config.ownership).toBeUndefined();
    expect(config.peerTokens).toBeUndefined();
  });

  it("lease ownership reads the peer address and the peer token file", () => {
    const config = load({ TP_OWNERSHIP: "lease", TP_PEER_ADDRESS: "10.0.0.7:50062", TP_PEER_TOKENS_FILE: tokenFile });
    expect(config.ownership).toBe("lease");
    expect(config.peerAddress).toBe("10.0.0.7:50062");
    expect(config.peerTokens).toEqual(["a-peer-token-of-at-least-32-characters"]);
  });

  it.each([
    ["without a peer address", { TP_OWNERSHIP: "lease", TP_PEER_TOKENS_FILE: tokenFile }, /peerAddress/],
    ["without a peer token", { TP_OWNERSHIP: "lease", TP_PEER_ADDRESS: "10.0.0.7:50062" }, /peerTokens/],
  ])("lease ownership %s is refused", (_name, env, message) => {
    expect(() => load(env)).toThrow(message);
  });

  it("a peer token shorter than 32 characters is refused", () => {
    writeFileSync(join(dir, "short"), "short");
    expect(() =>
      load({ TP_OWNERSHIP: "lease", TP_PEER_ADDRESS: "h:1", TP_PEER_TOKENS_FILE: join(dir, "short") }),
    ).toThrow(/32 characters/);
  });

  it("peerTls is read from one variable per member, and needs a CA (mutual TLS only)", () => {
    const lease = { TP_OWNERSHIP: "lease", TP_PEER_ADDRESS: "10.0.0.7:50062", TP_PEER_TOKENS_FILE: tokenFile };
    const config = load({
      ...lease,
      TP_PEER_TLS_CERT_FILE: "/tls/tls.crt",
      TP_PEER_TLS_KEY_FILE: "/tls/tls.key",
      TP_PEER_TLS_CA_FILE: "/tls/ca.crt",
      TP_PEER_TLS_SERVER_NAME: "v-risk-peer",
    });
    expect(config.peerTls).toEqual({
      certFile: "/tls/tls.crt",
      keyFile: "/tls/tls.key",
      caFile: "/tls/ca.crt",
      serverName: "v-risk-peer",
    });
    expect(() => load({ ...lease, TP_PEER_TLS_CERT_FILE: "/c", TP_PEER_TLS_KEY_FILE: "/k" })).toThrow(
      /TP_PEER_TLS_CA_FILE/,
    );
  });
});
