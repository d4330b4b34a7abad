import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { PeerCertificate } from "node:tls";
import { ServerCredentials } from "@grpc/grpc-js";
import { nestedEnvName, type GrpcTlsSettings } from "./config.ts";
import { ConfigError } from "./errors.ts";

/** PEM files of a TLS identity, as settings name them: a certificate, its key, and a CA. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
}

/** The files' contents, read and checked. */
export interface TlsMaterial {
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
  readonly caPem: Buffer | undefined;
}

/**
 * Reads and checks a TLS identity's files once, at start: a wrong path, a file of the wrong
 * kind, a key that is not the certificate's or an expired certificate is a one-line
 * ConfigError naming the setting (`group`: `grpcTls`, `peerTls`...), not a handshake that
 * fails later for every peer.
 */
export async function loadTlsFiles(group: string, tls: TlsFiles, now: Date = new Date()): Promise<TlsMaterial> {
  const setting = (member: keyof TlsFiles): string => `${nestedEnvName(group, member)} (${group}.${member})`;
  const readPem = async (member: keyof TlsFiles, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`${setting(member)}: cannot read ${path}: ${code ?? (err as Error).message}`);
    }
  };
  const certificate = (member: "certFile" | "caFile", path: string, pem: Buffer): X509Certificate => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw new ConfigError(`${setting(member)}: ${path} holds no PEM certificate: ${(err as Error).message}`);
    }
  };
  const [certPem, keyPem, caPem] = await Promise.all([
    readPem("certFile", tls.certFile),
    readPem("keyFile", tls.keyFile),
    tls.caFile === undefined ? undefined : readPem("caFile", tls.caFile),
  ]);
  const cert = certificate("certFile", tls.certFile, certPem);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new ConfigError(`${setting("keyFile")}: ${tls.keyFile} holds no PEM private key: ${(err as Error).message}`);
  }
  if (!cert.checkPrivateKey(key))
    throw new ConfigError(`${setting("keyFile")}: ${tls.keyFile} is not the key of the certificate in ${tls.certFile}`);
  if (new Date(cert.validTo) < now)
    throw new ConfigError(`${setting("certFile")}: the certificate in ${tls.certFile} expired on ${cert.validTo}`);
  if (caPem !== undefined && tls.caFile !== undefined) certificate("caFile", tls.caFile, caPem);
  return { certPem, keyPem, caPem };
}

/**
 * Server credentials for a TLS gRPC server, from files checked at start (loadTlsFiles). With
 * `caFile` and `requireClientCert`, clients must present a certificate signed by that CA
 * (mutual TLS).
 */
export async function grpcServerCredentials(tls: GrpcTlsSettings, now: Date = new Date()): Promise<ServerCredentials> {
  const { certPem, keyPem, caPem } = await loadTlsFiles("grpcTls", tls, now);
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
