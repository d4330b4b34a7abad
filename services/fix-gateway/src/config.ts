import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { z } from "zod";
import {
  env,
  loadConfig,
  natsConfigSchema,
  serviceEndpointsSchema,
  type LoadConfigOptions,
} from "@tradeplane/platform";
import { isVenueName } from "@tradeplane/contracts";
import { DEFAULT_SESSION_SETTINGS } from "./domain/session.ts";
import { DEFAULT_FLOW_LIMITS } from "./domain/flow-control.ts";

/** FIX's registered port for FIX engines is none; 9878 is QuickFIX's examples' habit. */
export const DEFAULT_FIX_PORT = 9878;
export const DEFAULT_OPS_PORT = 9467;
/** Time allowed for one OrderEntry call. */
export const DEFAULT_ORDER_ENTRY_DEADLINE_MS = 10_000;

const compId = z.string().regex(/^[\x21-\x7e]{1,64}$/, "must be 1..64 printable ASCII characters");
const sessionId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1..64 characters of [A-Za-z0-9_-] (a store key)");

/**
 * One FIX session. Its OrderEntry token comes from `tokenFile` or the environment variable
 * `tokenEnv`, never from this file (a ConfigMap): see docs/fix.md.
 */
export const fixSessionConfigSchema = z
  .strictObject({
    id: sessionId,
    /** The client's SenderCompID (our TargetCompID). */
    targetCompId: compId,
    /** The account the session trades; orders that name another Account (1) are refused. */
    account: z.string().min(1).max(64),
    tokenFile: z.string().min(1).optional(),
    tokenEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional(),
    /**
     * When set, the session logs on only over TLS with a client certificate verified
     * against fixTls.caFile whose subject CN is this (a broker's own certificate).
     */
    clientCertSubject: z.string().min(1).max(256).optional(),
    /** When set, the Logon must carry this password (554), read from the file. */
    passwordFile: z.string().min(1).optional(),
    /** Cancel the orders this session entered when it disconnects (not the account's other orders). */
    cancelOnDisconnect: env.bool().default(false),
    /** Application messages per second; 0 = no limit. */
    maxMessagesPerSecond: env.int(0, 1_000_000).default(DEFAULT_SESSION_SETTINGS.maxMessagesPerSecond),
  })
  .refine((s) => (s.tokenFile === undefined) !== (s.tokenEnv === undefined), {
    message: "exactly one of tokenFile and tokenEnv is required",
  });

/** The tracing settings every service takes (exporter, OTLP endpoint, sample ratio, resource attributes). */
const { tracing, otlpEndpoint, traceSampleRatio, traceResourceAttributes } = serviceEndpointsSchema({
  grpcPort: 0,
  opsPort: DEFAULT_OPS_PORT,
});

export const fixGatewayConfigSchema = z
  .object({
    ...natsConfigSchema,
    venue: z.string().refine(isVenueName, "must be a lowercase DNS label starting with a letter"),
    instanceId: z.string().min(1).default(hostname()),
    /** Our CompID (the clients' TargetCompID). */
    senderCompId: compId,
    /** host:port of the risk gateway's OrderEntry and of MarketData. */
    orderEntryAddress: z.string().min(1),
    marketDataAddress: z.string().min(1),
    orderEntryDeadlineMs: env.int(100, 600_000).default(DEFAULT_ORDER_ENTRY_DEADLINE_MS),
    /**
     * Flow control: OrderEntry requests a session may have in flight before its socket is no
     * longer read (TCP back-pressure onto the client), and the count it must be back at to be
     * read again; the same for all sessions together. See docs/fix.md.
     */
    sessionMaxInFlight: env.int(1, 1_000_000).default(DEFAULT_FLOW_LIMITS.sessionMaxInFlight),
    sessionResumeInFlight: env.int(0, 1_000_000).default(DEFAULT_FLOW_LIMITS.sessionResumeInFlight),
    gatewayMaxInFlight: env.int(1, 1_000_000).default(DEFAULT_FLOW_LIMITS.gatewayMaxInFlight),
    gatewayResumeInFlight: env.int(0, 1_000_000).default(DEFAULT_FLOW_LIMITS.gatewayResumeInFlight),
    sessions: z.array(fixSessionConfigSchema).min(1),
    fixHost: z.string().default("0.0.0.0"),
    fixPort: env.int(0, 65_535).default(DEFAULT_FIX_PORT),
    /**
     * TLS for FIX connections from PEM files; unset = plain TCP. With caFile, clients are
     * asked for a certificate: one that does not verify is refused; sessions with a
     * clientCertSubject require theirs.
     */
    fixTls: z
      .strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1), caFile: z.string().min(1).optional() })
      .optional(),
    maxSendingTimeSkewMs: env.int(1_000, 3_600_000).default(DEFAULT_SESSION_SETTINGS.maxSendingTimeSkewMs),
    opsHost: z.string().default("0.0.0.0"),
    opsPort: env.int(0, 65_535).default(DEFAULT_OPS_PORT),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    tracing,
    otlpEndpoint,
    /** Share of FIX order requests that start a trace (each one its root), 0..1. */
    traceSampleRatio,
    traceResourceAttributes,
  })
  .refine((c) => c.sessionResumeInFlight < c.sessionMaxInFlight && c.gatewayResumeInFlight < c.gatewayMaxInFlight, {
    message: "each *ResumeInFlight must be below its *MaxInFlight",
    path: ["sessionResumeInFlight"],
  })
  .refine((c) => c.fixTls?.caFile !== undefined || c.sessions.every((s) => s.clientCertSubject === undefined), {
    message: "a session with clientCertSubject needs fixTls.caFile (the CA its certificates are verified against)",
    path: ["sessions"],
  });

export type FixGatewayConfig = z.infer<typeof fixGatewayConfigSchema>;
export type FixSessionConfig = z.infer<typeof fixSessionConfigSchema>;

export function loadFixGatewayConfig(options: LoadConfigOptions = {}): Readonly<FixGatewayConfig> {
  return loadConfig(fixGatewayConfigSchema, { what: "FIX gateway configuration", ...options });
}

/** A session's secrets, read once at start: its OrderEntry token and optional Logon password. */
export interface SessionSecrets {
  readonly token: string;
  readonly password?: string;
}

export class MissingSecretError extends Error {
  override readonly name = "MissingSecretError";
}

export function readSessionSecrets(s: FixSessionConfig, environment: NodeJS.ProcessEnv = process.env): SessionSecrets {
  const token = s.tokenFile !== undefined ? readSecret(s.tokenFile) : environment[s.tokenEnv ?? ""]?.trim();
  if (!token)
    throw new MissingSecretError(`session ${s.id}: no OrderEntry token in ${s.tokenFile ?? `$${s.tokenEnv}`}`);
  const password = s.passwordFile !== undefined ? readSecret(s.passwordFile) : undefined;
  if (password === "") throw new MissingSecretError(`session ${s.id}: empty password file`);
  return password === undefined ? { token } : { token, password };
}

function readSecret(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (e) {
    throw new MissingSecretError(`cannot read ${path}: ${(e as Error).message}`);
  }
}
