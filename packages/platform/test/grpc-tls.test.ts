import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  credentials,
  makeGenericClientConstructor,
  status,
  type ChannelCredentials,
  type ServiceDefinition,
  type ServerUnaryCall,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { ThrowawayPki, unary, type IssuedCert } from "@tradeplane/testkit";
import { z } from "zod";
import {
  ConfigError,
  createLogger,
  grpcServerCredentials,
  grpcTlsSchema,
  Health,
  loadConfig,
  serviceEndpointsSchema,
  startGrpcServer,
  verifiedClientCommonName,
  type GrpcServer,
  type GrpcTlsSettings,
} from "../src/index.ts";

const silent = createLogger({ service: "test", destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** A service answering with the CN of the verified client certificate ("" without one). */
const whoAmIDefinition: ServiceDefinition = {
  whoAmI: {
    path: "/tradeplane.test.WhoAmI/WhoAmI",
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (s: string) => Buffer.from(s),
    responseDeserialize: (b: Buffer) => b.toString(),
  },
};
const WhoAmIClient = makeGenericClientConstructor(whoAmIDefinition, "WhoAmI");
type WhoAmIClient = InstanceType<typeof WhoAmIClient> & {
  whoAmI(req: Buffer, options: { deadline: number }, cb: (err: Error | null, res: string) => void): void;
};

async function startServer(tls: GrpcTlsSettings): Promise<GrpcServer> {
  return startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    health: new Health(),
    logger: silent,
    reflection: false,
    tls,
    services: [
      {
        name: "tradeplane.test.WhoAmI",
        definition: whoAmIDefinition,
        implementation: {
          whoAmI: (call: ServerUnaryCall<Buffer, string>, cb: sendUnaryData<string>) =>
            cb(null, verifiedClientCommonName(call) ?? ""),
        },
      },
    ],
  });
}

describe("gRPC server TLS and mutual TLS over loopback", () => {
  let pki: ThrowawayPki;
  let strangerPki: ThrowawayPki;
  let serverCert: IssuedCert;
  let caPem: Buffer;
  let mtls: GrpcServer;
  let tlsOnly: GrpcServer;
  const clients: WhoAmIClient[] = [];

  const tlsCredentials = async (client?: IssuedCert): Promise<ChannelCredentials> =>
    client === undefined
      ? credentials.createSsl(caPem)
      : credentials.createSsl(caPem, await readFile(client.keyFile), await readFile(client.certFile));
  const whoAmI = (port: number, creds: ChannelCredentials): Promise<string> => {
    // The server certificate names localhost; the channel dials 127.0.0.1 (no DNS, no IPv6 surprise).
    const client = new WhoAmIClient(`127.0.0.1:${port}`, creds, {
      "grpc.ssl_target_name_override": "localhost",
    }) as WhoAmIClient;
    clients.push(client);
    return unary<string>((cb) => client.whoAmI(Buffer.alloc(0), { deadline: Date.now() + 10_000 }, cb));
  };

  beforeAll(async () => {
    pki = await ThrowawayPki.create();
    strangerPki = await ThrowawayPki.create("stranger-ca");
    serverCert = await pki.server();
    caPem = await readFile(pki.ca.certFile);
    mtls = await startServer({ ...serverCert, caFile: pki.ca.certFile, requireClientCert: true });
    tlsOnly = await startServer(serverCert);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await mtls?.close();
    await tlsOnly?.close();
    await pki?.dispose();
    await strangerPki?.dispose();
  });

  it("accepts a client certificate signed by the CA and reports its subject CN", async () => {
    expect(await whoAmI(mtls.port, await tlsCredentials(await pki.client("alice")))).toBe("alice");
  });

  it.each([
    ["no client certificate", async () => tlsCredentials()],
    ["a client certificate from another CA", async () => tlsCredentials(await strangerPki.client("alice"))],
    ["plaintext", async () => credentials.createInsecure()],
  ])("refuses a client with %s when client certificates are required", async (_what, creds) => {
    await expect(whoAmI(mtls.port, await creds())).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });

  it("serves TLS without client certificates when no CA is set, and no principal comes from the transport", async () => {
    expect(await whoAmI(tlsOnly.port, await tlsCredentials())).toBe("");
    expect(await whoAmI(tlsOnly.port, await tlsCredentials(await pki.client("alice")))).toBe("");
  });

  it("refuses plaintext clients of a TLS server", async () => {
    await expect(whoAmI(tlsOnly.port, credentials.createInsecure())).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });

  it.each<[string, (c: IssuedCert, ca: string) => GrpcTlsSettings, RegExp]>([
    [
      "a missing certificate file",
      (c) => ({ ...c, certFile: "/nonexistent/server.crt" }),
      /^TP_GRPC_TLS_CERT_FILE \(grpcTls\.certFile\): cannot read \/nonexistent\/server\.crt: ENOENT$/,
    ],
    [
      "a missing key file",
      (c) => ({ ...c, keyFile: "/nonexistent/server.key" }),
      /^TP_GRPC_TLS_KEY_FILE \(grpcTls\.keyFile\): cannot read/,
    ],
    [
      "a missing CA file",
      (c) => ({ ...c, caFile: "/nonexistent/ca.crt", requireClientCert: true }),
      /^TP_GRPC_TLS_CA_FILE \(grpcTls\.caFile\): cannot read/,
    ],
    [
      "a key where the certificate should be",
      (c) => ({ ...c, certFile: c.keyFile }),
      /^TP_GRPC_TLS_CERT_FILE \(grpcTls\.certFile\): .* holds no PEM certificate/,
    ],
    [
      "a certificate where the key should be",
      (c) => ({ ...c, keyFile: c.certFile }),
      /^TP_GRPC_TLS_KEY_FILE \(grpcTls\.keyFile\): .* holds no PEM private key/,
    ],
    [
      "the key of another certificate",
      (c, ca) => ({ ...c, keyFile: ca.replace(/\.crt$/, ".key") }),
      /^TP_GRPC_TLS_KEY_FILE \(grpcTls\.keyFile\): .* is not the key of the certificate/,
    ],
  ])("refuses %s with a one-line ConfigError naming the setting", async (_what, settings, message) => {
    const attempt = grpcServerCredentials(settings(serverCert, pki.ca.certFile));
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.not.toThrow(/\n/);
  });

  it("refuses an expired certificate", async () => {
    await expect(grpcServerCredentials(serverCert, new Date(Date.now() + 3 * 86_400_000))).rejects.toThrow(
      /^TP_GRPC_TLS_CERT_FILE \(grpcTls\.certFile\): the certificate in .* expired on /,
    );
  });
});

