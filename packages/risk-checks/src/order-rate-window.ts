/**
 * The order-rate limit: no more than `limit` orders in any one second, measured over a
 * sliding window, as risk_admin.proto promises (a token bucket lets through up to twice
 * its rate in some second: a full bucket plus a second of refill). It keeps the times of the
 * orders it admitted in the last second, oldest first, in a ring that grows to at most the
 * number of orders the account actually sent in one second. Time is the caller's monotonic
 * nanoseconds, never read here. One small mutable record per account, so that the hot path
 * does not allocate.
 */
export interface OrderRateWindow {
  /** Admission times (ns), a ring of a power-of-two length. */
  times: Float64Array;
  head: number;
  size: number;
}

const NS_PER_S = 1_000_000_000;
const INITIAL_RING = 16;

export function newOrderRateWindow(): OrderRateWindow {
  return { times: new Float64Array(INITIAL_RING), head: 0, size: 0 };
}

/**
 * Admits one order at `nowNs` if fewer than `limit` were admitted in the second before it
 * (the half-open window (nowNs - windowNs, nowNs], one second unless a client keeps a longer
 * one to stay inside the gateway's); returns whether it did.
 */
export function tryAdmit(w: OrderRateWindow, nowNs: number, limit: number, windowNs = NS_PER_S): boolean {
  const cutoff = nowNs - windowNs;
  let mask = w.times.length - 1;
  while (w.size > 0 && w.times[w.head]! <= cutoff) {
    w.head = (w.head + 1) & mask;
    w.size--;
  }
  if (w.size >= limit) return false;
  if (w.size === w.times.length) {
    const grown = new Float64Array(w.times.length * 2);
    for (let i = 0; i < w.size; i++) grown[i] = w.times[(w.head + i) & mask]!;
    w.times = grown;
    w.head = 0;
    mask = grown.length - 1;
  }
  w.times[(w.head + w.size) & mask] = nowNs;
  w.size++;
  return true;
}

/**
 * A window holding admissions at `timesNs` (any order): a gateway replica that takes an
 * account over starts from the previous owner's orders of the last second, as the command
 * log shows them (ADR 0003), instead of an empty window.
 */
export function orderRateWindowOf(timesNs: readonly number[]): OrderRateWindow {
  let length = INITIAL_RING;
  while (length < timesNs.length) length *= 2;
  const times = new Float64Array(length);
  const sorted = [...timesNs].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) times[i] = sorted[i]!;
  return { times, head: 0, size: sorted.length };
}
