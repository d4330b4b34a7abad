import { createHash } from "node:crypto";

/**
 * Trade tape collected during a run into preallocated typed arrays (doubling when full), hashed
 * after the timed section: sha256 over "maker,taker,price,qty\n" per trade in execution order.
 */
export class TradeTape {
  count = 0;
  maker: Float64Array;
  taker: Float64Array;
  price: Float64Array;
  qty: Float64Array;

  constructor(capacity: number) {
    this.maker = new Float64Array(capacity);
    this.taker = new Float64Array(capacity);
    this.price = new Float64Array(capacity);
    this.qty = new Float64Array(capacity);
  }

  push(maker: number, taker: number, price: number, qty: number): void {
    const n = this.count;
    if (n === this.maker.length) this.grow();
    this.maker[n] = maker;
    this.taker[n] = taker;
    this.price[n] = price;
    this.qty[n] = qty;
    this.count = n + 1;
  }

  private grow(): void {
    const cap = this.maker.length * 2;
    const g = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.maker = g(this.maker);
    this.taker = g(this.taker);
    this.price = g(this.price);
    this.qty = g(this.qty);
  }

  /** Lowercase hex sha256 of the tape in the shared fingerprint format. */
  fingerprint(): string {
    const h = createHash("sha256");
    const chunk: string[] = [];
    for (let i = 0; i < this.count; i++) {
      chunk.push(`${this.maker[i]},${this.taker[i]},${this.price[i]},${this.qty[i]}\n`);
      if (chunk.length === 65_536) {
        h.update(chunk.join(""));
        chunk.length = 0;
      }
    }
    h.update(chunk.join(""));
    return h.digest("hex");
  }
}
