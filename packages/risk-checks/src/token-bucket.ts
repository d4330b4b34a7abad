/**
 * An order-rate throttle: `ratePerSecond` tokens refill continuously up to `burst`;
 * each request takes one. Time is the caller's monotonic nanoseconds, never read here.
 * The bucket is a small mutable record (one per account) so that the hot path does
 * not allocate.
 */
export interface TokenBucket {
  /** Tokens available, scaled by NS_PER_S so refills stay integers. */
  scaledTokens: number;
  lastNs: number;
}

const NS_PER_S = 1_000_000_000;

export function newTokenBucket(burst: number, nowNs: number): TokenBucket {
  return { scaledTokens: burst * NS_PER_S, lastNs: nowNs };
}

/** Takes one token if there is one; returns whether it did. */
export function tryTake(bucket: TokenBucket, nowNs: number, ratePerSecond: number, burst: number): boolean {
  const cap = burst * NS_PER_S;
  const elapsed = nowNs - bucket.lastNs;
  if (elapsed > 0) {
    bucket.scaledTokens = Math.min(cap, bucket.scaledTokens + elapsed * ratePerSecond);
    bucket.lastNs = nowNs;
  }
  if (bucket.scaledTokens < NS_PER_S) return false;
  bucket.scaledTokens -= NS_PER_S;
  return true;
}
