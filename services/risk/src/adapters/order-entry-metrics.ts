import { ExecType, type ExecutionReport } from "@tradeplane/contracts";
import { MILLISECOND_BUCKETS_S } from "@tradeplane/platform";
import { Counter, Histogram, type Registry } from "prom-client";
import { rejectReasonName } from "../domain/order-intake.ts";

export type RequestKindLabel = "submit" | "cancel" | "replace" | "mass_cancel" | "any";

/**
 * OrderEntry's request metrics: every order request (unary and Session; new, cancel, replace,
 * mass cancel) counted once by outcome and reason, the time from its arrival to its
 * acknowledgement, and the time the pre-trade checks take.
 */
export class OrderEntryMetrics {
  private readonly outcomes: Counter<"kind" | "outcome" | "reason">;
  private readonly checkSeconds: Histogram;
  private readonly ackSeconds: Histogram<"kind">;

  constructor(registry: Registry) {
    this.outcomes = new Counter({
      name: "tp_risk_orders_total",
      help: "Order requests by kind, outcome and reject reason",
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

  /** Counts a request written to the log (the engine's answer comes later, as reports). */
  accepted(kind: RequestKindLabel): void {
    this.outcomes.inc({ kind, outcome: "accepted", reason: "" });
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

  invalid(reason: string): void {
    this.outcomes.inc({ kind: "any", outcome: "invalid", reason });
  }

  rejected(kind: RequestKindLabel, reason: number): void {
    this.outcomes.inc({ kind, outcome: "rejected", reason: rejectReasonName(reason) });
  }

  /** Counts a request the engine answered, by its first report. */
  answered(kind: RequestKindLabel, reports: readonly ExecutionReport[]): void {
    const first = reports[0];
    if (first?.execType === ExecType.REJECTED) this.rejected(kind, first.rejectReason);
    else this.accepted(kind);
  }
}