describe("grpcTls and grpcReflection settings", () => {
  const schema = z.object({ ...serviceEndpointsSchema({ grpcPort: 1, opsPort: 2 }) });

  it("reads grpcTls from one environment variable per member", () => {
    const config = loadConfig(schema, {
      env: {
        TP_GRPC_TLS_CERT_FILE: "/tls/tls.crt",
        TP_GRPC_TLS_KEY_FILE: "/tls/tls.key",
        TP_GRPC_TLS_CA_FILE: "/tls/ca.crt",
        TP_GRPC_TLS_REQUIRE_CLIENT_CERT: "true",
        TP_GRPC_REFLECTION: "false",
      },
    });
    expect(config.grpcTls).toEqual({
      certFile: "/tls/tls.crt",
      keyFile: "/tls/tls.key",
      caFile: "/tls/ca.crt",
      requireClientCert: true,
    });
    expect(config.grpcReflection).toBe(false);
  });

  it("overlays one member's environment variable on grpcTls from the config file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tp-config-"));
    const file = join(dir, "service.yaml");
    await writeFile(file, "grpcTls:\n  certFile: /file/tls.crt\n  keyFile: /file/tls.key\n");
    const config = loadConfig(schema, { env: { TP_CONFIG_FILE: file, TP_GRPC_TLS_KEY_FILE: "/env/tls.key" } });
    expect(config.grpcTls).toEqual({ certFile: "/file/tls.crt", keyFile: "/env/tls.key" });
    await rm(dir, { recursive: true });
  });

  it("leaves both unset by default (plaintext; reflection on through DEFAULT_GRPC_REFLECTION)", () => {
    const config = loadConfig(schema, { env: {} });
    expect(config.grpcTls).toBeUndefined();
    expect(config.grpcReflection).toBeUndefined();
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ["a key without a certificate", { TP_GRPC_TLS_KEY_FILE: "/k" }, /TP_GRPC_TLS_CERT_FILE \(grpcTls\.certFile\)/],
    [
      "required client certificates without a CA",
      { TP_GRPC_TLS_CERT_FILE: "/c", TP_GRPC_TLS_KEY_FILE: "/k", TP_GRPC_TLS_REQUIRE_CLIENT_CERT: "true" },
      /TP_GRPC_TLS_CA_FILE \(grpcTls\.caFile\): is required with requireClientCert: true/,
    ],
    [
      "a CA without requiring client certificates",
      { TP_GRPC_TLS_CERT_FILE: "/c", TP_GRPC_TLS_KEY_FILE: "/k", TP_GRPC_TLS_CA_FILE: "/ca" },
      /TP_GRPC_TLS_REQUIRE_CLIENT_CERT \(grpcTls\.requireClientCert\): must be true when caFile is set/,
    ],
    [
      "a yes/no setting that is neither",
      { TP_GRPC_TLS_CERT_FILE: "/c", TP_GRPC_TLS_KEY_FILE: "/k", TP_GRPC_TLS_REQUIRE_CLIENT_CERT: "maybe" },
      /TP_GRPC_TLS_REQUIRE_CLIENT_CERT \(grpcTls\.requireClientCert\)/,
    ],
    ["reflection that is neither on nor off", { TP_GRPC_REFLECTION: "sometimes" }, /TP_GRPC_REFLECTION/],
  ])("refuses %s naming the setting", (_what, env, message) => {
    expect(() => loadConfig(schema, { env })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { env })).toThrow(message);
  });

  it("refuses unknown members of grpcTls (inline keys are not a setting)", () => {
    expect(grpcTlsSchema.safeParse({ certFile: "/c", keyFile: "/k", key: "-----BEGIN" }).success).toBe(false);
  });
});
