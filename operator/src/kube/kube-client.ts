import { existsSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import { InClusterConfig, type ClusterConfig } from "./in-cluster.ts";
import { KubeApiError } from "./kube-errors.ts";
import type { KubeObject, ObjectRef } from "./kube-object.ts";
import { pathOf, resourceOf, type ResourceType } from "./resources.ts";

/**
 * A thin client for the few verbs the operator uses: get, list, watch, server-side apply,
 * merge patch (status, finalizers), create and delete.
 *
 * Why not @kubernetes/client-node's API classes: its generic object API does server-side
 * apply, but every call first runs a discovery request, errors arrive as untyped bodies,
 * and its Watch hides the difference between a closed stream and a failed one that the
 * supervised informer needs. We use its KubeConfig, which finds and authenticates to the
 * cluster exactly as kubectl does (KUBECONFIG, ~/.kube/config, client certificates, tokens,
 * exec plugins), and speak HTTP ourselves. In a pod with no kubeconfig, the service account
 * is read by InClusterConfig and the library is never loaded (it costs 80 MB resident).
 */

export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: KubeObject;
}

export interface KubeClientOptions {
  /** Called after every request that changes state, with its verb: counts API writes. */
  readonly onWrite?: (verb: string, kind: string) => void;
  /** Per-request timeout for non-watch calls. */
  readonly timeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export class KubeClient {
  private readonly config: ClusterConfig;
  private readonly server: URL;
  private readonly options: KubeClientOptions;
  private readonly agent: http.Agent;

  constructor(config: ClusterConfig, options: KubeClientOptions = {}) {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig names no current cluster");
    this.config = config;
    this.server = new URL(cluster.server);
    this.options = options;
    this.agent =
      this.server.protocol === "https:"
        ? new https.Agent({ keepAlive: true, maxSockets: 32 })
        : new http.Agent({ keepAlive: true, maxSockets: 32 });
  }

  /**
   * The cluster as kubectl finds it: the file named, else KUBECONFIG, else ~/.kube/config,
   * else the pod's service account.
   */
  static async fromDefault(
    options: KubeClientOptions = {},
    kubeconfigFile?: string,
    where: { env?: NodeJS.ProcessEnv; home?: string; serviceAccountDir?: string } = {},
  ): Promise<KubeClient> {
    const env = where.env ?? process.env;
    const home = where.home ?? homedir();
    if (kubeconfigFile === undefined && !env.KUBECONFIG && !existsSync(join(home, ".kube", "config"))) {
      const inCluster = InClusterConfig.find(env, where.serviceAccountDir);
      if (inCluster !== undefined) return new KubeClient(inCluster, options);
    }
    const { KubeConfig } = await import("@kubernetes/client-node");
    const config = new KubeConfig();
    if (kubeconfigFile !== undefined) config.loadFromFile(kubeconfigFile);
    else config.loadFromDefault();
    return new KubeClient(config, options);
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return (await this.request("GET", this.pathOfRef(ref))) as T;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async list(
    resource: ResourceType,
    namespace?: string,
    query: Record<string, string> = {},
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const body = (await this.request("GET", pathOf(resource, namespace), query)) as {
      items: KubeObject[];
      metadata: { resourceVersion: string };
    };
    const kind = resource.kind;
    // A list's items carry no apiVersion and kind; give them back so objects are self-describing.
    const items = body.items.map((i) => ({ ...i, apiVersion: resource.apiVersion, kind }));
    return { items, resourceVersion: body.metadata.resourceVersion };
  }

  /** Server-side apply under a field manager; force takes over fields another manager set. */
  async apply<T extends KubeObject = KubeObject>(
    object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } },
    fieldManager: string,
    subresource?: "status",
  ): Promise<T> {
    const path = this.pathOfRef({ ...object, name: object.metadata.name, namespace: object.metadata.namespace });
    const full = subresource === undefined ? path : `${path}/${subresource}`;
    return (await this.request(
      "PATCH",
      full,
      { fieldManager, force: "true" },
      object,
      "application/apply-patch+yaml",
      object.kind,
    )) as T;
  }

