import type { KubeCluster } from "./kube-cluster.ts";

interface PodList {
  items: {
    metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
    status?: { conditions?: { type: string; status: string }[] };
  }[];
}

/**
 * Plays the kubelet, which these tests do not run: every pod of a namespace that is not
 * ready yet is reported Running and Ready through the status subresource, as a kubelet
 * would once its containers pass their readiness probes. `hold` keeps chosen pods unready.
 */
export class KubeletPlayer {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  readonly hold = new Set<string>();
  private readonly kube: KubeCluster;
  private readonly namespace: string;

  constructor(kube: KubeCluster, namespace: string) {
    this.kube = kube;
    this.namespace = namespace;
  }

  start(intervalMs = 250): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const pods = await this.kube.request<PodList>("GET", `/api/v1/namespaces/${this.namespace}/pods`);
      for (const pod of pods.body.items ?? []) {
        if (pod.metadata.deletionTimestamp !== undefined || this.hold.has(pod.metadata.name)) continue;
        if (pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) continue;
        const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
        const ready = (type: string) => ({ type, status: "True", lastTransitionTime: now });
        await this.kube.request(
          "PATCH",
          `/api/v1/namespaces/${this.namespace}/pods/${pod.metadata.name}/status`,
          {
            status: {
              phase: "Running",
              podIP: "10.0.0.10",
              startTime: now,
              conditions: [ready("PodScheduled"), ready("Initialized"), ready("ContainersReady"), ready("Ready")],
            },
          },
          "application/merge-patch+json",
        );
      }
    } finally {
      this.busy = false;
    }
  }
}
