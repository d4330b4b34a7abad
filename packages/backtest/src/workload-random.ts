/**
 * The workload generator's random numbers: xoshiro128** (Blackman and Vigna) on 32-bit
 * integers, seeded from a whole number through the lowbias32 hash. Only `Math.imul`, shifts
 * and exact double arithmetic below 2^53 are used, so a seed gives the same numbers on every
 * platform and Node version (`Math.random` is neither seeded nor specified).
 */
export class WorkloadRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed`: a whole number 0..2^53-1; both 32-bit halves shape the state. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed ${seed}: a whole number >= 0`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    // Four different hashes of (lo, hi): neighbouring seeds start far apart.
    this.s0 = lowbias32(lo ^ lowbias32(hi + 0x9e3779b9));
    this.s1 = lowbias32(this.s0 + 0x7f4a7c15);
    this.s2 = lowbias32(this.s1 ^ lowbias32(hi + 0x165667b1));
    this.s3 = lowbias32(this.s2 + 0x27d4eb2f);
    // xoshiro's one state it cannot leave: all zero.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits, as an unsigned integer 0..2^32-1. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * A whole number 0..n-1, for n in 1..2^21: the top bits of `next()` scaled, exact in a
   * double (the product stays below 2^53); its bias, at most n / 2^32, is far below what a
   * workload could show.
   */
  below(n: number): number {
    return Math.floor((this.next() * n) / 2 ** 32);
  }

  /** True with probability `per65536` / 65536. */
  chance(per65536: number): boolean {
    return this.next() >>> 16 < per65536;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Chris Wellons' lowbias32 integer hash: every input bit moves about half the output bits. */
function lowbias32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}
