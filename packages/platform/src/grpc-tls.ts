import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { PeerCertificate } from "node:tls";
import { ServerCredentials } from "@grpc/grpc-js";
import { nestedEnvName, type GrpcTlsSettings } from "./config.ts";
import { ConfigError } from "./errors.ts";

/** `certFile` -> `TP_GRPC_TLS_CERT_FILE (grpcTls.certFile)`, as config errors name settings. */
function setting(member: keyof GrpcTlsSettings): string {
  return `${nestedEnvName("grpcTls", member)} (grpcTls.${member})`;
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

function privateKey(path: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new ConfigError(`${setting("keyFile")}: ${path} holds no PEM private key: ${(err as Error).message}`);
  }
}

/**
 * Server credentials for a TLS gRPC server: the files are read and checked here, at start,
 * so a wrong path, a file of the wrong kind, a key that is not the certificate's or an
 * expired certificate is a one-line ConfigError naming the setting, not a handshake that
 * fails later for every client. With `caFile` and `requireClientCert`, clients must present
 * a certificate signed by that CA (mutual TLS).
 */
export async function grpcServerCredentials(tls: GrpcTlsSettings, now: Date = new Date()): Promise<ServerCredentials> {
  const [certPem, keyPem, caPem] = await Promise.all([
    readPem("certFile", tls.certFile),
    readPem("keyFile", tls.keyFile),
    tls.caFile === undefined ? undefined : readPem("caFile", tls.caFile),
  ]);
  const cert = certificate("certFile", tls.certFile, certPem);
  if (!cert.checkPrivateKey(privateKey(tls.keyFile, keyPem)))
    throw new ConfigError(`${setting("keyFile")}: ${tls.keyFile} is not the key of the certificate in ${tls.certFile}`);
  if (new Date(cert.validTo) < now)
    throw new ConfigError(`${setting("certFile")}: the certificate in ${tls.certFile} expired on ${cert.validTo}`);
  if (caPem !== undefined && tls.caFile !== undefined) certificate("caFile", tls.caFile, caPem);
  const requireClientCert = tls.requireClientCert === true && caPem !== undefined;
  return ServerCredentials.createSsl(
    requireClientCert ? caPem : null,
    [{ cert_chain: certPem, private_key: keyPem }],
    requireClientCert,
  );
}

/** The part of a grpc-js server call that says how the peer authenticated. */
export interface PeerAuthSource {
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: PeerCertificate } | null;
}

/**
 * The subject CN of the client certificate the server verified for this call, or undefined
 * (plaintext, server-only TLS, or a subject with no single CN). grpc-js reports a peer
 * certificate only when the TLS socket authorised it against the server's CA, so a
 * certificate the client merely presented never counts.
 */
export function verifiedClientCommonName(call: PeerAuthSource): string | undefined {
  const auth = call.getAuthContext();
  if (auth?.transportSecurityType !== "ssl") return undefined;
  const cn: unknown = auth.sslPeerCertificate?.subject?.CN;
  return typeof cn === "string" && cn !== "" ? cn : undefined;
}
