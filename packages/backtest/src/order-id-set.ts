/** Ids held in a flat array up to this many; a Set beyond. */
const FLAT_MAX = 32;

/**
 * A set of order ids, for the few live orders of a strategy's account, looked up for every
 * event of a backtest's flow. Order ids are command sequences past V8's small-integer range
 * after about a million commands, and a `Set<number>` boxes each one it is asked about (an
 * allocation per lookup); here they are compared in a flat Float64Array while there are few,
 * in a Set once there are more than `FLAT_MAX`.
 */
export class OrderIdSet {
  private flat = new Float64Array(FLAT_MAX);
  private count = 0;
  private many: Set<number> | undefined;

  get size(): number {
    return this.many?.size ?? this.count;
  }

  has(id: number): boolean {
    if (this.many !== undefined) return this.many.has(id);
    for (let i = 0; i < this.count; i++) if (this.flat[i] === id) return true;
    return false;
  }

  add(id: number): void {
    if (this.many !== undefined) {
      this.many.add(id);
      return;
    }
    if (this.has(id)) return;
    if (this.count === FLAT_MAX) {
      this.many = new Set(this.flat);
      this.many.add(id);
      return;
    }
    this.flat[this.count++] = id;
  }

  delete(id: number): void {
    if (this.many !== undefined) {
      this.many.delete(id);
      return;
    }
    for (let i = 0; i < this.count; i++)
      if (this.flat[i] === id) {
        this.flat[i] = this.flat[--this.count]!;
        return;
      }
  }
}
