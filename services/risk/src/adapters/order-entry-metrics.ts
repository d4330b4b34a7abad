import { ExecType, type ExecutionReport } from "@tradeplane/contracts";
import { Counter, Histogram, type Registry } from "prom-client";
import { rejectReasonName } from "../domain/order-intake.ts";

export type RequestKindLabel = "submit" | "cancel" | "replace" | "any";

/** OrderEntry's request metrics: outcomes per kind and reason, and the time the pre-trade checks take. */
export class OrderEntryMetrics {
  private readonly outcomes: Counter<"kind" | "outcome" | "reason">;
  private readonly checkSeconds: Histogram;

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
    else this.outcomes.inc({ kind, outcome: "accepted", reason: "" });
  }
}
