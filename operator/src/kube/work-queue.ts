/**
 * A keyed work queue (client-go's workqueue, reduced to what the operator needs): a key
 * waits at most once however often it is added; a key is never handed to two workers at
 * once, and one added while it is being worked on runs again afterwards; a failed key is
 * retried with exponential backoff up to a cap, and forgetting it resets the backoff.
 */
export interface WorkQueueOptions {
  readonly workers: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly onDepth?: (depth: number) => void;
}

export const DEFAULT_BASE_DELAY_MS = 500;
// A dependency that comes back (a risk gateway that was down) is found within this, and a key
// that keeps failing costs one reconcile per this interval.
export const DEFAULT_MAX_DELAY_MS = 30_000;

/** The delay before the nth retry (n from 1), doubling from base up to the cap. Pure. */
export function backoffDelay(retries: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, retries - 1));
}

export type Handler = (key: string) => Promise<"done" | "retry" | { after: number }>;

export class WorkQueue {
  private readonly options: WorkQueueOptions;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiting: (() => void)[] = [];
  private shuttingDown = false;
  private workers: Promise<void>[] = [];

  constructor(options: WorkQueueOptions) {
    this.options = options;
  }

  get depth(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.options.onDepth?.(this.queue.length);
    this.waiting.shift()?.();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown || this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Retries so far of a key (reset when it succeeds). */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  start(handler: Handler, onRetry?: (key: string, retries: number, delayMs: number) => void): void {
    this.workers = Array.from({ length: this.options.workers }, () => this.work(handler, onRetry));
  }

  /** Stops taking keys; resolves when the reconciles in flight have finished. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.all(this.workers);
  }

  private async next(): Promise<string | undefined> {
    while (this.queue.length === 0) {
      if (this.shuttingDown) return undefined;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (this.shuttingDown) return undefined;
    const key = this.queue.shift()!;
    this.queued.delete(key);
    this.options.onDepth?.(this.queue.length);
    return key;
  }

  private async work(
    handler: Handler,
    onRetry?: (key: string, retries: number, delayMs: number) => void,
  ): Promise<void> {
    for (let key = await this.next(); key !== undefined; key = await this.next()) {
      this.processing.add(key);
      let outcome: Awaited<ReturnType<Handler>>;
      try {
        outcome = await handler(key);
      } catch {
        outcome = "retry";
      }
      this.processing.delete(key);
      if (outcome === "retry") {
        const retries = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, retries);
        const delay = backoffDelay(
          retries,
          this.options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS,
          this.options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
        );
        onRetry?.(key, retries, delay);
        this.addAfter(key, delay);
      } else {
        this.failures.delete(key);
        if (outcome !== "done") this.addAfter(key, outcome.after);
      }
      if (this.dirty.delete(key)) this.add(key);
    }
  }
}
