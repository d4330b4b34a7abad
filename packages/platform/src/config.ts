import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError, type ValidationIssue } from "./errors.ts";
import { isSecretSchema, readSecret, SECRET_FILE_SUFFIX } from "./secrets.ts";

/** Prefix of every environment variable Tradeplane reads. */
export const ENV_PREFIX = "TP_";

/** `natsUrl` -> `TP_NATS_URL`. */
export function envName(key: string): string {
  return ENV_PREFIX + key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Turns zod issues into issues whose path a user recognises. */
export function issuesFromZod(
  error: z.ZodError,
  pathOf: (path: PropertyKey[]) => string = dottedPath,
): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message }));
}

/** `["spec", "instruments", 2, "tickSize"]` -> `spec.instruments[2].tickSize`. */
export function dottedPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out.length === 0 ? String(part) : `.${String(part)}`;
  }
  return out.length === 0 ? "(root)" : out;
}

/** Parses and validates a value against a schema, or throws a ValidationError-style ConfigError. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = issuesFromZod(result.error);
    throw new ConfigError(`${what} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
  }
  return result.data;
}

export interface LoadConfigOptions {
  /** The environment to read; `process.env` by default. Only config.ts reads the environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** What the config is for, used in error messages. */
  readonly what?: string;
}

/**
 * Builds a service's config from an optional YAML/JSON file (`TP_CONFIG_FILE`) overlaid by
 * `TP_*` environment variables (one per top-level key, named by `envName`), validates it
 * once against the schema and freezes it. Errors name the environment variable to fix.
 * Secret settings (see secrets.ts) come from variables or files only, never the file's values.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, options: LoadConfigOptions = {}): Readonly<z.infer<S>> {
  const env = options.env ?? process.env;
  const what = options.what ?? "configuration";
  const fromFile = readConfigFile(env[`${ENV_PREFIX}CONFIG_FILE`]);
  const raw: Record<string, unknown> = { ...fromFile };
  for (const [key, field] of Object.entries(schema.shape)) {
    if (isSecretSchema(field)) {
      setSecret(raw, key, fromFile, key, envName(key), env);
      continue;
    }
    const value = env[envName(key)];
    if (value !== undefined && value !== "") raw[key] = value;
    // A group of settings (an object) takes one variable per member: grpcTls.certFile <- TP_GRPC_TLS_CERT_FILE.
    const members = objectShapeOf(field);
    if (members === undefined) continue;
    for (const [member, memberField] of Object.entries(members)) {
      const group = raw[key];
      const groupValues = group !== null && typeof group === "object" && !Array.isArray(group) ? group : {};
      if (isSecretSchema(memberField)) {
        const resolved: Record<string, unknown> = { ...groupValues };
        setSecret(
          resolved,
          member,
          groupValues as Record<string, unknown>,
          `${key}.${member}`,
          nestedEnvName(key, member),
          env,
        );
        if (Object.keys(resolved).length > 0 || group !== undefined) raw[key] = resolved;
        continue;
      }
      const memberValue = env[nestedEnvName(key, member)];
      if (memberValue === undefined || memberValue === "") continue;
      raw[key] = { ...groupValues, [member]: memberValue };
    }
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issues = issuesFromZod(result.error, (path) => settingName(schema, path));
    throw new ConfigError(`${what} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
  }
  return Object.freeze(result.data);
}

/** The settings of the config file, or {} without one. */
function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (file === undefined || file === "") return {};
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read ${ENV_PREFIX}CONFIG_FILE=${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  if (parsed !== null && parsed !== undefined) throw new ConfigError(`${file} must hold a mapping of settings`);
  return {};
}

/** Replaces a secret's `<key>File` path in `target` by the secret itself (from a variable or the file). */
function setSecret(
  target: Record<string, unknown>,
  key: string,
  fromFile: Record<string, unknown>,
  setting: string,
  variable: string,
  env: Readonly<Record<string, string | undefined>>,
): void {
  const value = readSecret({
    setting,
    variable,
    env,
    inConfigFile: fromFile[key],
    fileFromConfig: fromFile[`${key}${SECRET_FILE_SUFFIX}`],
  });
  delete target[`${key}${SECRET_FILE_SUFFIX}`];
  if (value === undefined) delete target[key];
  else target[key] = value;
}

/** `grpcTls`, `certFile` -> `TP_GRPC_TLS_CERT_FILE`: the variable of one member of a group of settings. */
export function nestedEnvName(key: string, member: string): string {
  return `${envName(key)}_${envName(member).slice(ENV_PREFIX.length)}`;
}

