/**
 * HDR-style latency histogram in nanoseconds: exact below 256 ns, then 128 linear sub-buckets
 * per power of two (under 0.8% relative error). One preallocated array; recording never allocates.
 */
const LINEAR = 256;
const SUB = 128;
const BUCKETS = LINEAR + 23 * SUB;
const MAX_VALUE = 0x7fffffff;

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  total = 0;
  max = 0;
  min = Infinity;

  record(ns: number): void {
    let v = ns < 0 ? 0 : ns > MAX_VALUE ? MAX_VALUE : Math.floor(ns);
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
    let idx: number;
    if (v < LINEAR) idx = v;
    else {
      const shift = 31 - Math.clz32(v) - 7;
      v = v >>> shift;
      idx = LINEAR + (shift - 1) * SUB + (v - SUB);
    }
    this.counts[idx]!++;
    this.total++;
  }

  /** Highest value that lands in bucket `idx` (HDR's "highest equivalent value"). */
  private static upper(idx: number): number {
    if (idx < LINEAR) return idx;
    const k = idx - LINEAR;
    const shift = (k >> 7) + 1;
    const mant = (k & (SUB - 1)) + SUB;
    return ((mant + 1) << shift) - 1;
  }

  /** The value at quantile q (0..1): the upper bound of the bucket holding the ceil(q * total)-th sample. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(Histogram.upper(i), this.max);
    }
    return this.max;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.max = Math.max(this.max, other.max);
    this.min = Math.min(this.min, other.min);
  }
}
