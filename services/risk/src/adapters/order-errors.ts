import { ValidationError, type ValidationIssue } from "@tradeplane/platform";
import type { RejectReason } from "@tradeplane/contracts";

/**
 * A command stored in the log that the engine did not answer within the command timeout.
 * Not a TradeplaneError: the caller is told UNAVAILABLE ("query the order before retrying"),
 * but the request is counted as accepted, since its command is in the log.
 */
export class CommandUnconfirmedError extends Error {
  override readonly name = "CommandUnconfirmedError";
  readonly commandSeq: number;
  constructor(commandSeq: number, options?: { cause?: unknown }) {
    super(`command ${commandSeq} is stored but was not applied in time`, options);
    this.commandSeq = commandSeq;
  }
}

/** A request the gateway's checks refused where the call answers with an error, not a report (MassCancel). */
export class RequestRefusedError extends ValidationError {
  readonly reason: RejectReason;
  constructor(reason: RejectReason, message: string, issues: readonly ValidationIssue[] = []) {
    super(message, issues);
    this.reason = reason;
  }
}
