/**
 * The reference model's price arithmetic over tick slabs, written out independently of the
 * engine's (config.ts): a walk over the slabs for every price, nothing precomputed.
 */
import type { TickSlab } from "../src/index.ts";

function slabOf(slabs: TickSlab[], price: number): TickSlab {
  let found = slabs[0]!;
  for (const s of slabs) if (s.fromPrice <= price) found = s;
  return found;
}

export function onTick(slabs: TickSlab[], price: number): boolean {
  const s = slabOf(slabs, price);
  return (price - s.fromPrice) % s.tickSize === 0;
}

/** Number of ticks from 0 to `price` (an on-tick price). */
export function tickIndex(slabs: TickSlab[], price: number): number {
  let ticks = 0;
  for (let i = 0; i < slabs.length; i++) {
    const from = slabs[i]!.fromPrice;
    const to = i + 1 < slabs.length ? slabs[i + 1]!.fromPrice : Infinity;
    if (price <= from) break;
    ticks += (Math.min(price, to) - from) / slabs[i]!.tickSize;
  }
  return ticks;
}

export function priceOfTick(slabs: TickSlab[], tick: number): number {
  let price = 0;
  let left = tick;
  for (let i = 0; i < slabs.length && left > 0; i++) {
    const to = i + 1 < slabs.length ? slabs[i + 1]!.fromPrice : Infinity;
    const room = (to - slabs[i]!.fromPrice) / slabs[i]!.tickSize;
    const step = Math.min(room, left);
    price = slabs[i]!.fromPrice + step * slabs[i]!.tickSize;
    left -= step;
  }
  return price;
}
