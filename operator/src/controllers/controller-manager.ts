import { SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { randomUUID } from "node:crypto";
import type { Logger } from "@tradeplane/platform";
import { Informer, type InformerEventType } from "../kube/informer.ts";
import type { KubeClient } from "../kube/kube-client.ts";
import { keyOf, type KubeObject } from "../kube/kube-object.ts";
import { resourceOf } from "../kube/resources.ts";
import { WorkQueue } from "../kube/work-queue.ts";
import { LABELS } from "../desired/venue-model.ts";
import { ObjectCache } from "./object-cache.ts";
import type { OperatorMetrics } from "./operator-metrics.ts";

/**
 * Runs the controllers: one informer per watched kind and namespace feeding one cache,
 * and one keyed work queue per controller. Events on children wake their owner. Each
 * reconcile gets a correlation id that every log line of it carries.
 */
export interface Reconciler {
  readonly kind: string;
  /** "retry": again after the queue's backoff (a dependency is down; the status says so). */
  reconcile(namespace: string, name: string, logger: Logger): Promise<"done" | "retry" | { after: number }>;
  /** Keys of this controller's objects that an event on another object concerns. */
  ownersOf(object: KubeObject): string[];
}

export interface ManagerOptions {
  readonly client: KubeClient;
  readonly namespaces: readonly string[] | undefined;
  readonly logger: Logger;
  readonly metrics: OperatorMetrics;
  readonly workers: number;
  readonly resyncMs: number;
  readonly watchdogMs?: number;
  /** A span per reconcile (`reconcile <Kind>`); none without. */
  readonly tracer?: Tracer;
  /** Every object an informer saw deleted (the applier forgets what it kept about it). */
  readonly onDeleted?: (object: KubeObject) => void;
}

const MANAGED = "app.kubernetes.io/managed-by=tradeplane-operator";

/** What the controllers watch: their own kinds, their children (managed by us) and engine pods. */
export const WATCHED: readonly { apiVersion: string; kind: string; labelSelector?: string }[] = [
  { apiVersion: "tradeplane.io/v1alpha1", kind: "TradingVenue" },
  { apiVersion: "tradeplane.io/v1alpha1", kind: "StrategyDeployment" },
  { apiVersion: "v1", kind: "ServiceAccount", labelSelector: MANAGED },
  { apiVersion: "v1", kind: "PersistentVolumeClaim", labelSelector: MANAGED },
  { apiVersion: "v1", kind: "Secret", labelSelector: MANAGED },
  { apiVersion: "v1", kind: "ConfigMap", labelSelector: MANAGED },
  { apiVersion: "v1", kind: "Service", labelSelector: MANAGED },
  { apiVersion: "apps/v1", kind: "StatefulSet", labelSelector: MANAGED },
  { apiVersion: "apps/v1", kind: "Deployment", labelSelector: MANAGED },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget", labelSelector: MANAGED },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", labelSelector: MANAGED },
  { apiVersion: "v1", kind: "Pod", labelSelector: `${LABELS.component}=engine` },
];

export class ControllerManager {
  readonly cache = new ObjectCache();
  private readonly options: ManagerOptions;
  private readonly queues = new Map<string, WorkQueue>();
  private readonly reconcilers: Reconciler[] = [];

  constructor(options: ManagerOptions) {
    this.options = options;
    for (const watched of WATCHED)
      for (const namespace of options.namespaces ?? [undefined])
        this.cache.add(
          new Informer({
            client: options.client,
            resource: resourceOf(watched.apiVersion, watched.kind),
            namespace,
            ...(watched.labelSelector !== undefined ? { labelSelector: watched.labelSelector } : {}),
            logger: options.logger,
            resyncMs: options.resyncMs,
            ...(options.watchdogMs !== undefined ? { watchdogMs: options.watchdogMs } : {}),
            onEvent: (type, object) => this.route(type, object),
            onRestart: (resource) => options.metrics.watchRestarts.inc({ resource }),
          }),
        );
  }

