import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { ConfigError, type TracingSettings } from "@tradeplane/platform";
import {
  MAX_IMAGE_PULL_SECRETS,
  SECRET_NAME_MAX_LENGTH,
  SECRET_NAME_PATTERN,
} from "./api/v1alpha1/venue-operations.ts";

/**
 * The operator's settings, from its command line (and POD_NAMESPACE, which the Downward API
 * sets in a pod), parsed once into a frozen object. No credential is ever a flag: the
 * cluster comes from the kubeconfig or the pod's service account, NATS credentials from a
 * mounted file.
 */
export interface OperatorConfig {
  /** undefined = every namespace. */
  readonly namespaces: readonly string[] | undefined;
  readonly kubeconfig: string | undefined;
  readonly natsUrl: readonly string[];
  readonly natsCredsFile: string | undefined;
  /**
   * TLS to NATS, required when set: the CA (none = the system's), and a client certificate
   * with its key when the server verifies clients.
   */
  readonly natsTls: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string } | undefined;
  readonly opsHost: string;
  readonly opsPort: number;
  readonly leaderElection: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly workers: number;
  readonly resyncSeconds: number;
  /** Least time between status writes that only move a venue's log sequences. */
  readonly sequenceStatusSeconds: number;
  readonly images: {
    readonly engine: string;
    readonly risk: string;
    readonly marketData: string;
    readonly fixGateway: string;
    readonly journal: string;
  };
  /** Image pull Secrets of the pods of a venue whose spec.images.pullSecrets is unset (and of its strategies). */
  readonly pullSecrets: readonly string[];
  readonly logLevel: "error" | "warn" | "info" | "debug";
  /** venue name -> host:port of its risk gateway, for an operator outside the cluster. */
  readonly riskAddresses: Readonly<Record<string, string>>;
  readonly strategyRuntimeImage: string;
  /** The operator's own traces: a span per reconcile, exported over OTLP/HTTP when asked. */
  readonly tracing: TracingSettings;
}

export const DEFAULT_OPS_PORT = 8080;
export const DEFAULT_WORKERS = 4;
export const DEFAULT_RESYNC_SECONDS = 600;
/** A trading venue's sequences in status lag by at most this much, for one status write per venue per interval. */
export const DEFAULT_SEQUENCE_STATUS_SECONDS = 30;
export const DEFAULT_IMAGE_TAG = "0.1.0";
export const DEFAULT_IMAGE_REPOSITORY = "ghcr.io/tradeplane";

export const USAGE = `usage: npm run -s operator -- [options]

  --namespace NS          watch only NS (repeat or comma-separate; default: every namespace)
  --kubeconfig FILE       cluster to use (default: in-cluster, else KUBECONFIG, else ~/.kube/config)
  --nats-url URL          NATS the operator provisions streams on and pods connect to (default nats://127.0.0.1:4222)
  --nats-creds-file FILE  NATS credentials file of the operator
  --nats-tls              require TLS to NATS, verified against the system's CAs unless --nats-tls-ca-file
  --nats-tls-ca-file FILE CA that signed the NATS servers' certificates (TLS to NATS)
  --nats-tls-cert-file F  client certificate for NATS servers that verify clients (with --nats-tls-key-file)
  --nats-tls-key-file F   its private key
  --ops-port N            /metrics, /healthz, /readyz port (default ${DEFAULT_OPS_PORT}; 0 = any free port)
  --ops-host HOST         interface of the ops endpoint (default 0.0.0.0)
  --no-leader-election    reconcile without a Lease (one replica only)
  --lease-namespace NS    namespace of the leader Lease (default POD_NAMESPACE, else default)
  --lease-name NAME       name of the leader Lease (default tradeplane-operator)
  --workers N             reconciles in parallel per kind (default ${DEFAULT_WORKERS})
  --resync-seconds N      look at every object again this often (default ${DEFAULT_RESYNC_SECONDS})
  --sequence-status-seconds N
                          write a trading venue's log sequences to its status at most this often (default ${DEFAULT_SEQUENCE_STATUS_SECONDS})
  --image-repository R    where the venue images are (default ${DEFAULT_IMAGE_REPOSITORY})
  --image-tag T           tag of the venue images (default ${DEFAULT_IMAGE_TAG})
  --image-pull-secret NAME
                          Secret the pods of a venue without spec.images.pullSecrets pull their
                          images with; it must exist in each venue's namespace (repeat; at most ${MAX_IMAGE_PULL_SECRETS})
  --log-level L           error, warn, info or debug (default info)
  --risk-address V=H:P    reach venue V's risk gateway at H:P (default <V>-risk.<namespace>.svc:50061)
  --identity ID           leader election identity (default <hostname>-<pid>)
  --tracing none|otlp     export a span per reconcile over OTLP/HTTP (default none)
  --otlp-endpoint URL     OTLP/HTTP traces URL (default http://localhost:4318/v1/traces)
  --trace-sample-ratio R  share of reconciles traced, 0..1 (default 1)
  --trace-resource-attribute K=V
                          a resource attribute of the operator's spans (repeat)`;

