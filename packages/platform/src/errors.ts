/**
 * Errors a caller can act on, one class per failure, each with a stable `code`.
 * Adapters map these to gRPC status codes explicitly (see grpc-status.ts); anything
 * else that escapes becomes INTERNAL, never a silent UNKNOWN.
 */
export class TradeplaneError extends Error {
  override readonly name: string = "TradeplaneError";
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A request, message or file failed validation. `field` names what was wrong. */
export class ValidationError extends TradeplaneError {
  override readonly name = "ValidationError";
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[] = [], options?: { cause?: unknown }) {
    super("INVALID_ARGUMENT", message, options);
    this.issues = issues;
  }
}

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `spec.instruments[2].tickSize`, or an env var name. */
  readonly path: string;
  readonly message: string;
}

/** Configuration is missing or invalid; the process cannot start. */
export class ConfigError extends TradeplaneError {
  override readonly name = "ConfigError";
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[] = []) {
    super("CONFIG_INVALID", message);
    this.issues = issues;
  }
}

/** The caller is not authenticated, or may not act for the account it named. */
export class AuthError extends TradeplaneError {
  override readonly name = "AuthError";
  constructor(code: "UNAUTHENTICATED" | "PERMISSION_DENIED", message: string) {
    super(code, message);
  }
}

/** A dependency (NATS, a peer service) is unreachable or not ready. */
export class UnavailableError extends TradeplaneError {
  override readonly name = "UnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("UNAVAILABLE", message, options);
  }
}

/** A named thing (order, account, instrument) does not exist. */
export class NotFoundError extends TradeplaneError {
  override readonly name = "NotFoundError";
  constructor(message: string) {
    super("NOT_FOUND", message);
  }
}

/** A thing to be created exists already (an account name, a key). */
export class AlreadyExistsError extends TradeplaneError {
  override readonly name = "AlreadyExistsError";
  constructor(message: string) {
    super("ALREADY_EXISTS", message);
  }
}

/** A write was based on a stale revision (optimistic concurrency): read again and retry. */
export class RevisionConflictError extends TradeplaneError {
  override readonly name = "RevisionConflictError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("ABORTED", message, options);
  }
}

/** The request is valid but the state does not allow it (e.g. deleting an account with open orders). */
export class FailedPreconditionError extends TradeplaneError {
  override readonly name = "FailedPreconditionError";
  constructor(message: string) {
    super("FAILED_PRECONDITION", message);
  }
}

/** The call exists in the contract but this service does not serve it (yet). */
export class NotImplementedError extends TradeplaneError {
  override readonly name = "NotImplementedError";
  constructor(message: string) {
    super("UNIMPLEMENTED", message);
  }
}

/** Renders an unknown thrown value as a one-line message. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