  register(reconciler: Reconciler): void {
    this.reconcilers.push(reconciler);
    const kind = reconciler.kind;
    this.queues.set(
      kind,
      new WorkQueue({
        workers: this.options.workers,
        onDepth: (d) => this.options.metrics.queueDepth.set({ kind }, d),
      }),
    );
  }

  /** Starts the informers (caches fill whether or not this replica leads). */
  startInformers(): void {
    for (const informer of this.cache.informers()) informer.start();
  }

  /** Starts reconciling, after every cache has synced (no decisions on a partial view). */
  async startControllers(): Promise<void> {
    while (!this.cache.hasSynced()) await new Promise((r) => setTimeout(r, 50));
    for (const reconciler of this.reconcilers) {
      const queue = this.queues.get(reconciler.kind)!;
      queue.start(
        (key) => this.run(reconciler, key),
        (key, retries, delayMs) => {
          this.options.metrics.retries.inc({ kind: reconciler.kind });
          this.options.logger.warn({ kind: reconciler.kind, key, retries, delayMs }, "reconcile retried");
        },
      );
      for (const object of this.cache.list(reconciler.kind)) queue.add(keyOf(object.metadata));
    }
  }

  get synced(): boolean {
    return this.cache.hasSynced();
  }

  /** Stops taking keys and waits for the reconciles in flight (before the Lease is released). */
  async stopControllers(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.shutdown()));
  }

  async stop(): Promise<void> {
    await this.stopControllers();
    await Promise.all(this.cache.informers().map((i) => i.stop()));
  }

  private route(type: InformerEventType, object: KubeObject): void {
    if (type === "deleted") this.options.onDeleted?.(object);
    for (const reconciler of this.reconcilers) {
      const queue = this.queues.get(reconciler.kind)!;
      if (object.kind === reconciler.kind) queue.add(keyOf(object.metadata));
      // A resync of the owner already looks at every child: children's resyncs would only
      // wake the same owner once per child kind.
      else if (type !== "resync") for (const key of reconciler.ownersOf(object)) queue.add(key);
    }
  }

  private async run(reconciler: Reconciler, key: string): Promise<"done" | "retry" | { after: number }> {
    const [namespace, name] = key.includes("/") ? key.split("/", 2) : [undefined, key];
    const reconcileId = randomUUID();
    const { tracer } = this.options;
    if (tracer === undefined) return this.reconcileOnce(reconciler, namespace, name!, reconcileId);
    return tracer.startActiveSpan(
      `reconcile ${reconciler.kind}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          "tradeplane.kind": reconciler.kind,
          "k8s.namespace.name": namespace ?? "",
          "tradeplane.object": name!,
          "tradeplane.reconcile_id": reconcileId,
        },
      },
      async (span) => {
        try {
          const outcome = await this.reconcileOnce(reconciler, namespace, name!, reconcileId);
          span.setAttribute("tradeplane.outcome", outcome === "done" || outcome === "retry" ? outcome : "requeue");
          return outcome;
        } finally {
          span.end();
        }
      },
    );
  }

  private async reconcileOnce(
    reconciler: Reconciler,
    namespace: string | undefined,
    name: string,
    reconcileId: string,
  ): Promise<"done" | "retry" | { after: number }> {
    const logger = this.options.logger.child({ reconcileId, kind: reconciler.kind, namespace, name });
    const { metrics } = this.options;
    const end = metrics.reconcileSeconds.startTimer({ kind: reconciler.kind });
    try {
      const outcome = await reconciler.reconcile(namespace ?? "", name, logger);
      metrics.reconciles.inc({ kind: reconciler.kind, result: outcome === "done" ? "success" : "requeue" });
      logger.debug({ outcome }, "reconciled");
      return outcome;
    } catch (err) {
      metrics.reconciles.inc({ kind: reconciler.kind, result: "error" });
      logger.warn({ err: (err as Error).message }, "reconcile failed");
      trace.getActiveSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message.slice(0, 256) });
      return "retry";
    } finally {
      end();
    }
  }
}
