import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "./errors.ts";

/**
 * Secret settings (tokens, passwords): values that may come from an environment variable
 * or from a file (the Kubernetes Secret volume convention: one file per key), and never
 * from the config file, which the operator renders into a ConfigMap that anyone who may
 * read the namespace can read. For a secret `natsToken`:
 *   TP_NATS_TOKEN             the value itself
 *   TP_NATS_TOKEN_FILE        a file holding it (trailing whitespace dropped)
 *   natsTokenFile             the same path, in the config file
 * A member of a group of settings works alike: adminTokens.venueOperator is read from
 * TP_ADMIN_TOKENS_VENUE_OPERATOR, TP_ADMIN_TOKENS_VENUE_OPERATOR_FILE or
 * `adminTokens: { venueOperatorFile: ... }`. Paths to key files (TLS keys, NATS .creds)
 * are ordinary settings: they name files already.
 */
const SECRET_SCHEMAS = new WeakSet<z.ZodType>();

/** Suffix of the setting (and of the variable) that names a secret's file. */
export const SECRET_FILE_SUFFIX = "File";

/** Longest secret file read, in bytes: a token file is short, a mistaken path may not be. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** A secret string setting of at least `minLength` characters. */
export function secret(minLength = 1): z.ZodString {
  const schema = z.string().min(minLength, `must be at least ${minLength} characters`);
  SECRET_SCHEMAS.add(schema);
  return schema;
}

/**
 * A secret that holds one or more tokens, one per line (or comma-separated), so that a new
 * token can be added before the old one is removed (rotation without a window where
 * neither works).
 */
export function secretList(minLength = 1) {
  const schema = z
    .union([z.array(z.string()), z.string()])
    .transform((v) =>
      (Array.isArray(v) ? v : v.split(/[\n,]/)).map((s) => s.trim()).filter((s) => s !== "" && !s.startsWith("#")),
    )
    .pipe(z.array(z.string().min(minLength, `every token must be at least ${minLength} characters`)).min(1));
  SECRET_SCHEMAS.add(schema);
  return schema;
}

/** Whether a setting's schema (under optional and default wrappers) is a secret. */
export function isSecretSchema(schema: unknown): boolean {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap();
  return current instanceof z.ZodType && SECRET_SCHEMAS.has(current);
}

/** Where one secret may come from, and how a user names each place. */
export interface SecretSource {
  /** How the setting is named in messages, e.g. `natsToken` or `adminTokens.venueOperator`. */
  readonly setting: string;
  /** Its value in the config file, which must be absent. */
  readonly inConfigFile: unknown;
  /** The path given in the config file (`<setting>File`). */
  readonly fileFromConfig: unknown;
  /** The environment variable of the value and of the path. */
  readonly variable: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The secret's value (undefined when it is not given anywhere), or a ConfigError saying what to fix. */
export function readSecret(source: SecretSource): string | undefined {
  const { setting, variable, env } = source;
  const fileVariable = `${variable}_FILE`;
  if (source.inConfigFile !== undefined)
    throw new ConfigError(
      `${setting} is a secret and must not be in the config file: set ${variable}, or name a file holding it ` +
        `with ${fileVariable} or ${setting}${SECRET_FILE_SUFFIX}`,
      [{ path: setting, message: "a secret in the config file" }],
    );
  const value = env[variable];
  const pathFromEnv = env[fileVariable];
  const hasValue = value !== undefined && value !== "";
  const hasPathFromEnv = pathFromEnv !== undefined && pathFromEnv !== "";
  if (hasValue && hasPathFromEnv)
    throw new ConfigError(`give ${variable} or ${fileVariable}, not both`, [
      { path: variable, message: "given twice" },
    ]);
  if (hasValue) return value;
  const path = hasPathFromEnv ? pathFromEnv : source.fileFromConfig;
  if (path === undefined || path === "") return undefined;
  const named = hasPathFromEnv ? fileVariable : `${setting}${SECRET_FILE_SUFFIX}`;
  if (typeof path !== "string")
    throw new ConfigError(`${named} must be a file path`, [{ path: named, message: "not a path" }]);
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_SECRET_FILE_BYTES)
      throw new Error(`${bytes.length} bytes, more than a secret file holds (${MAX_SECRET_FILE_BYTES})`);
    text = bytes.toString("utf8");
  } catch (err) {
    throw new ConfigError(`cannot read ${named}=${path}: ${(err as Error).message}`, [
      { path: named, message: "unreadable" },
    ]);
  }
  const trimmed = text.trimEnd();
  if (trimmed === "")
    throw new ConfigError(`${named}=${path} is empty`, [{ path: named, message: "empty secret file" }]);
  return trimmed;
}
