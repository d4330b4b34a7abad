import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError, type ValidationIssue } from "./errors.ts";

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
 */
export function loadConfig<S extends z.ZodObject>(schema: S, options: LoadConfigOptions = {}): Readonly<z.infer<S>> {
  const env = options.env ?? process.env;
  const what = options.what ?? "configuration";
  const raw: Record<string, unknown> = {};
  const file = env[`${ENV_PREFIX}CONFIG_FILE`];
  if (file !== undefined && file !== "") {
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
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) Object.assign(raw, parsed);
    else if (parsed !== null && parsed !== undefined) throw new ConfigError(`${file} must hold a mapping of settings`);
  }
  for (const key of Object.keys(schema.shape)) {
    const value = env[envName(key)];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issues = issuesFromZod(result.error, (path) => {
      const top = path[0];
      return typeof top === "string" && top in schema.shape
        ? `${envName(top)} (${dottedPath(path)})`
        : dottedPath(path);
    });
    throw new ConfigError(`${what} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
  }
  return Object.freeze(result.data);
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

/**
 * Settings every service process has: where gRPC and the ops endpoint listen, the log
 * level and the trace exporter. Spread into a service's schema with its default ports.
 */
export function serviceEndpointsSchema(defaults: { grpcPort: number; opsPort: number }) {
  return {
    grpcHost: z.string().default("0.0.0.0"),
    grpcPort: env.int(0, 65_535).default(defaults.grpcPort),
    opsHost: z.string().default("0.0.0.0"),
    opsPort: env.int(0, 65_535).default(defaults.opsPort),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    tracing: z.enum(["none", "console", "memory"]).default("none"),
  };
}
