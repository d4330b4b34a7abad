import { readFileSync } from "node:fs";
import type https from "node:https";
import { isIPv6 } from "node:net";
import { join } from "node:path";

/**
 * The cluster as a pod finds it: the API server at KUBERNETES_SERVICE_HOST:PORT, its CA and
 * the pod's service account token from the mounted service account directory. Read here
 * rather than with @kubernetes/client-node's KubeConfig, whose module pulls in the whole
 * generated API client: about 25 MB of heap and 80 MB of resident memory, a third of the
 * operator's, for reading two files (docs/performance.md, Operator). The token and CA are
 * read again once a minute, as client-go does: projected tokens are rotated on disk.
 */

/** What KubeClient needs of a cluster's configuration; @kubernetes/client-node's KubeConfig has it too. */
export interface ClusterConfig {
  getCurrentCluster(): { readonly server: string } | null;
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
}

/** Where Kubernetes mounts a pod's service account. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
export const TOKEN_REREAD_MS = 60_000;

export class InClusterConfig implements ClusterConfig {
  private readonly server: string;
  private readonly dir: string;
  private readonly now: () => number;
  private credentials: { token: string; ca: Buffer; readAt: number } | undefined;

  private constructor(server: string, dir: string, now: () => number) {
    this.server = server;
    this.dir = dir;
    this.now = now;
  }

  /** The pod's configuration, or undefined outside a pod (no service host, port or token). */
  static find(
    env: NodeJS.ProcessEnv = process.env,
    dir: string = SERVICE_ACCOUNT_DIR,
    now: () => number = Date.now,
  ): InClusterConfig | undefined {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) return undefined;
    const config = new InClusterConfig(`https://${isIPv6(host) ? `[${host}]` : host}:${port}`, dir, now);
    try {
      config.read();
    } catch {
      return undefined;
    }
    return config;
  }

  getCurrentCluster(): { readonly server: string } {
    return { server: this.server };
  }

  applyToHTTPSOptions(options: https.RequestOptions): Promise<void> {
    const { token, ca } = this.read();
    options.ca = ca;
    options.headers = { ...options.headers, authorization: `Bearer ${token}` };
    return Promise.resolve();
  }

  private read(): { token: string; ca: Buffer } {
    const at = this.now();
    if (this.credentials === undefined || at - this.credentials.readAt >= TOKEN_REREAD_MS) {
      try {
        const token = readFileSync(join(this.dir, "token"), "utf8").trim();
        if (token === "") throw new Error(`the service account token in ${this.dir} is empty`);
        this.credentials = { token, ca: readFileSync(join(this.dir, "ca.crt")), readAt: at };
      } catch (err) {
        // A file caught mid-rotation: the last token read is still valid for a while.
        if (this.credentials === undefined) throw err;
      }
    }
    return this.credentials;
  }
}
