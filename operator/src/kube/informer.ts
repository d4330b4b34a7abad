import type { Logger } from "@tradeplane/platform";
import type { KubeClient } from "./kube-client.ts";
import { keyOf, type KubeObject } from "./kube-object.ts";
import type { ResourceType } from "./resources.ts";

/**
 * A cache of one resource type kept current by list + watch, under supervision: a watch
 * that fails (410 Gone, a dropped connection, an ERROR event) is restarted by a fresh
 * list after a short backoff; a watchdog restarts a watch that has been silent for too
 * long (bookmarks count as life); and every resync period, with jitter so that many
 * informers do not fire together, every cached object is handed to the handler again,
 * without any API call, so that a missed event is at most one period late.
 *
 * Objects are cached without `metadata.managedFields`: the server-side apply bookkeeping
 * that no decision reads was 60% of the caches' memory at 100 venues (docs/performance.md).
 */

export type InformerEventType = "added" | "modified" | "deleted" | "resync";

export interface InformerOptions {
  readonly client: KubeClient;
  readonly resource: ResourceType;
  /** undefined = every namespace. */
  readonly namespace?: string | undefined;
  readonly labelSelector?: string;
  readonly logger: Logger;
  readonly onEvent: (type: InformerEventType, object: KubeObject) => void;
  readonly onRestart?: (resource: string, reason: string) => void;
  readonly resyncMs?: number;
  readonly watchdogMs?: number;
  /** Jitter source in [0, 1): injected so tests and benches can make resyncs predictable. */
  readonly random?: () => number;
}

export const DEFAULT_RESYNC_MS = 10 * 60_000;
/** The server closes watches after timeoutSeconds (300 s) and sends bookmarks about every minute. */
export const DEFAULT_WATCHDOG_MS = 6 * 60_000;
const RESTART_BACKOFF_MS = [200, 1_000, 5_000, 15_000] as const;

export class Informer {
  private readonly options: InformerOptions;
  private readonly store = new Map<string, KubeObject>();
  private synced = false;
  private lastEventAt = 0;
  private restarts = 0;
  private readonly stopped = new AbortController();
  private running: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(options: InformerOptions) {
    this.options = options;
  }

  get kind(): string {
    return this.options.resource.kind;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(keyOf({ namespace, name }));
  }

  list(filter?: (o: KubeObject) => boolean): KubeObject[] {
    const all = [...this.store.values()];
    return filter === undefined ? all : all.filter(filter);
  }

  start(): void {
    this.running ??= this.run();
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    clearTimeout(this.resyncTimer);
    await this.running;
  }

  private scheduleResync(): void {
    const period = this.options.resyncMs ?? DEFAULT_RESYNC_MS;
    const jitter = 0.9 + 0.2 * (this.options.random ?? Math.random)();
    this.resyncTimer = setTimeout(() => {
      if (this.stopped.signal.aborted) return;
      if (this.synced) for (const o of this.store.values()) this.options.onEvent("resync", o);
      this.scheduleResync();
    }, period * jitter);
    this.resyncTimer.unref();
  }

  private async run(): Promise<void> {
    const { logger, resource } = this.options;
    let failures = 0;
    while (!this.stopped.signal.aborted) {
      try {
        const resourceVersion = await this.relist();
        failures = 0;
        await this.watchFrom(resourceVersion);
      } catch (err) {
        if (this.stopped.signal.aborted) break;
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        this.restarts++;
        this.options.onRestart?.(resource.kind, reason);
        logger.warn(
          { resource: resource.kind, namespace: this.options.namespace, reason, restarts: this.restarts },
          "watch restarted",
        );
        const wait = RESTART_BACKOFF_MS[Math.min(failures++, RESTART_BACKOFF_MS.length - 1)]!;
        await sleep(wait, this.stopped.signal);
      }
    }
  }

  /** Lists and replaces the cache, reporting what changed since the last list. */
  private async relist(): Promise<string> {
    const query: Record<string, string> = this.options.labelSelector
      ? { labelSelector: this.options.labelSelector }
      : {};
    const { items, resourceVersion } = await this.options.client.list(
      this.options.resource,
      this.options.namespace,
      query,
    );
    const seen = new Set<string>();
    for (const item of items) {
      withoutManagedFields(item);
      const key = keyOf(item.metadata);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, item);
      if (old === undefined) this.options.onEvent("added", item);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.options.onEvent("modified", item);
    }
    for (const [key, old] of this.store)
      if (!seen.has(key)) {
        this.store.delete(key);
        this.options.onEvent("deleted", old);
      }
    this.synced = true;
    this.lastEventAt = Date.now();
    return resourceVersion;
  }

  /** Watches until the stream fails; a stream the server closed normally is resumed. */
  private async watchFrom(initial: string): Promise<void> {
    let resourceVersion = initial;
    const watchdogMs = this.options.watchdogMs ?? DEFAULT_WATCHDOG_MS;
    while (!this.stopped.signal.aborted) {
      const attempt = new AbortController();
      const onStop = () => attempt.abort();
      this.stopped.signal.addEventListener("abort", onStop, { once: true });
      let silent = false;
      // A watch the server closed on time and reopened is alive even if nothing changed.
      this.lastEventAt = Date.now();
      const watchdog = setInterval(
        () => {
          if (Date.now() - this.lastEventAt > watchdogMs) {
            silent = true;
            attempt.abort();
          }
        },
        Math.min(watchdogMs, 5_000),
      );
      try {
        await this.options.client.watch(
          this.options.resource,
          this.options.namespace,
          resourceVersion,
          (event) => {
            this.lastEventAt = Date.now();
            const rv = event.object.metadata?.resourceVersion;
            if (rv !== undefined) resourceVersion = rv;
            if (event.type === "BOOKMARK") return;
            withoutManagedFields(event.object);
            const key = keyOf(event.object.metadata);
            if (event.type === "DELETED") {
              this.store.delete(key);
              this.options.onEvent("deleted", event.object);
            } else {
              const existed = this.store.has(key);
              this.store.set(key, event.object);
              this.options.onEvent(existed ? "modified" : "added", event.object);
            }
          },
          attempt.signal,
          Math.max(1, Math.floor(watchdogMs / 2_000)),
          this.options.labelSelector,
        );
      } finally {
        clearInterval(watchdog);
        this.stopped.signal.removeEventListener("abort", onStop);
      }
      if (silent) throw new Error(`no watch event for ${watchdogMs} ms`);
    }
  }
}

/** Drops the object's managedFields in place (the object is the informer's own, just parsed). */
export function withoutManagedFields(object: KubeObject): KubeObject {
  delete object.metadata.managedFields;
  return object;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
