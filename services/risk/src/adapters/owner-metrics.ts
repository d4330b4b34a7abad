import { Counter, Gauge, type Registry } from "prom-client";
import type { LostReason, Ownership } from "../domain/account-ownership.ts";

/**
 * Metrics of account ownership by lease (ADR 0003). Labels are bounded: phases, reasons and
 * outcomes, never accounts (a replica may own thousands).
 */
export class OwnerMetrics {
  readonly acquired: Counter<string>;
  readonly lost: Counter<"why">;
  readonly forwarded: Counter<"outcome">;
  readonly fencedRefusals: Counter<string>;
  readonly takeoverWindows: Counter<"how">;

  constructor(registry: Registry, phases: () => Iterable<Ownership>) {
    new Gauge({
      name: "tp_risk_owned_accounts",
      help: "Accounts this replica holds the lease of, by phase (fencing: not deciding yet)",
      labelNames: ["phase"],
      registers: [registry],
      collect() {
        const count = { acquiring: 0, fencing: 0, ready: 0 };
        for (const o of phases()) if (o.phase in count) count[o.phase as keyof typeof count]++;
        for (const [phase, n] of Object.entries(count)) this.set({ phase }, n);
      },
    });
    this.acquired = new Counter({
      name: "tp_risk_account_acquisitions_total",
      help: "Account leases this replica took (free accounts and takeovers of silent owners)",
      registers: [registry],
    });
    this.lost = new Counter({
      name: "tp_risk_accounts_lost_total",
      help: "Accounts this replica stopped deciding because another replica took them, by how it learnt",
      labelNames: ["why"],
      registers: [registry],
    });
    this.forwarded = new Counter({
      name: "tp_risk_forwarded_requests_total",
      help: "Order requests and session batches forwarded to the account's owner, by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    });
    this.fencedRefusals = new Counter({
      name: "tp_risk_fenced_refusals_total",
      help: "Requests of this replica the engine refused as FENCED (a stale owner), then routed again",
      registers: [registry],
    });
    this.takeoverWindows = new Counter({
      name: "tp_risk_takeover_rate_windows_total",
      help: "Takeovers by how the new owner's order-rate window started: counted from the command log, or waited out (one second)",
      labelNames: ["how"],
      registers: [registry],
    });
  }

  windowCounted(counted: boolean): void {
    this.takeoverWindows.inc({ how: counted ? "counted" : "waited" });
  }

  lostBecause(why: LostReason): void {
    this.lost.inc({ why });
  }
}
