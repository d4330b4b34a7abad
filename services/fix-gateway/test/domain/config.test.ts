import { describe, expect, it } from "vitest";
import { fixGatewayConfigSchema } from "../../src/config.ts";

const base = {
  natsUrl: ["nats://127.0.0.1:4222"],
  venue: "demo",
  senderCompId: "VENUE",
  orderEntryAddress: "risk:50061",
  marketDataAddress: "md:50071",
};
const session = { id: "broker-a", targetCompId: "BROKER_A", account: "acc1", tokenFile: "/run/secrets/a" };
const tls = { certFile: "/run/secrets/fix.crt", keyFile: "/run/secrets/fix.key" };

describe("FIX gateway configuration: client certificates", () => {
  it.each([
    ["no TLS, no subject", {}, {}, true],
    [
      "TLS with a CA and a session's subject",
      { fixTls: { ...tls, caFile: "/run/secrets/ca.crt" } },
      { clientCertSubject: "broker-a" },
      true,
    ],
    [
      "TLS with a CA, no subject (optional verification)",
      { fixTls: { ...tls, caFile: "/run/secrets/ca.crt" } },
      {},
      true,
    ],
    ["a subject without a CA to verify it against", { fixTls: tls }, { clientCertSubject: "broker-a" }, false],
    ["a subject without TLS", {}, { clientCertSubject: "broker-a" }, false],
  ])("%s: valid %s", (_what, gateway, extra, valid) => {
    const parsed = fixGatewayConfigSchema.safeParse({ ...base, ...gateway, sessions: [{ ...session, ...extra }] });
    expect(parsed.success).toBe(valid);
  });

  it("takes OTLP tracing settings", () => {
    const parsed = fixGatewayConfigSchema.parse({
      ...base,
      sessions: [session],
      tracing: "otlp",
      otlpEndpoint: "http://collector:4318/v1/traces",
      traceSampleRatio: 0.5,
    });
    expect(parsed).toMatchObject({ tracing: "otlp", traceSampleRatio: 0.5 });
  });
});
