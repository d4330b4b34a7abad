import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { MILLISECOND_BUCKETS_S } from "@tradeplane/platform";

/** The operator's own metrics, on the process registry (served at /metrics). */
export interface OperatorMetrics {
  readonly reconciles: Counter<"kind" | "result">;
  readonly reconcileSeconds: Histogram<"kind">;
  readonly queueDepth: Gauge<"kind">;
  readonly retries: Counter<"kind">;
  readonly watchRestarts: Counter<"resource">;
  readonly leader: Gauge;
  readonly apiWrites: Counter<"verb" | "kind">;
  readonly riskAdminChannels: Gauge;
}

export function createOperatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  return {
    reconciles: new Counter({
      name: "tp_operator_reconciles_total",
      help: "Reconciles by resource kind and result (success, error, requeue)",
      labelNames: ["kind", "result"],
      registers,
    }),
    reconcileSeconds: new Histogram({
      name: "tp_operator_reconcile_seconds",
      help: "Time of one reconcile",
      labelNames: ["kind"],
      buckets: [...MILLISECOND_BUCKETS_S, 30, 60],
      registers,
    }),
    queueDepth: new Gauge({
      name: "tp_operator_queue_depth",
      help: "Keys waiting in the work queue",
      labelNames: ["kind"],
      registers,
    }),
    retries: new Counter({
      name: "tp_operator_retries_total",
      help: "Reconciles retried after an error (with backoff)",
      labelNames: ["kind"],
      registers,
    }),
    watchRestarts: new Counter({
      name: "tp_operator_watch_restarts_total",
      help: "Watches restarted by a relist after an error or a silent watchdog",
      labelNames: ["resource"],
      registers,
    }),
    leader: new Gauge({ name: "tp_operator_leader", help: "1 while this replica leads", registers }),
    apiWrites: new Counter({
      name: "tp_operator_api_writes_total",
      help: "Requests to the API server that change state, by verb and kind",
      labelNames: ["verb", "kind"],
      registers,
    }),
    riskAdminChannels: new Gauge({
      name: "tp_operator_risk_admin_channels",
      help: "gRPC channels open to venues' risk gateways (one per venue with FIX sessions or strategies)",
      registers,
    }),
  };
}
