import { credentials, ServerCredentials, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { loadTlsFiles } from "@tradeplane/platform";
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

/**
 * Reads and checks the files once, at start (loadTlsFiles): a wrong path, a key that is not
 * the certificate's or an expired certificate is a ConfigError naming the setting, not a
 * handshake that fails later on every forwarded request.
 */
export async function loadPeerTls(tls: PeerTlsSettings, now: Date = new Date()): Promise<PeerTls> {
  const { certPem, keyPem, caPem } = await loadTlsFiles("peerTls", tls, now);
  return {
    server: ServerCredentials.createSsl(caPem!, [{ cert_chain: certPem, private_key: keyPem }], true),
    client: credentials.createSsl(caPem!, keyPem, certPem),
    channelOptions:
      tls.serverName === undefined
        ? {}
        : { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName },
  };
}
