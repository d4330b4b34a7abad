import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";

/** Exit codes scripts can rely on (docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** The venue refused the request (an order rejected, a precondition failed). */
  REFUSED: 1,
  /** Bad flags, arguments or input file. */
  USAGE: 2,
  /** An endpoint cannot be reached: the venue is not running, or not there. */
  UNREACHABLE: 3,
  /** The token is missing, wrong or not allowed to do this. */
  AUTH: 4,
  /** What was asked for does not exist (unknown symbol, account or order). */
  NOT_FOUND: 5,
  /** Anything else went wrong. */
  FAILED: 10,
} as const;

/** An error to print as one line with what to do, and the exit code to end with. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** A gRPC failure as a CliError that says what to do about it. */
export function fromGrpc(err: ServiceError, what: string, endpoint: string): CliError {
  const detail = err.details || err.message;
  switch (err.code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED: {
      const why =
        /E[A-Z]{3,}/.exec(detail)?.[0] ?? (err.code === GrpcStatus.DEADLINE_EXCEEDED ? "no answer in time" : detail);
      return new CliError(
        EXIT.UNREACHABLE,
        `cannot reach ${what} at ${endpoint} (${why}): is the venue running? Start it with \`npm start\` or pass --endpoint`,
      );
    }
    case GrpcStatus.UNAUTHENTICATED:
      return new CliError(EXIT.AUTH, `${what} refused the token (${detail}): pass --token or check TP_TOKEN`);
    case GrpcStatus.PERMISSION_DENIED:
      return new CliError(EXIT.AUTH, `${what}: not allowed (${detail})`);
    case GrpcStatus.INVALID_ARGUMENT:
      return new CliError(EXIT.USAGE, `${what}: ${detail}`);
    case GrpcStatus.NOT_FOUND:
      return new CliError(EXIT.NOT_FOUND, `${what}: ${detail}`);
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.FAILED_PRECONDITION:
    case GrpcStatus.ABORTED:
      return new CliError(EXIT.REFUSED, `${what}: ${detail}`);
    case GrpcStatus.UNIMPLEMENTED:
      return new CliError(EXIT.FAILED, `${what} does not serve this yet (${detail})`);
    default:
      return new CliError(EXIT.FAILED, `${what} failed: ${detail}`);
  }
}

/** Any error as a CliError. */
export function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  // Tradeplane's typed errors (platform's TradeplaneError) carry a string code; checked by
  // shape so that this module, loaded by every command, does not load the whole platform.
  if (err instanceof Error && typeof (err as { code?: unknown }).code === "string" && err.name !== "Error") {
    const e = err as Error & { code: string };
    const code =
      e.code === "CONFIG_INVALID" || e.code === "INVALID_ARGUMENT"
        ? EXIT.USAGE
        : e.code === "UNAVAILABLE"
          ? EXIT.UNREACHABLE
          : e.code === "UNAUTHENTICATED" || e.code === "PERMISSION_DENIED"
            ? EXIT.AUTH
            : e.code === "NOT_FOUND"
              ? EXIT.NOT_FOUND
              : EXIT.FAILED;
    return new CliError(code, e.message);
  }
  return new CliError(EXIT.FAILED, (err as Error)?.message ?? String(err));
}
