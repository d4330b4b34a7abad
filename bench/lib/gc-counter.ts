import { PerformanceObserver, performance, constants } from "node:perf_hooks";

export interface GcCounts {
  minor: number;
  major: number;
  incremental: number;
  weakcb: number;
  pauseMs: number;
}

/**
 * Counts V8 garbage collections through a PerformanceObserver on 'gc' entries. Entries arrive
 * asynchronously, so `countBetween` awaits a turn of the event loop before reading.
 */
export class GcCounter {
  private readonly entries: { start: number; duration: number; kind: number }[] = [];
  private readonly observer: PerformanceObserver;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const detail = (e as unknown as { detail?: { kind?: number } }).detail;
        this.entries.push({ start: e.startTime, duration: e.duration, kind: detail?.kind ?? 0 });
      }
    });
    this.observer.observe({ entryTypes: ["gc"] });
  }

  now(): number {
    return performance.now();
  }

  async countBetween(t0: number, t1: number): Promise<GcCounts> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    const c: GcCounts = { minor: 0, major: 0, incremental: 0, weakcb: 0, pauseMs: 0 };
    for (const e of this.entries) {
      if (e.start < t0 || e.start > t1) continue;
      if (e.kind === constants.NODE_PERFORMANCE_GC_MINOR) c.minor++;
      else if (e.kind === constants.NODE_PERFORMANCE_GC_MAJOR) c.major++;
      else if (e.kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) c.incremental++;
      else c.weakcb++;
      c.pauseMs += e.duration;
    }
    c.pauseMs = Math.round(c.pauseMs * 100) / 100;
    return c;
  }

  stop(): void {
    this.observer.disconnect();
  }
}
