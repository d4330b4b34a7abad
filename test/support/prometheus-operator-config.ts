import type { RenderedObject } from "./upstream-schemas.ts";

/**
 * The scrape job prometheus-operator makes of a PodMonitor or ServiceMonitor endpoint
 * (pkg/prometheus/promcfg.go: generatePodMonitorConfig, generateServiceMonitorConfig),
 * for targets given statically with the meta labels Kubernetes service discovery would give
 * them. Prometheus itself then applies the relabelings: no relabeling is reimplemented here,
 * only the rules prometheus-operator writes before the monitor's own (selector keeps, the
 * port, namespace, pod, container, service, job, endpoint). Without a cluster this is how a
 * test sees the labels a chart install's series get.
 */

/** A pod as service discovery finds it: its namespace, name, container, port name and labels. */
export interface DiscoveredPod {
  /** host:port where the test serves its /metrics. */
  readonly address: string;
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
  readonly port: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A Service endpoint: the pod behind it, and the Service's name and labels. */
export interface DiscoveredEndpoint extends DiscoveredPod {
  readonly service: string;
  readonly serviceLabels: Readonly<Record<string, string>>;
}

interface MonitorRelabeling {
  readonly sourceLabels?: readonly string[];
  readonly separator?: string;
  readonly targetLabel?: string;
  readonly regex?: string;
  readonly modulus?: number;
  readonly replacement?: string;
  readonly action?: string;
}

interface MonitorEndpoint {
  readonly port: string;
  readonly path?: string;
  readonly relabelings?: readonly MonitorRelabeling[];
  readonly metricRelabelings?: readonly MonitorRelabeling[];
}

type Job = Readonly<Record<string, unknown>>;

/** Kubernetes SD's form of a label name in meta labels (promcfg.go sanitizeLabelName). */
const sanitized = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");

/** A monitor's relabeling as Prometheus's config spells it. */
function relabelConfig(r: MonitorRelabeling): Job {
  return {
    ...(r.sourceLabels === undefined ? {} : { source_labels: r.sourceLabels }),
    ...(r.separator === undefined ? {} : { separator: r.separator }),
    ...(r.targetLabel === undefined ? {} : { target_label: r.targetLabel }),
    ...(r.regex === undefined ? {} : { regex: r.regex }),
    ...(r.modulus === undefined ? {} : { modulus: r.modulus }),
    ...(r.replacement === undefined ? {} : { replacement: r.replacement }),
    ...(r.action === undefined ? {} : { action: r.action.toLowerCase() }),
  };
}

function labelMeta(prefix: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    meta[`${prefix}_label_${sanitized(k)}`] = v;
    meta[`${prefix}_labelpresent_${sanitized(k)}`] = "true";
  }
  return meta;
}

function selectorKeeps(prefix: string, monitor: RenderedObject): Job[] {
  const matchLabels = (monitor.spec as { selector: { matchLabels?: Record<string, string> } }).selector.matchLabels;
  return Object.keys(matchLabels ?? {})
    .sort()
    .map((k) => ({
      action: "keep",
      source_labels: [`${prefix}_label_${sanitized(k)}`, `${prefix}_labelpresent_${sanitized(k)}`],
      regex: `(${matchLabels![k]});true`,
    }));
}

const endpointOf = (monitor: RenderedObject, key: string, index: number): MonitorEndpoint =>
  (monitor.spec as Record<string, MonitorEndpoint[]>)[key]![index]!;

/** The job of a PodMonitor's `podMetricsEndpoints[index]`, for `pods`. */
export function podMonitorJob(monitor: RenderedObject, pods: readonly DiscoveredPod[], index = 0): Job {
  const ep = endpointOf(monitor, "podMetricsEndpoints", index);
  const { namespace, name } = monitor.metadata as { namespace: string; name: string };
  return {
    job_name: `podMonitor/${namespace}/${name}/${index}`,
    honor_labels: false,
    metrics_path: ep.path ?? "/metrics",
    static_configs: pods.map((p) => ({
      targets: [p.address],
      labels: {
        __meta_kubernetes_namespace: p.namespace,
        __meta_kubernetes_pod_name: p.name,
        __meta_kubernetes_pod_container_name: p.container,
        __meta_kubernetes_pod_container_port_name: p.port,
        ...labelMeta("__meta_kubernetes_pod", p.labels),
      },
    })),
    relabel_configs: [
      { source_labels: ["job"], target_label: "__tmp_prometheus_job_name" },
      ...selectorKeeps("__meta_kubernetes_pod", monitor),
      { action: "keep", source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: ep.port },
      { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
      { source_labels: ["__meta_kubernetes_pod_container_name"], target_label: "container" },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      { target_label: "job", replacement: `${namespace}/${name}` },
      { target_label: "endpoint", replacement: ep.port },
      ...(ep.relabelings ?? []).map(relabelConfig),
    ],
    metric_relabel_configs: (ep.metricRelabelings ?? []).map(relabelConfig),
  };
}

/** The job of a ServiceMonitor's `endpoints[index]`, for `endpoints` (role endpoints, pod-backed). */
export function serviceMonitorJob(monitor: RenderedObject, endpoints: readonly DiscoveredEndpoint[], index = 0): Job {
  const ep = endpointOf(monitor, "endpoints", index);
  const { namespace, name } = monitor.metadata as { namespace: string; name: string };
  return {
    job_name: `serviceMonitor/${namespace}/${name}/${index}`,
    honor_labels: false,
    metrics_path: ep.path ?? "/metrics",
    static_configs: endpoints.map((e) => ({
      targets: [e.address],
      labels: {
        __meta_kubernetes_namespace: e.namespace,
        __meta_kubernetes_service_name: e.service,
        __meta_kubernetes_endpoint_port_name: e.port,
        __meta_kubernetes_endpoint_address_target_kind: "Pod",
        __meta_kubernetes_endpoint_address_target_name: e.name,
        __meta_kubernetes_pod_name: e.name,
        __meta_kubernetes_pod_container_name: e.container,
        ...labelMeta("__meta_kubernetes_service", e.serviceLabels),
        ...labelMeta("__meta_kubernetes_pod", e.labels),
      },
    })),
    relabel_configs: [
      { source_labels: ["job"], target_label: "__tmp_prometheus_job_name" },
      ...selectorKeeps("__meta_kubernetes_service", monitor),
      { action: "keep", source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: ep.port },
      {
        source_labels: [
          "__meta_kubernetes_endpoint_address_target_kind",
          "__meta_kubernetes_endpoint_address_target_name",
        ],
        separator: ";",
        regex: "Pod;(.*)",
        replacement: "${1}",
        target_label: "pod",
      },
      { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
      { source_labels: ["__meta_kubernetes_service_name"], target_label: "service" },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      { source_labels: ["__meta_kubernetes_pod_container_name"], target_label: "container" },
      { source_labels: ["__meta_kubernetes_service_name"], target_label: "job", replacement: "${1}" },
      { target_label: "endpoint", replacement: ep.port },
      ...(ep.relabelings ?? []).map(relabelConfig),
    ],
    metric_relabel_configs: (ep.metricRelabelings ?? []).map(relabelConfig),
  };
}
