import type { Logger } from "@tradeplane/platform";
import type { KubeClient } from "../kube/kube-client.ts";
import type { KubeObject } from "../kube/kube-object.ts";

/**
 * Kubernetes Events for what the operator did (created, restarted, refused), so that
 * `kubectl describe venue` tells the story. Recording never fails a reconcile: an Event
 * that cannot be written is logged and dropped.
 */
export class EventRecorder {
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly component: string;
  private counter = 0;

  constructor(client: KubeClient, logger: Logger, component = "tradeplane-operator") {
    this.client = client;
    this.logger = logger;
    this.component = component;
  }

  async record(
    object: KubeObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    now: Date,
  ): Promise<void> {
    const stamp = now.toISOString();
    const name = `${object.metadata.name}.${now.getTime().toString(16)}${(this.counter++).toString(16)}`;
    try {
      await this.client.create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace: object.metadata.namespace ?? "default" },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.metadata.name,
          namespace: object.metadata.namespace,
          uid: object.metadata.uid,
          resourceVersion: object.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: stamp,
        lastTimestamp: stamp,
        count: 1,
      });
    } catch (err) {
      this.logger.warn({ reason, err: (err as Error).message }, "event not recorded");
    }
  }
}
