import { pino, type Logger as PinoLogger, type LevelWithSilent } from "pino";

export type Logger = PinoLogger;
export type LogLevel = LevelWithSilent;

/** Fields never written to a log, wherever they appear one or two levels deep. */
const REDACTED_KEYS = ["token", "password", "secret", "authorization", "credentials", "tokenHash", "seed"];
const REDACT_PATHS = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`]);

export interface LoggerOptions {
  readonly service: string;
  readonly level?: LogLevel;
  /** Extra constant fields on every line (venue, partition, instance). */
  readonly base?: Record<string, string | number>;
  /** Where to write; stdout when omitted. Tests pass a stream to capture lines. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * JSON lines with a level, a time and constant field keys; secrets are redacted by key.
 * Log levels are names ("info"), not pino's numbers, so any log shipper reads them.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: options.service, ...options.base },
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
