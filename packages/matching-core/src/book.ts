import type { NormalizedInstrument } from "./config.ts";
import { priceRange, slabTickBases } from "./config.ts";

/** Cells of a fresh ladder window; it doubles (and re-centres) when a price falls outside. */
export const INITIAL_WINDOW = 1024;

/**
 * One instrument's book. Prices are addressed by `rel`, the tick index relative to the lowest
 * allowed price (0..span-1). The ladder is a window of `wSize` cells starting at rel `wBase`;
 * per side and cell it holds the FIFO list (head/tail order slots, linked through the engine's
 * order arrays), the visible aggregate, and one bit in a bitmap used to find the next best level.
 * Array index of (side, cell) is `side * wSize + cell`; side 0 = buy, 1 = sell.
 */
export class Book {
  readonly index: number;
  readonly cfg: NormalizedInstrument;
  /** Tick size when the instrument has a single tick size, else 0 (slab lookup). */
  readonly tick1: number;
  readonly slabFrom: Float64Array;
  readonly slabTick: Float64Array;
  readonly slabBase: Float64Array;
  readonly loTick: number;
  readonly span: number;
  readonly refRel: number;
  readonly lotSize: number;
  readonly minQty: number;
  readonly maxQty: number;
  readonly maxOrderValue: number;
  /** Largest window: the span rounded up to a power of two. */
  readonly maxWindow: number;

  state: number;
  lastPrice: number;

  wBase = 0;
  wSize = 0;
  head: Int32Array;
  tail: Int32Array;
  agg: Float64Array;
  bits: Int32Array;
  /** Best bid / ask as rel tick, -1 when the side is empty. */
  bestBid = -1;
  bestAsk = -1;
  /** Non-empty levels per side. */
  readonly levels = new Int32Array(2);
  resting = 0;

  /** Parked stop orders per side, sorted by trigger order (buy: stop asc, sell: stop desc; FIFO on ties). */
  readonly stopHead = new Int32Array([-1, -1]);
  readonly stopTail = new Int32Array([-1, -1]);
  stopCount = 0;

  constructor(index: number, cfg: NormalizedInstrument) {
    this.index = index;
    this.cfg = cfg;
    const bases = slabTickBases(cfg.slabs);
    this.tick1 = cfg.slabs.length === 1 ? cfg.slabs[0]!.tickSize : 0;
    this.slabFrom = Float64Array.from(cfg.slabs.map((s) => s.fromPrice));
    this.slabTick = Float64Array.from(cfg.slabs.map((s) => s.tickSize));
    this.slabBase = Float64Array.from(bases);
    const r = priceRange(cfg);
    this.loTick = r.loTick;
    this.span = r.hiTick - r.loTick + 1;
    this.refRel = r.refTick - r.loTick;
    this.lotSize = cfg.lotSize;
    this.minQty = cfg.minQty;
    this.maxQty = cfg.maxQty;
    this.maxOrderValue = cfg.maxOrderValue;
    let maxWindow = 32;
    while (maxWindow < this.span) maxWindow *= 2;
    this.maxWindow = maxWindow;
    this.state = cfg.initialState;
    this.lastPrice = cfg.referencePrice;
    const size = Math.min(INITIAL_WINDOW, maxWindow);
    this.head = new Int32Array(0);
    this.tail = new Int32Array(0);
    this.agg = new Float64Array(0);
    this.bits = new Int32Array(0);
    this.setWindow(size, size >= this.span ? 0 : this.refRel - (size >> 1));
  }

  /** A copy of the book's state: what a snapshot written in steps reads while this book changes. */
  copy(): Book {
    const c = new Book(this.index, this.cfg);
    c.state = this.state;
    c.lastPrice = this.lastPrice;
    c.wBase = this.wBase;
    c.wSize = this.wSize;
    c.head = this.head.slice();
    c.tail = this.tail.slice();
    c.agg = this.agg.slice();
    c.bits = this.bits.slice();
    c.bestBid = this.bestBid;
    c.bestAsk = this.bestAsk;
    c.levels.set(this.levels);
    c.resting = this.resting;
    c.stopHead.set(this.stopHead);
    c.stopTail.set(this.stopTail);
    c.stopCount = this.stopCount;
    return c;
  }

