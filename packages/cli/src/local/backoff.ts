/**
 * Restart delays of a supervised process: doubling from `initialMs` up to `maxMs`, and
 * back to the start once the process has stayed up for `healthyAfterMs` (a crash an hour
 * after the last one is not a crash loop).
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly healthyAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000, healthyAfterMs: 30_000 };

/** The delay before the next start, given how many quick crashes came before and how long this run lasted. */
export function nextRestart(
  policy: BackoffPolicy,
  quickCrashes: number,
  uptimeMs: number,
): { delayMs: number; quickCrashes: number } {
  const crashes = uptimeMs >= policy.healthyAfterMs ? 0 : quickCrashes + 1;
  const delayMs = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, crashes - 1));
  return { delayMs, quickCrashes: crashes };
}
