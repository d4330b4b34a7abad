import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { credentials, ServerCredentials, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { ConfigError, nestedEnvName } from "@tradeplane/platform";
import type { PeerTlsSettings } from "../config.ts";

/**
 * Mutual TLS between gateway replicas on GatewayPeer (ADR 0003): each replica serves with
 * its certificate and requires the caller's, dials with the same certificate and verifies
 * the owner's; both against the venue's peer CA. The peer token stays the credential of
 * every call: TLS keeps it and the orders off the wire and keeps anything without a
 * certificate of the venue's CA from reaching the service at all.
 */
export interface PeerTls {
  readonly server: ServerCredentials;
  readonly client: ChannelCredentials;
  /**
   * The channel options of a client: a replica dials a pod address, which no certificate
   * names, so the owner's certificate is checked against `serverName` instead (a DNS name
   * every replica's certificate carries).
   */
  readonly channelOptions: ChannelOptions;
}

/** `certFile` -> `TP_PEER_TLS_CERT_FILE (peerTls.certFile)`, as config errors name settings. */
function setting(member: keyof PeerTlsSettings): string {
  return `${nestedEnvName("peerTls", member)} (peerTls.${member})`;
}

async function readPem(member: "certFile" | "keyFile" | "caFile", path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${setting(member)}: cannot read ${path}: ${code ?? (err as Error).message}`);
  }
}

function certificate(member: "certFile" | "caFile", path: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new ConfigError(`${setting(member)}: ${path} holds no PEM certificate: ${(err as Error).message}`);
  }
}

/**
 * Reads and checks the files once, at start: a wrong path, a key that is not the
 * certificate's or an expired certificate is a ConfigError naming the setting, not a
 * handshake that fails later on every forwarded request.
 */
export async function loadPeerTls(tls: PeerTlsSettings, now: Date = new Date()): Promise<PeerTls> {
  const [certPem, keyPem, caPem] = await Promise.all([
    readPem("certFile", tls.certFile),
    readPem("keyFile", tls.keyFile),
    readPem("caFile", tls.caFile),
  ]);
  const cert = certificate("certFile", tls.certFile, certPem);
  certificate("caFile", tls.caFile, caPem);
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    throw new ConfigError(`${setting("keyFile")}: ${tls.keyFile} holds no PEM private key: ${(err as Error).message}`);
  }
  if (!matches)
    throw new ConfigError(`${setting("keyFile")}: ${tls.keyFile} is not the key of the certificate in ${tls.certFile}`);
  if (new Date(cert.validTo) < now)
    throw new ConfigError(`${setting("certFile")}: the certificate in ${tls.certFile} expired on ${cert.validTo}`);
  return {
    server: ServerCredentials.createSsl(caPem, [{ cert_chain: certPem, private_key: keyPem }], true),
    client: credentials.createSsl(caPem, keyPem, certPem),
    channelOptions:
      tls.serverName === undefined
        ? {}
        : { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName },
  };
}
