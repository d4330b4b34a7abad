import { collectDefaultMetrics, Registry } from "prom-client";

const MISNAMED_DEFAULT_METRICS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
] as const;

/**
 * One registry per process (never prom-client's global), with the default process and
 * Node metrics, labelled by service. Services register their own metrics on it.
 */
export function createMetricsRegistry(service: string, labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service, ...labels });
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges with a counter's "_total" suffix, which Prometheus's own
  // lint (promtool check metrics) refuses; the handle and request counts they carry are in
  // no dashboard or alert.
  for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  return registry;
}

/** Histogram buckets in seconds for microsecond-scale work (1 µs .. 10 ms). */
export const MICROSECOND_BUCKETS_S = [
  1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2,
] as const;

/** Histogram buckets in seconds for millisecond-scale work (0.1 ms .. 10 s). */
export const MILLISECOND_BUCKETS_S = [
  1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;
