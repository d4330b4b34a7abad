import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { credentials, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { ConfigError } from "@tradeplane/platform";
import { ThrowawayPki } from "@tradeplane/testkit";
import { PeerClients, PeerTokens } from "../../src/adapters/gateway-peer.ts";
import { loadPeerTls } from "../../src/adapters/peer-tls.ts";
import {
  forwardCall,
  FORWARDED_SUBMIT,
  PEER_TOKEN,
  startPeerServer,
  SUBMITTED,
  type PeerServer,
} from "./peer-fixture.ts";

const TOKEN = PEER_TOKEN;
/** The name every replica's certificate carries; replicas dial addresses, not this name. */
const SERVER_NAME = "tls-risk-peer";

/**
 * GatewayPeer with mutual TLS over real gRPC on loopback: both ends present a certificate of
 * the venue's peer CA and verify the other's; the token is still required.
 */
describe("GatewayPeer over mutual TLS", () => {
  let pki: ThrowawayPki;
  let stranger: ThrowawayPki;
  let peer: PeerServer;
  const submit = FORWARDED_SUBMIT;

  beforeAll(async () => {
    pki = await ThrowawayPki.create("peer-ca");
    stranger = await ThrowawayPki.create("stranger-ca");
    const own = await pki.peer("risk-0", [SERVER_NAME]);
    const tls = await loadPeerTls({ ...own, caFile: pki.ca.certFile, serverName: SERVER_NAME });
    // Dialled by IP address, as a replica dials a pod: the certificate is checked as SERVER_NAME.
    peer = await startPeerServer({ tokens: [TOKEN], credentials: tls.server });
  });
  afterAll(async () => {
    await peer?.server.close();
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
      expect(await peers.forward(peer.address, submit)).toEqual(SUBMITTED);
      expect(peer.seen.at(-1)).toEqual(submit);
    } finally {
      peers.close();
    }
  });

  const attempt = (channel: ReturnType<typeof credentials.createSsl>, token = TOKEN) =>
    forwardCall(peer.address, { token, channel, serverName: SERVER_NAME });

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
    const before = peer.seen.length;
    const answer = await attempt(creds);
    expect((answer as ServiceError).code).toBe(GrpcStatus.UNAVAILABLE);
    expect(peer.seen.length).toBe(before);
  });

  it("refuses a plaintext peer", async () => {
    const before = peer.seen.length;
    const answer = await attempt(credentials.createInsecure());
    expect((answer as ServiceError).code).toBe(GrpcStatus.UNAVAILABLE);
    expect(peer.seen.length).toBe(before);
  });

  it("still requires the peer token over TLS: UNAUTHENTICATED without it", async () => {
    const cert = await pki.peer("risk-2", [SERVER_NAME]);
    const creds = credentials.createSsl(
      await readFile(pki.ca.certFile),
      await readFile(cert.keyFile),
      await readFile(cert.certFile),
    );
    const before = peer.seen.length;
    expect(((await attempt(creds, "not-the-peer-token-0123456789abcdefghij")) as ServiceError).code).toBe(
      GrpcStatus.UNAUTHENTICATED,
    );
    expect(peer.seen.length).toBe(before);
  });

  it("a dialling replica refuses an owner whose certificate is not of the venue's CA", async () => {
    const cert = await pki.peer("risk-3", [SERVER_NAME]);
    const otherCa = await loadPeerTls({ ...cert, caFile: stranger.ca.certFile, serverName: SERVER_NAME });
    const peers = new PeerClients(new PeerTokens([TOKEN]), 5_000, otherCa);
    const before = peer.seen.length;
    try {
      await expect(peers.forward(peer.address, submit)).rejects.toMatchObject({ code: "UNAVAILABLE" });
      expect(peer.seen.length).toBe(before);
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
