import { createHash, timingSafeEqual } from "node:crypto";
import type { Metadata } from "@grpc/grpc-js";
import { z } from "zod";
import { AuthError } from "./errors.ts";
import { bearerToken } from "./grpc-handlers.ts";
import type { Logger } from "./logger.ts";
import { secretList } from "./secrets.ts";

/**
 * Admin roles and what each may do. An admin credential is a bearer token configured on
 * the service for one or more roles (never a trading token from the accounts bucket); a
 * token listed under several roles holds all of them.
 *
 * | role           | may                                                              |
 * |----------------|------------------------------------------------------------------|
 * | read-only      | read: status, books, accounts, limits, positions, kill switches, tokens |
 * | risk-officer   | read; set limits; engage and release kill switches               |
 * | venue-operator | read; halts, resumes, session changes; accounts and their tokens |
 */
export const ADMIN_ROLES = ["venue-operator", "risk-officer", "read-only"] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** What an admin call does, as far as roles are concerned. */
export type AdminPermission = "read" | "venue.operate" | "accounts.write" | "risk.write";

const GRANTS: Readonly<Record<AdminRole, readonly AdminPermission[]>> = {
  "read-only": ["read"],
  "risk-officer": ["read", "risk.write"],
  "venue-operator": ["read", "venue.operate", "accounts.write"],
};

/** Whether a role grants a permission. */
export function roleGrants(role: AdminRole, permission: AdminPermission): boolean {
  return GRANTS[role].includes(permission);
}

/** Shortest admin token accepted, in characters. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/**
 * The admin tokens of a service, per role (secrets: from TP_ADMIN_TOKENS_<ROLE> or a file,
 * see secrets.ts). Each holds one or more tokens, one per line (several for rotation, or one
 * per holder as `<name> <token>`).
 */
export const adminTokensSchema = z
  .object({
    venueOperator: secretList(MIN_ADMIN_TOKEN_LENGTH).optional(),
    riskOfficer: secretList(MIN_ADMIN_TOKEN_LENGTH).optional(),
    readOnly: secretList(MIN_ADMIN_TOKEN_LENGTH).optional(),
  })
  .optional();

export type AdminTokens = NonNullable<z.infer<typeof adminTokensSchema>>;

const ROLE_OF_MEMBER: Readonly<Record<keyof AdminTokens, AdminRole>> = {
  venueOperator: "venue-operator",
  riskOfficer: "risk-officer",
  readOnly: "read-only",
};

/** Longest `x-tradeplane-principal` kept for the audit trail. */
const MAX_AUDIT_NAME = 64;

interface Credential {
  readonly hash: Buffer;
  readonly roles: ReadonlySet<AdminRole>;
  /** Who holds the token, when its line names them: the audit name, which no header can change. */
  readonly holder: string | undefined;
}

/**
 * One configured entry: a token, or a holder's name, whitespace and the token (`alice
 * <token>`), so each person or program has its own token and the audit trail names them.
 */
const NAMED_TOKEN = /^([A-Za-z0-9][A-Za-z0-9_.@-]{0,63})\s+(\S+)$/;

function parseEntry(entry: string): { holder: string | undefined; token: string } {
  const named = NAMED_TOKEN.exec(entry);
  return named === null ? { holder: undefined, token: entry } : { holder: named[1], token: named[2]! };
}

/**
 * Checks admin calls: the bearer token must be one of the configured admin tokens
 * (UNAUTHENTICATED otherwise) and one of its roles must grant the call's permission
 * (PERMISSION_DENIED otherwise). Tokens are compared as SHA-256 digests in constant time,
 * against every configured token, so the time taken says nothing about which came close.
 */
export class AdminAuthority {
  private readonly credentials: readonly Credential[];
  private readonly logger: Logger | undefined;

  /** `logger` gets a warning per refused call (the call and why; never the token). */
  constructor(tokens: AdminTokens | undefined, logger?: Logger) {
    this.logger = logger;
    const byToken = new Map<string, { roles: Set<AdminRole>; holder: string | undefined }>();
    for (const [member, role] of Object.entries(ROLE_OF_MEMBER) as [keyof AdminTokens, AdminRole][])
      for (const entry of tokens?.[member] ?? []) {
        const { holder, token } = parseEntry(entry);
        const credential = byToken.get(token) ?? { roles: new Set<AdminRole>(), holder };
        credential.roles.add(role);
        byToken.set(token, credential);
      }
    this.credentials = [...byToken].map(([token, { roles, holder }]) => ({ hash: digest(token), roles, holder }));
  }

  /** Whether any admin token is configured (without one every admin call is refused). */
  get enabled(): boolean {
    return this.credentials.length > 0;
  }

  /**
   * Checks a call; returns the principal for the audit trail: `ops:<holder>` for a token
   * configured with its holder's name, else `ops:<x-tradeplane-principal or "admin">` (a name
   * the caller chooses: the token, not the name, is what is checked).
   */
  authorise(metadata: Metadata, permission: AdminPermission, call = "admin call"): string {
    try {
      return this.check(metadata, permission);
    } catch (err) {
      if (err instanceof AuthError) this.logger?.warn({ call, permission, code: err.code }, "admin call refused");
      throw err;
    }
  }

  private check(metadata: Metadata, permission: AdminPermission): string {
    if (!this.enabled)
      throw new AuthError("PERMISSION_DENIED", "admin calls are disabled: no admin token is configured");
    const presented = bearerToken(metadata);
    if (presented === "") throw new AuthError("UNAUTHENTICATED", "an admin bearer token is required");
    const hash = digest(presented);
    let match: Credential | undefined;
    for (const c of this.credentials) if (timingSafeEqual(c.hash, hash)) match = c;
    if (match === undefined) throw new AuthError("UNAUTHENTICATED", "invalid admin token");
    const roles = [...match.roles];
    if (!roles.some((r) => roleGrants(r, permission)))
      throw new AuthError(
        "PERMISSION_DENIED",
        `this call needs a role with ${permission} (${ADMIN_ROLES.filter((r) => roleGrants(r, permission)).join(" or ")}); the token has ${roles.join(", ")}`,
      );
    const who = match.holder ?? String(metadata.get("x-tradeplane-principal")[0] ?? "admin").slice(0, MAX_AUDIT_NAME);
    return `ops:${who}`;
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
