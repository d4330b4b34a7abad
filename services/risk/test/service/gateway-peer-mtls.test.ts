import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { credentials, Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import {
  GatewayPeerClient,
  GatewayPeerService,
  type ForwardRequest,
  type ForwardResponse,
} from "@tradeplane/contracts";
import { ConfigError, createLogger, Health, startGrpcServer, type GrpcServer } from "@tradeplane/platform";
import { ThrowawayPki } from "@tradeplane/testkit";
import { gatewayPeerService, PeerClients, PeerTokens } from "../../src/adapters/gateway-peer.ts";
import { loadPeerTls } from "../../src/adapters/peer-tls.ts";
import { order } from "./gateway-fixture.ts";

const logger = createLogger({ service: "risk-test", level: "silent" });
const TOKEN = "peer-token-of-the-venue-0123456789abcdef";
/** The name every replica's certificate carries; replicas dial addresses, not this name. */
const SERVER_NAME = "tls-risk-peer";

/**
 * GatewayPeer with mutual TLS over real gRPC on loopback: both ends present a certificate of
 * the venue's peer CA and verify the other's; the token is still required.
 */
describe("GatewayPeer over mutual TLS", () => {
  let pki: ThrowawayPki;
  let stranger: ThrowawayPki;
  let server: GrpcServer;
  const seen: ForwardRequest[] = [];
  let address: string;

  const submit: ForwardRequest = {
    account: "alice",
    principal: "alice",
    fromReplica: "gw1-abc",
    request: { $case: "submit", value: order({ account: "alice" }) },
  };

  beforeAll(async () => {
    pki = await ThrowawayPki.create("peer-ca");
    stranger = await ThrowawayPki.create("stranger-ca");
    const own = await pki.peer("risk-0", [SERVER_NAME]);
    const tls = await loadPeerTls({ ...own, caFile: pki.ca.certFile, serverName: SERVER_NAME });
    server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      credentials: tls.server,
      health: new Health(),
      logger,
      reflection: false,
      services: [
        {
          name: "tradeplane.v1.GatewayPeer",
          definition: GatewayPeerService,
          implementation: gatewayPeerService({
            tokens: new PeerTokens([TOKEN]),
            logger,
            handle: async (req): Promise<ForwardResponse> => {
              seen.push(req);
              return { response: { $case: "submit", value: { reports: [] } } };
            },
          }),
        },
      ],
    });
    // An IP address, as a replica dials a pod: the certificate is checked as SERVER_NAME.
    address = `127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await pki?.dispose();
    await stranger?.dispose();
  });

  it("forwards between two replicas with certificates of the venue's peer CA, verified as the peer name", async () => {
    const cert = await pki.peer("risk-1", [SERVER_NAME]);
    const peers = new PeerClients(
      new PeerTokens([TOKEN]),
      5_000,
      await loadPeerTls({ ...cert, caFile: pki.ca.certFile, serverName: SERVER_NAME }),
    );
    try {
      expect(await peers.forward(address, submit)).toEqual({ response: { $case: "submit", value: { reports: [] } } });
      expect(seen.at(-1)).toEqual(submit);
    } finally {
      peers.close();
    }
  });

  async function attempt(
    creds: ReturnType<typeof credentials.createSsl>,
    token = TOKEN,
  ): Promise<ServiceError | ForwardResponse> {
    const client = new GatewayPeerClient(address, creds, {
      "grpc.ssl_target_name_override": SERVER_NAME,
      "grpc.default_authority": SERVER_NAME,
    });
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    return new Promise((resolve) =>
      client.forward(submit, metadata, { deadline: Date.now() + 5_000 }, (err, res) => {
        client.close();
        resolve(err ?? res);
      }),
    );
  }

  it.each([
    ["no client certificate", "none"],
    ["a certificate of another CA", "stranger"],
  ] as const)("refuses a peer with %s before any call, even with the right token", async (_name, kind) => {
    const ca = await readFile(pki.ca.certFile);
    let creds;
    if (kind === "none") creds = credentials.createSsl(ca);
    else {
      const cert = await stranger.peer("intruder", [SERVER_NAME]);
      creds = credentials.createSsl(ca, await readFile(cert.keyFile), await readFile(cert.certFile));
    }
    const before = seen.length;
    const answer = await attempt(creds);
    expect((answer as ServiceError).code).toBe(GrpcStatus.UNAVAILABLE);
    expect(seen.length).toBe(before);
  });

  it("refuses a plaintext peer", async () => {
    const before = seen.length;
    const answer = await attempt(credentials.createInsecure());
    expect((answer as ServiceError).code).toBe(GrpcStatus.UNAVAILABLE);
    expect(seen.length).toBe(before);
  });

  it("still requires the peer token over TLS: UNAUTHENTICATED without it", async () => {
    const cert = await pki.peer("risk-2", [SERVER_NAME]);
    const creds = credentials.createSsl(
      await readFile(pki.ca.certFile),
      await readFile(cert.keyFile),
      await readFile(cert.certFile),
    );
    const before = seen.length;
    expect(((await attempt(creds, "not-the-peer-token-0123456789abcdefghij")) as ServiceError).code).toBe(
      GrpcStatus.UNAUTHENTICATED,
    );
    expect(seen.length).toBe(before);
  });

  it("a dialling replica refuses an owner whose certificate is not of the venue's CA", async () => {
    const cert = await pki.peer("risk-3", [SERVER_NAME]);
    const otherCa = await loadPeerTls({ ...cert, caFile: stranger.ca.certFile, serverName: SERVER_NAME });
    const peers = new PeerClients(new PeerTokens([TOKEN]), 5_000, otherCa);
    const before = seen.length;
    try {
      await expect(peers.forward(address, submit)).rejects.toMatchObject({ code: "UNAVAILABLE" });
      expect(seen.length).toBe(before);
    } finally {
      peers.close();
    }
  });

  it("names the setting when a file is wrong: a key that is not the certificate's", async () => {
    const a = await pki.peer("risk-4");
    const b = await pki.peer("risk-5");
    await expect(loadPeerTls({ certFile: a.certFile, keyFile: b.keyFile, caFile: pki.ca.certFile })).rejects.toThrow(
      ConfigError,
    );
    await expect(loadPeerTls({ certFile: a.certFile, keyFile: b.keyFile, caFile: pki.ca.certFile })).rejects.toThrow(
      /TP_PEER_TLS_KEY_FILE \(peerTls.keyFile\)/,
    );
  });
});
