/**
 * The format of a venue's command and event streams, stamped in the venue's leases bucket
 * under LOG_FORMAT_KEY when the log is first used. 2: command-log entries (`CommandBatch`,
 * ADR 0002) and event messages (`EngineEventBatch`, ADR 0001). A log without the stamp but
 * with commands was written before stamping existed, in format 1 (one `Command` and one
 * `EngineEvent` per message).
 */
export const LOG_FORMAT = 2;
export const LOG_FORMAT_KEY = "log-format";
