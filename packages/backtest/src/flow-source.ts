import type { ApplyCommand } from "./workload.ts";

/**
 * One venue's flow, pulled a step at a time (a workload line; a replace is two commands
 * at one time), so that the flows of several venues can be merged by time. A push-style
 * replay (`replayWorkload`) cannot be interleaved with another without buffering it whole.
 */
export interface FlowSource {
  /** Time of the next step, ms; undefined once the flow is over. */
  nextTimeMs(): number | undefined;
  /** Applies the next step through `apply`. */
  step(apply: ApplyCommand): void;
}

/** A flow and where its commands go. */
export interface RoutedFlow {
  readonly flow: FlowSource;
  readonly apply: ApplyCommand;
}

/**
 * Applies every step of `flows` in time order; steps at the same time go in the order the
 * flows are given (a fixed venue order), so the merge is a function of the flows alone.
 * Returns the steps applied. A handful of venues: a linear scan beats a heap.
 */
export function mergeFlows(flows: readonly RoutedFlow[], progress?: (steps: number) => void, every = 65_536): number {
  let steps = 0;
  for (;;) {
    let next: RoutedFlow | undefined;
    let at = Infinity;
    for (const f of flows) {
      const t = f.flow.nextTimeMs();
      if (t !== undefined && t < at) {
        at = t;
        next = f;
      }
    }
    if (next === undefined) return steps;
    next.flow.step(next.apply);
    steps++;
    if (progress !== undefined && steps % every === 0) progress(steps);
  }
}