/**
 * How a user names a setting: its environment variable and its path in the config file,
 * e.g. `TP_GRPC_TLS_CERT_FILE (grpcTls.certFile)`. Used in every config error message.
 */
export function settingName(schema: z.ZodObject, path: readonly PropertyKey[]): string {
  const [top, member] = path;
  if (typeof top !== "string" || !(top in schema.shape)) return dottedPath(path);
  const members = objectShapeOf(schema.shape[top]);
  const variable =
    typeof member === "string" && members !== undefined && member in members
      ? nestedEnvName(top, member)
      : envName(top);
  return `${variable} (${dottedPath(path)})`;
}

/** The members of an object schema, looking through optional and default wrappers; else undefined. */
function objectShapeOf(schema: unknown): Record<string, unknown> | undefined {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap();
  return current instanceof z.ZodObject ? (current.shape as Record<string, unknown>) : undefined;
}

/** Schema helpers for values that arrive as strings from the environment. */
export const env = {
  int: (min: number, max: number) => z.coerce.number().int().min(min).max(max),
  bool: () =>
    z
      .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"])])
      .transform((v) => (typeof v === "boolean" ? v : v === "true" || v === "1" || v === "yes")),
  /** Comma-separated list, e.g. several NATS URLs. */
  list: () =>
    z.union([z.array(z.string()), z.string()]).transform((v) =>
      Array.isArray(v)
        ? v
        : v
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
    ),
} as const;

/** gRPC server reflection is on unless switched off: tools (grpcurl, IDEs) discover the API from the server. */
export const DEFAULT_GRPC_REFLECTION = true;

/**
 * TLS of a gRPC server, from PEM files (never inline keys: they come from mounted secrets).
 * `caFile` with `requireClientCert: true` is mutual TLS: a client must present a certificate
 * signed by that CA, and its subject CN may stand for the caller (see docs/security.md).
 */
export const grpcTlsSchema = z
  .strictObject({
    /** The server's certificate chain, PEM. */
    certFile: z.string().min(1),
    /** The server's private key, PEM. */
    keyFile: z.string().min(1),
    /** CA bundle, PEM, that client certificates must chain to. */
    caFile: z.string().min(1).optional(),
    /** Refuse clients without a certificate signed by `caFile`. Default false. */
    requireClientCert: env.bool().optional(),
  })
  .superRefine((tls, ctx) => {
    if (tls.requireClientCert === true && tls.caFile === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["caFile"],
        message: "is required with requireClientCert: true (the CA that signs client certificates)",
      });
    if (tls.caFile !== undefined && tls.requireClientCert !== true)
      ctx.addIssue({
        code: "custom",
        path: ["requireClientCert"],
        message: "must be true when caFile is set (optional client certificates are not supported)",
      });
  });

export type GrpcTlsSettings = z.infer<typeof grpcTlsSchema>;

/**
 * Settings every service process has: where gRPC and the ops endpoint listen, gRPC
 * reflection and TLS, the log level and the trace exporter. Spread into a service's schema with its default ports.
 */
export function serviceEndpointsSchema(defaults: { grpcPort: number; opsPort: number }) {
  return {
    grpcHost: z.string().default("0.0.0.0"),
    grpcPort: env.int(0, 65_535).default(defaults.grpcPort),
    /** Serve gRPC server reflection (grpc.reflection.v1 and v1alpha). Default DEFAULT_GRPC_REFLECTION. */
    grpcReflection: env.bool().optional(),
    /** TLS for the gRPC server, from PEM files; unset = plaintext. */
    grpcTls: grpcTlsSchema.optional(),
    opsHost: z.string().default("0.0.0.0"),
    opsPort: env.int(0, 65_535).default(defaults.opsPort),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    tracing: z.enum(["none", "console", "memory", "otlp"]).default("none"),
    /** OTLP/HTTP traces URL when tracing is "otlp" (default DEFAULT_OTLP_ENDPOINT). */
    otlpEndpoint: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional(),
    /** Share of traces started by this service (requests without a trace context), 0..1. */
    traceSampleRatio: z.coerce.number().min(0).max(1).optional(),
    /** Extra OpenTelemetry resource attributes, e.g. {"deployment.environment": "prod"}. */
    traceResourceAttributes: z.record(z.string().min(1).max(256), z.string().max(1024)).optional(),
  };
}
