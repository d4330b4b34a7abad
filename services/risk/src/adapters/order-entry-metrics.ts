import { RejectReason } from "@tradeplane/contracts";
import { AuthError, MILLISECOND_BUCKETS_S, ValidationError } from "@tradeplane/platform";
import { Counter, Histogram, type Registry } from "prom-client";
import { rejectReasonName } from "../domain/order-intake.ts";
import {
  ACCEPTED,
  INVALID,
  rejectedFor,
  UNAVAILABLE,
  type RequestKindLabel,
  type RequestOutcome,
} from "../domain/request-outcome.ts";
import { CommandUnconfirmedError, RequestRefusedError } from "./order-errors.ts";

export type { RequestKindLabel } from "../domain/request-outcome.ts";

/**
 * OrderEntry's request metrics: every order request (unary and Session; new, cancel, replace,
 * mass cancel) counted once by the replica that received it, by kind, outcome and reason; the
 * time from its arrival to its acknowledgement; and the time the pre-trade checks take.
 */
export class OrderEntryMetrics {
  private readonly outcomes: Counter<"kind" | "outcome" | "reason">;
  private readonly checkSeconds: Histogram;
  private readonly ackSeconds: Histogram<"kind">;

  constructor(registry: Registry) {
    this.outcomes = new Counter({
      name: "tp_risk_orders_total",
      help: "Order requests (unary and Session), each counted once by the replica that received it: kind, outcome (accepted: in the command log; rejected; invalid: malformed) and reject reason",
      labelNames: ["kind", "outcome", "reason"],
      registers: [registry],
    });
    this.checkSeconds = new Histogram({
      name: "tp_risk_check_seconds",
      help: "Time to run the pre-trade check chain, seconds",
      buckets: [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 1e-3],
      registers: [registry],
    });
    this.ackSeconds = new Histogram({
      name: "tp_risk_order_ack_seconds",
      help: "From an order request's arrival to its acknowledgement (unary: the answer with its reports; Session: the ack, once the command is stored), seconds",
      labelNames: ["kind"],
      buckets: [...MILLISECOND_BUCKETS_S],
      registers: [registry],
    });
  }

  /** Records the acknowledgement of a request that arrived at `arrivedMs` (performance.now()). */
  acknowledged(kind: RequestKindLabel, arrivedMs: number): void {
    this.ackSeconds.observe({ kind }, (performance.now() - arrivedMs) / 1000);
  }

  /** Counts `n` requests of `kind` that ended as `outcome`; a malformed one under kind `any`. */
  counted(kind: RequestKindLabel, outcome: RequestOutcome, n = 1): void {
    if (n === 0) return;
    switch (outcome.outcome) {
      case "accepted":
        this.outcomes.inc({ kind, outcome: "accepted", reason: "" }, n);
        return;
      case "rejected":
        this.outcomes.inc({ kind, outcome: "rejected", reason: rejectReasonName(outcome.reason) }, n);
        return;
      case "invalid":
        this.outcomes.inc({ kind: "any", outcome: "invalid", reason: "MALFORMED_REQUEST" }, n);
        return;
    }
  }

  /** Runs `decide` (the checks of one request), timing it. */
  timed<T>(decide: () => T): T {
    const t0 = performance.now();
    try {
      return decide();
    } finally {
      this.checkSeconds.observe((performance.now() - t0) / 1000);
    }
  }
}

/**
 * How a unary order call that failed ended, by its error: what its client is told, except a
 * command the log stored and the engine did not answer in time, which is accepted.
 */
export function outcomeOfError(err: unknown): RequestOutcome {
  if (err instanceof CommandUnconfirmedError) return ACCEPTED;
  if (err instanceof RequestRefusedError) return rejectedFor(err.reason);
  if (err instanceof AuthError)
    return rejectedFor(
      err.code === "UNAUTHENTICATED" ? RejectReason.UNAUTHENTICATED : RejectReason.ACCOUNT_NOT_PERMITTED,
    );
  if (err instanceof ValidationError) return INVALID;
  // The log did not store it, the account was changing owner, or a fault: the client retries.
  return UNAVAILABLE;
}
