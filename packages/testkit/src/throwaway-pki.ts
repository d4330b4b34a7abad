import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findBinary } from "./binaries.ts";

const run = promisify(execFile);

/** PEM files of one certificate and its key. */
export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * A throwaway certificate authority for TLS tests, made with the `openssl` binary in a
 * temporary directory at test time (keys are never committed). Certificates are P-256,
 * valid one day; servers get SANs for localhost and 127.0.0.1, clients the clientAuth use.
 */
export class ThrowawayPki {
  private serial = 0;
  readonly dir: string;
  /** The CA's own certificate (what servers and clients trust) and key. */
  readonly ca: IssuedCert;

  private constructor(dir: string, ca: IssuedCert) {
    this.dir = dir;
    this.ca = ca;
  }

  static async create(name = "tradeplane-test-ca"): Promise<ThrowawayPki> {
    const dir = await mkdtemp(join(tmpdir(), "tp-pki-"));
    const ca = { certFile: join(dir, "ca.crt"), keyFile: join(dir, "ca.key") };
    await openssl(
      ["req", "-x509", ...newKey(ca.keyFile), "-out", ca.certFile, "-days", "1", "-subj", `/CN=${name}`],
      ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    );
    return new ThrowawayPki(dir, ca);
  }

  /** A server certificate for localhost / 127.0.0.1. */
  server(cn = "localhost"): Promise<IssuedCert> {
    return this.issue(cn, "serverAuth", "subjectAltName=DNS:localhost,IP:127.0.0.1");
  }

  /** A client certificate whose subject CN is `cn` (the principal it stands for) and whose
   * O entries are `groups` (Kubernetes reads them as the user's groups). */
  client(cn: string, groups: readonly string[] = []): Promise<IssuedCert> {
    return this.issue(cn, "clientAuth", undefined, groups);
  }

  /**
   * A certificate for both ends of a mutual TLS link between peers (the risk gateway
   * replicas' GatewayPeer): server and client use, subject CN `cn`, and `dnsNames` (plus
   * localhost / 127.0.0.1) as the names a peer may be verified as.
   */
  peer(cn: string, dnsNames: readonly string[] = []): Promise<IssuedCert> {
    const names = [...dnsNames, "localhost"].map((n) => `DNS:${n}`).join(",");
    return this.issue(cn, "serverAuth,clientAuth", `subjectAltName=${names},IP:127.0.0.1`);
  }

  /** A P-256 key pair for signing tokens (a kube-apiserver's service-account issuer). */
  async signingKey(name: string): Promise<{ readonly keyFile: string; readonly publicKeyFile: string }> {
    const base = join(this.dir, `${++this.serial}-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`);
    const keys = { keyFile: `${base}.key`, publicKeyFile: `${base}.pub` };
    await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keys.keyFile]);
    await openssl(["pkey", "-in", keys.keyFile, "-pubout", "-out", keys.publicKeyFile]);
    return keys;
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private async issue(
    cn: string,
    use: "serverAuth" | "clientAuth" | "serverAuth,clientAuth",
    extra?: string,
    groups: readonly string[] = [],
  ): Promise<IssuedCert> {
    const base = join(this.dir, `${++this.serial}-${cn.replace(/[^A-Za-z0-9_-]/g, "_")}`);
    const out = { certFile: `${base}.crt`, keyFile: `${base}.key` };
    const ext = `${base}.ext`;
    await writeFile(
      ext,
      [`extendedKeyUsage=${use}`, "basicConstraints=CA:FALSE", ...(extra ? [extra] : [])].join("\n"),
    );
    await openssl(["req", ...newKey(out.keyFile), "-out", `${base}.csr`, "-subj", subject(cn, groups)]);
    await openssl(
      ["x509", "-req", "-in", `${base}.csr`, "-CA", this.ca.certFile, "-CAkey", this.ca.keyFile],
      ["-set_serial", String(1000 + this.serial), "-days", "1", "-extfile", ext, "-out", out.certFile],
    );
    return out;
  }
}

function subject(cn: string, groups: readonly string[]): string {
  const escape = (text: string) => text.replace(/[/+=\\]/g, (c) => `\\${c}`);
  return `/CN=${escape(cn)}${groups.map((g) => `/O=${escape(g)}`).join("")}`;
}

function newKey(keyFile: string): string[] {
  return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyFile];
}

async function openssl(...args: string[][]): Promise<void> {
  try {
    await run(findBinary("openssl"), args.flat());
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args.flat()[0]} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}