const positiveInt = (name: string, text: string, min: number, max: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`--${name} must be an integer in ${min}..${max} (got ${text})`);
  return n;
};

export function parseOperatorArgs(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorConfig {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        namespace: { type: "string", multiple: true },
        kubeconfig: { type: "string" },
        "nats-url": { type: "string", multiple: true },
        "nats-creds-file": { type: "string" },
        "nats-tls": { type: "boolean", default: false },
        "nats-tls-ca-file": { type: "string" },
        "nats-tls-cert-file": { type: "string" },
        "nats-tls-key-file": { type: "string" },
        "ops-port": { type: "string", default: String(DEFAULT_OPS_PORT) },
        "ops-host": { type: "string", default: "0.0.0.0" },
        "no-leader-election": { type: "boolean", default: false },
        "lease-namespace": { type: "string" },
        "lease-name": { type: "string", default: "tradeplane-operator" },
        identity: { type: "string" },
        workers: { type: "string", default: String(DEFAULT_WORKERS) },
        "resync-seconds": { type: "string", default: String(DEFAULT_RESYNC_SECONDS) },
        "sequence-status-seconds": { type: "string", default: String(DEFAULT_SEQUENCE_STATUS_SECONDS) },
        "image-repository": { type: "string", default: DEFAULT_IMAGE_REPOSITORY },
        "image-tag": { type: "string", default: DEFAULT_IMAGE_TAG },
        "image-pull-secret": { type: "string", multiple: true },
        "log-level": { type: "string", default: "info" },
        "risk-address": { type: "string", multiple: true },
        tracing: { type: "string", default: "none" },
        "otlp-endpoint": { type: "string" },
        "trace-sample-ratio": { type: "string" },
        "trace-resource-attribute": { type: "string", multiple: true },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${USAGE}`);
  }
  const namespaces = values.namespace
    ?.flatMap((n) => n.split(","))
    .map((n) => n.trim())
    .filter((n) => n !== "");
  const level = values["log-level"];
  if (!["error", "warn", "info", "debug"].includes(level))
    throw new ConfigError(`--log-level must be error, warn, info or debug`);
  const repo = values["image-repository"].replace(/\/$/, "");
  const tag = values["image-tag"];
  const config: OperatorConfig = {
    namespaces: namespaces === undefined || namespaces.length === 0 ? undefined : [...new Set(namespaces)],
    kubeconfig: values.kubeconfig,
    natsUrl: values["nats-url"]?.flatMap((u) => u.split(",")) ?? ["nats://127.0.0.1:4222"],
    natsCredsFile: values["nats-creds-file"],
    natsTls: natsTlsOf(
      values["nats-tls"],
      values["nats-tls-ca-file"],
      values["nats-tls-cert-file"],
      values["nats-tls-key-file"],
    ),
    opsHost: values["ops-host"],
    opsPort: positiveInt("ops-port", values["ops-port"], 0, 65_535),
    leaderElection: !values["no-leader-election"],
    leaseNamespace: values["lease-namespace"] ?? env.POD_NAMESPACE ?? "default",
    leaseName: values["lease-name"],
    identity: values.identity ?? `${hostname()}-${process.pid}`,
    workers: positiveInt("workers", values.workers, 1, 64),
    resyncSeconds: positiveInt("resync-seconds", values["resync-seconds"], 1, 86_400),
    sequenceStatusSeconds: positiveInt("sequence-status-seconds", values["sequence-status-seconds"], 1, 3_600),
    images: {
      engine: `${repo}/engine:${tag}`,
      risk: `${repo}/risk:${tag}`,
      marketData: `${repo}/market-data:${tag}`,
      fixGateway: `${repo}/fix-gateway:${tag}`,
      journal: `${repo}/journal:${tag}`,
    },
    pullSecrets: pullSecretsOf(values["image-pull-secret"] ?? []),
    logLevel: level as OperatorConfig["logLevel"],
    riskAddresses: Object.fromEntries(
      (values["risk-address"] ?? []).map((pair) => {
        const match = /^([a-z][a-z0-9-]*)=([^\s=]+:[0-9]+)$/.exec(pair);
        if (match === null) throw new ConfigError(`--risk-address must be VENUE=HOST:PORT (got ${pair})`);
        return [match[1]!, match[2]!];
      }),
    ),
    strategyRuntimeImage: `${repo}/strategy-runtime:${tag}`,
    tracing: tracingOf(values),
  };
  return Object.freeze(config);
}

/**
 * TLS to NATS. Without settings the client still takes TLS from a server that offers it
 * (nats.js), but also talks plaintext to one that does not: `--nats-tls` (or a CA or client
 * certificate) makes TLS required, so a server without it is refused rather than trusted.
 */
function natsTlsOf(required: boolean, caFile?: string, certFile?: string, keyFile?: string): OperatorConfig["natsTls"] {
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new ConfigError("--nats-tls-cert-file and --nats-tls-key-file go together");
  if (!required && caFile === undefined && certFile === undefined) return undefined;
  return {
    ...(caFile !== undefined ? { caFile } : {}),
    ...(certFile !== undefined ? { certFile, keyFile: keyFile! } : {}),
  };
}

function pullSecretsOf(names: readonly string[]): readonly string[] {
  for (const name of names)
    if (name.length > SECRET_NAME_MAX_LENGTH || !SECRET_NAME_PATTERN.test(name))
      throw new ConfigError(`--image-pull-secret must be a Secret name, a lowercase DNS subdomain (got ${name})`);
  const unique = [...new Set(names)];
  if (unique.length > MAX_IMAGE_PULL_SECRETS)
    throw new ConfigError(`--image-pull-secret: at most ${MAX_IMAGE_PULL_SECRETS} (got ${unique.length})`);
  return unique;
}

/** Most resource attributes the operator's spans take, and their lengths. */
const MAX_RESOURCE_ATTRIBUTES = 32;
const MAX_ATTRIBUTE_CHARS = 256;

function tracingOf(values: {
  tracing: string;
  "otlp-endpoint"?: string;
  "trace-sample-ratio"?: string;
  "trace-resource-attribute"?: string[];
}): TracingSettings {
  const exporter = values.tracing;
  if (exporter !== "none" && exporter !== "otlp") throw new ConfigError("--tracing must be none or otlp");
  const endpoint = values["otlp-endpoint"];
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || !/^https?:$/.test(url.protocol) || endpoint.length > 2048)
      throw new ConfigError("--otlp-endpoint must be an http(s) URL of at most 2048 characters");
  }
  const ratioText = values["trace-sample-ratio"];
  const ratio = ratioText === undefined ? undefined : Number(ratioText);
  if (ratio !== undefined && (!/^(0|1|0?\.[0-9]+|1\.0+)$/.test(ratioText!) || ratio < 0 || ratio > 1))
    throw new ConfigError("--trace-sample-ratio must be a number in 0..1");
  const pairs = values["trace-resource-attribute"] ?? [];
  if (pairs.length > MAX_RESOURCE_ATTRIBUTES)
    throw new ConfigError(`--trace-resource-attribute: at most ${MAX_RESOURCE_ATTRIBUTES}`);
  const attributes: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || pair.length > MAX_ATTRIBUTE_CHARS)
      throw new ConfigError(
        `--trace-resource-attribute must be KEY=VALUE of at most ${MAX_ATTRIBUTE_CHARS} characters`,
      );
    attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    exporter,
    ...(endpoint !== undefined ? { otlpEndpoint: endpoint } : {}),
    ...(ratio !== undefined ? { sampleRatio: ratio } : {}),
    ...(pairs.length > 0 ? { resourceAttributes: attributes } : {}),
  };
}
