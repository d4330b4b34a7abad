/**
 * Order id -> order slot: open addressing with linear probing over two typed arrays, so a
 * lookup, insert or delete allocates nothing. Ids are positive safe integers; key 0 marks an
 * empty bucket. Deletion shifts the following run back (no tombstones), so probe chains stay short.
 */
export class OrderIdIndex {
  keys: Float64Array;
  vals: Int32Array;
  size = 0;
  private mask: number;
  private shift: number;

  constructor(minCapacity: number) {
    let cap = 16;
    while (cap < minCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }

  /**
   * Blocks of 8 consecutive ids share a cache line (ids are log sequences, so recent orders sit
   * together); the blocks themselves are scattered by a multiplicative hash to avoid long runs.
   */
  private bucket(id: number): number {
    const lo = id >>> 0;
    let x = lo >>> 3;
    if (id > 0xffffffff) x ^= Math.imul((id * 2.3283064365386963e-10) >>> 0, 0x27d4eb2d); // high word (exact / 2^32)
    return ((Math.imul(x, 0x9e3779b1) >>> this.shift) & ~7) | (lo & 7);
  }

  /** Slot of the order with this id, or -1. */
  get(id: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.bucket(id);
    for (;;) {
      const k = keys[i]!;
      if (k === id) return this.vals[i]!;
      if (k === 0) return -1;
      i = (i + 1) & mask;
    }
  }

  /** Adds id -> slot; the caller has checked that id is absent. */
  set(id: number, slot: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    const keys = this.keys;
    const mask = this.mask;
    let i = this.bucket(id);
    while (keys[i] !== 0) i = (i + 1) & mask;
    keys[i] = id;
    this.vals[i] = slot;
    this.size++;
  }

  delete(id: number): void {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = this.bucket(id);
    for (;;) {
      const k = keys[i]!;
      if (k === id) break;
      if (k === 0) return;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: move later members of the run into the hole when their home allows it.
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j]!;
      if (k === 0) break;
      const home = this.bucket(k);
      // Move k if its home is not cyclically within (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        keys[hole] = k;
        vals[hole] = vals[j]!;
        hole = j;
      }
    }
    keys[hole] = 0;
    this.size--;
  }

  clear(): void {
    this.keys.fill(0);
    this.size = 0;
  }

  private rehash(cap: number): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k !== 0) this.set(k, oldVals[i]!);
    }
  }
}
