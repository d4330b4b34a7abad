/**
 * Order id -> order slot: open addressing with linear probing over one Int32Array that holds
 * `slot + 1` (0 = empty bucket). The ids themselves are not stored twice: a probe compares
 * against the id in the order's record (`ids[slot * stride]`), which a cancel or trade reads
 * next anyway. 4 bytes per bucket at a load factor of at most 1/2, nothing allocated per call.
 * Deletion shifts the rest of the run back (no tombstones), so probe chains stay short.
 */
export class OrderIdIndex {
  table: Int32Array;
  size = 0;
  private mask: number;
  private shift: number;
  /** The order records' float view; the id of slot s is ids[s << idShift]. */
  private ids: Float64Array;
  private readonly idShift: number;

  constructor(minCapacity: number, ids: Float64Array, idShift: number) {
    let cap = 16;
    while (cap < minCapacity * 2) cap *= 2;
    this.table = new Int32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    this.ids = ids;
    this.idShift = idShift;
  }

  /** Points the index at the order records again after they were reallocated. */
  attach(ids: Float64Array): void {
    this.ids = ids;
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
    const table = this.table;
    const ids = this.ids;
    const sh = this.idShift;
    const mask = this.mask;
    let i = this.bucket(id);
    for (;;) {
      const t = table[i]!;
      if (t === 0) return -1;
      if (ids[(t - 1) << sh] === id) return t - 1;
      i = (i + 1) & mask;
    }
  }

  /** Adds id -> slot (the record of `slot` already holds `id`); the caller has checked that id is absent. */
  set(id: number, slot: number): void {
    if ((this.size + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const table = this.table;
    const mask = this.mask;
    let i = this.bucket(id);
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = slot + 1;
    this.size++;
  }

  /** Removes the entry of `id` (whose record still holds the id). */
  delete(id: number): void {
    const table = this.table;
    const ids = this.ids;
    const sh = this.idShift;
    const mask = this.mask;
    let i = this.bucket(id);
    for (;;) {
      const t = table[i]!;
      if (t === 0) return;
      if (ids[(t - 1) << sh] === id) break;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: move later members of the run into the hole when their home allows it.
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const t = table[j]!;
      if (t === 0) break;
      const home = this.bucket(ids[(t - 1) << sh]!);
      // Move it if its home is not cyclically within (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        table[hole] = t;
        hole = j;
      }
    }
    table[hole] = 0;
    this.size--;
  }

  private rehash(cap: number): void {
    const old = this.table;
    this.table = new Int32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    this.size = 0;
    for (let i = 0; i < old.length; i++) {
      const t = old[i]!;
      if (t !== 0) this.set(this.ids[(t - 1) << this.idShift]!, t - 1);
    }
  }
}