  /** Allocates an empty window (used at construction; re-centring copies into a new one). */
  setWindow(size: number, base: number): void {
    this.wSize = size;
    this.wBase = base;
    this.head = new Int32Array(2 * size).fill(-1);
    this.tail = new Int32Array(2 * size).fill(-1);
    this.agg = new Float64Array(2 * size);
    this.bits = new Int32Array((2 * size) >> 5);
  }

  /** Tick-relative index of a price; NaN when off tick (range is checked by the caller). */
  priceToRel(price: number): number {
    const t = this.tick1;
    if (t === 1) return price - this.loTick;
    if (t !== 0) {
      if (price % t !== 0) return NaN;
      return price / t - this.loTick;
    }
    const from = this.slabFrom;
    let i = from.length - 1;
    while (i > 0 && from[i]! > price) i--;
    const off = price - from[i]!;
    const tick = this.slabTick[i]!;
    if (off % tick !== 0) return NaN;
    return this.slabBase[i]! + off / tick - this.loTick;
  }

  relToPrice(rel: number): number {
    const t = this.tick1;
    if (t !== 0) return (rel + this.loTick) * t;
    const tick = rel + this.loTick;
    const bases = this.slabBase;
    let i = bases.length - 1;
    while (i > 0 && bases[i]! > tick) i--;
    return this.slabFrom[i]! + (tick - bases[i]!) * this.slabTick[i]!;
  }

  /** Highest non-empty rel <= `rel` on `side`, or -1. */
  scanDown(side: number, rel: number): number {
    if (this.levels[side] === 0) return -1;
    let cell = rel - this.wBase;
    if (cell < 0) return -1;
    if (cell >= this.wSize) cell = this.wSize - 1;
    const bits = this.bits;
    const base = side * (this.wSize >> 5);
    let w = cell >> 5;
    let m = bits[base + w]! & (-1 >>> (31 - (cell & 31)));
    while (m === 0) {
      if (--w < 0) return -1;
      m = bits[base + w]!;
    }
    return this.wBase + (w << 5) + 31 - Math.clz32(m);
  }

  /** Lowest non-empty rel >= `rel` on `side`, or -1. */
  scanUp(side: number, rel: number): number {
    if (this.levels[side] === 0) return -1;
    let cell = rel - this.wBase;
    if (cell >= this.wSize) return -1;
    if (cell < 0) cell = 0;
    const bits = this.bits;
    const words = this.wSize >> 5;
    const base = side * words;
    let w = cell >> 5;
    let m = bits[base + w]! & (-1 << (cell & 31));
    while (m === 0) {
      if (++w >= words) return -1;
      m = bits[base + w]!;
    }
    return this.wBase + (w << 5) + 31 - Math.clz32(m & -m);
  }

  /** The next level in priority after `rel` on `side` (bids: lower, asks: higher), or -1. */
  nextLevel(side: number, rel: number): number {
    return side === 0 ? this.scanDown(0, rel - 1) : this.scanUp(1, rel + 1);
  }

  /** Makes room for `rel`: doubles the window while the occupied range needs it, and re-centres. */
  recentre(rel: number): void {
    let lo = rel;
    let hi = rel;
    for (let side = 0; side < 2; side++) {
      if (this.levels[side] === 0) continue;
      const l = this.scanUp(side, this.wBase);
      const h = this.scanDown(side, this.wBase + this.wSize - 1);
      if (l < lo) lo = l;
      if (h > hi) hi = h;
    }
    const need = hi - lo + 1;
    let size = this.wSize;
    while (size < need * 2 && size < this.maxWindow) size *= 2;
    let base = Math.floor((lo + hi) / 2) - (size >> 1);
    if (base > lo) base = lo;
    if (base + size - 1 < hi) base = hi - size + 1;
    const oldBase = this.wBase;
    const oldSize = this.wSize;
    const oldHead = this.head;
    const oldTail = this.tail;
    const oldAgg = this.agg;
    this.setWindow(size, base);
    for (let side = 0; side < 2; side++) {
      for (let c = 0; c < oldSize; c++) {
        const h = oldHead[side * oldSize + c]!;
        if (h === -1) continue;
        const cell = c + oldBase - base;
        const i = side * size + cell;
        this.head[i] = h;
        this.tail[i] = oldTail[side * oldSize + c]!;
        this.agg[i] = oldAgg[side * oldSize + c]!;
        this.bits[i >> 5]! |= 1 << (i & 31);
      }
    }
  }
}