  async mergePatch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    subresource?: "status",
    fieldManager?: string,
  ): Promise<T> {
    const path = this.pathOfRef(ref);
    const query: Record<string, string> = fieldManager !== undefined ? { fieldManager } : {};
    return (await this.request(
      "PATCH",
      subresource === undefined ? path : `${path}/${subresource}`,
      query,
      patch,
      "application/merge-patch+json",
      ref.kind,
    )) as T;
  }

  async create<T extends KubeObject = KubeObject>(object: KubeObject, fieldManager?: string): Promise<T> {
    const resource = resourceOf(object.apiVersion, object.kind);
    const query: Record<string, string> = fieldManager !== undefined ? { fieldManager } : {};
    return (await this.request(
      "POST",
      pathOf(resource, object.metadata.namespace),
      query,
      object,
      "application/json",
      object.kind,
    )) as T;
  }

  /** PUT with the object's resourceVersion: fails with 409 when someone wrote in between. */
  async replace<T extends KubeObject = KubeObject>(object: KubeObject, fieldManager?: string): Promise<T> {
    const query: Record<string, string> = fieldManager !== undefined ? { fieldManager } : {};
    return (await this.request(
      "PUT",
      this.pathOfRef({ ...object, name: object.metadata.name, namespace: object.metadata.namespace }),
      query,
      object,
      "application/json",
      object.kind,
    )) as T;
  }

  /** Deletes in the background (the garbage collector takes dependents); false when already gone. */
  async delete(ref: ObjectRef, preconditions?: { uid?: string; resourceVersion?: string }): Promise<boolean> {
    try {
      await this.request(
        "DELETE",
        this.pathOfRef(ref),
        {},
        {
          kind: "DeleteOptions",
          apiVersion: "v1",
          propagationPolicy: "Background",
          ...(preconditions ? { preconditions } : {}),
        },
        "application/json",
        ref.kind,
      );
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Streams watch events from a resourceVersion until the server closes the stream, the
   * signal aborts, or an error (an ERROR event becomes a KubeApiError: 410 means relist).
   */
  async watch(
    resource: ResourceType,
    namespace: string | undefined,
    resourceVersion: string,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
    timeoutSeconds = 300,
    labelSelector?: string,
  ): Promise<void> {
    const query: Record<string, string> = {
      ...(labelSelector !== undefined ? { labelSelector } : {}),
      watch: "true",
      resourceVersion,
      allowWatchBookmarks: "true",
      timeoutSeconds: String(timeoutSeconds),
    };
    const res = await this.open("GET", pathOf(resource, namespace), query, undefined, undefined, signal);
    if ((res.statusCode ?? 0) >= 300) throw await errorOf(res);
    await new Promise<void>((resolve, reject) => {
      let buffered = "";
      let failed = false;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while (!failed && (newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() === "") continue;
          const event = JSON.parse(line) as WatchEvent;
          if (event.type === "ERROR") {
            failed = true;
            const status = event.object as unknown as { code?: number; reason?: string; message?: string };
            res.destroy();
            reject(new KubeApiError(status.code ?? 500, status.reason ?? "", status.message ?? "watch error"));
            return;
          }
          if (event.type !== "BOOKMARK") event.object.apiVersion ??= resource.apiVersion;
          if (event.type !== "BOOKMARK") event.object.kind ??= resource.kind;
          onEvent(event);
        }
      });
      res.on("end", () => resolve());
      res.on("error", (err) => (signal.aborted ? resolve() : reject(err)));
      res.on("close", () => resolve());
    });
  }

  private pathOfRef(ref: ObjectRef): string {
    return pathOf(resourceOf(ref.apiVersion, ref.kind), ref.namespace, ref.name);
  }

  private async request(
    method: string,
    path: string,
    query: Record<string, string> = {},
    body?: unknown,
    contentType?: string,
    kind?: string,
  ): Promise<unknown> {
    const res = await this.open(method, path, query, body, contentType);
    if ((res.statusCode ?? 0) >= 300) throw await errorOf(res);
    const text = await readBody(res);
    if (method !== "GET")
      this.options.onWrite?.(
        method === "PATCH" && contentType?.startsWith("application/apply") ? "apply" : method.toLowerCase(),
        kind ?? "",
      );
    return text === "" ? undefined : JSON.parse(text);
  }

  private async open(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
    contentType: string | undefined,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const options: https.RequestOptions = { headers: {} };
    await this.config.applyToHTTPSOptions(options);
    const url = new URL(this.server.toString());
    url.pathname = `${url.pathname.replace(/\/$/, "")}${path}`;
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...(options.headers as Record<string, string>),
      accept: "application/json",
      "user-agent": "tradeplane-operator",
      ...(payload !== undefined
        ? { "content-type": contentType ?? "application/json", "content-length": String(Buffer.byteLength(payload)) }
        : {}),
    };
    const transport = url.protocol === "https:" ? https : http;
    return await new Promise((resolve, reject) => {
      const req = transport.request(
        url,
        {
          method,
          headers,
          agent: this.agent,
          ca: options.ca,
          cert: options.cert,
          key: options.key,
          ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
          ...(options.servername !== undefined ? { servername: options.servername } : {}),
          ...(options.auth !== undefined ? { auth: options.auth } : {}),
          ...(signal !== undefined ? { signal } : { timeout: this.options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS }),
        },
        resolve,
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`response larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function errorOf(res: http.IncomingMessage): Promise<KubeApiError> {
  const text = await readBody(res).catch(() => "");
  let status: { reason?: string; message?: string } = {};
  try {
    status = JSON.parse(text) as typeof status;
  } catch {
    status = { message: text.slice(0, 500) };
  }
  return new KubeApiError(res.statusCode ?? 0, status.reason ?? "", status.message ?? `HTTP ${res.statusCode}`);
}
