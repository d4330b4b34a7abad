import { InstrumentState, TimeInForce } from "./constants.ts";
import type { EngineState } from "./engine-state.ts";
import { ORDER_RECORD } from "./order-record.ts";

const { BUY, SELL, ST_FREE, ST_RESTING, ST_STOP, F_PRICE, F_PRIO, I_LEAVES, I_SHOWN, I_QTY, I_REL } = ORDER_RECORD;
const { I_PREV, I_NEXT, H_INST, B_SIDE, B_STATUS, B_TIF } = ORDER_RECORD;

/**
 * Checks the internal structures against each other (links, aggregates, bitmaps, best prices,
 * id index, counters) and the book-level invariants. Returns the problems found; [] when sound.
 * O(state): for tests and diagnostics.
 */
export function checkEngineState(e: EngineState): string[] {
  const problems: string[] = [];
  const oi = e.oi;
  const ob = e.ob;
  const of = e.of;
  const id = (s: number) => of[s << 3];
  let live = 0;
  let gtd = 0;
  const seen = new Set<number>();
  for (const b of e.books) {
    let resting = 0;
    for (let side = 0; side < 2; side++) {
      let levels = 0;
      let best = -1;
      for (let cell = 0; cell < b.wSize; cell++) {
        const li = side * b.wSize + cell;
        const bit = (b.bits[li >> 5]! >>> (li & 31)) & 1;
        const h = b.head[li]!;
        if ((h !== -1) !== (bit === 1)) problems.push(`${b.cfg.symbol}: bitmap disagrees at side ${side} cell ${cell}`);
        if (h === -1) {
          if (b.tail[li] !== -1 || b.agg[li] !== 0) problems.push(`${b.cfg.symbol}: empty level with tail/agg`);
          continue;
        }
        levels++;
        const rel = b.wBase + cell;
        if (side === BUY ? rel > best : best === -1) best = rel;
        let agg = 0;
        let prev = -1;
        let lastPrio = -Infinity;
        for (let s = h; s !== -1; s = oi[(s << 4) + I_NEXT]!) {
          const s4 = s << 4;
          if (oi[s4 + I_PREV] !== prev) problems.push(`order ${id(s)}: broken prev link`);
          if (ob[(s << 6) + B_STATUS] !== ST_RESTING) problems.push(`order ${id(s)}: in a level but not resting`);
          if (oi[s4 + I_REL] !== rel || ob[(s << 6) + B_SIDE] !== side || e.oh[(s << 5) + H_INST] !== b.index)
            problems.push(`order ${id(s)}: in the wrong level`);
          if (b.relToPrice(rel) !== of[(s << 3) + F_PRICE]) problems.push(`order ${id(s)}: price and level differ`);
          const prio = of[(s << 3) + F_PRIO]!;
          if (prio <= lastPrio) problems.push(`order ${id(s)}: FIFO order broken`);
          lastPrio = prio;
          const leaves = oi[s4 + I_LEAVES]!;
          const shown = oi[s4 + I_SHOWN]!;
          const d = e.displayOf(s);
          if (!(leaves > 0 && shown > 0 && shown <= leaves && (d === 0 ? shown === leaves : shown <= d)))
            problems.push(`order ${id(s)}: bad quantities leaves=${leaves} shown=${shown}`);
          if (leaves > oi[s4 + I_QTY]!) problems.push(`order ${id(s)}: leaves exceed qty`);
          if (e.index.get(id(s)!) !== s) problems.push(`order ${id(s)}: not indexed`);
          if (seen.has(s)) problems.push(`slot ${s} linked twice`);
          seen.add(s);
          agg += shown;
          resting++;
          live++;
          if (ob[(s << 6) + B_TIF] === TimeInForce.GTD) gtd++;
          prev = s;
        }
        if (b.tail[li] !== prev) problems.push(`${b.cfg.symbol}: tail mismatch`);
        if (b.agg[li] !== agg) problems.push(`${b.cfg.symbol}: aggregate mismatch at ${b.relToPrice(rel)}`);
      }
      if (levels !== b.levels[side]) problems.push(`${b.cfg.symbol}: level count mismatch`);
      if ((side === BUY ? b.bestBid : b.bestAsk) !== best) problems.push(`${b.cfg.symbol}: best price mismatch`);
    }
    if (resting !== b.resting) problems.push(`${b.cfg.symbol}: resting count mismatch`);
    if (b.state === InstrumentState.CONTINUOUS && b.bestBid >= 0 && b.bestAsk >= 0 && b.bestBid >= b.bestAsk)
      problems.push(`${b.cfg.symbol}: book crossed in continuous trading`);
    let stops = 0;
    for (let side = 0; side < 2; side++) {
      let prev = -1;
      for (let s = b.stopHead[side]!; s !== -1; s = oi[(s << 4) + I_NEXT]!) {
        if (oi[(s << 4) + I_PREV] !== prev) problems.push(`stop ${id(s)}: broken prev link`);
        if (ob[(s << 6) + B_STATUS] !== ST_STOP) problems.push(`stop ${id(s)}: status`);
        if (prev !== -1 && (side === BUY ? e.oStop[s]! < e.oStop[prev]! : e.oStop[s]! > e.oStop[prev]!))
          problems.push(`stop ${id(s)}: out of trigger order`);
        if (e.index.get(id(s)!) !== s) problems.push(`stop ${id(s)}: not indexed`);
        if (seen.has(s)) problems.push(`slot ${s} linked twice`);
        seen.add(s);
        stops++;
        live++;
        if (ob[(s << 6) + B_TIF] === TimeInForce.GTD) gtd++;
        prev = s;
      }
      if (b.stopTail[side] !== prev) problems.push(`${b.cfg.symbol}: stop tail mismatch`);
    }
    if (stops !== b.stopCount) problems.push(`${b.cfg.symbol}: stop count mismatch`);
    if (b.state === InstrumentState.CONTINUOUS) {
      const hb = b.stopHead[BUY]!;
      const hs = b.stopHead[SELL]!;
      if ((hb !== -1 && e.oStop[hb]! <= b.lastPrice) || (hs !== -1 && e.oStop[hs]! >= b.lastPrice))
        problems.push(`${b.cfg.symbol}: a parked stop is already triggered`);
    }
  }
  if (live !== e.index.size) problems.push(`index holds ${e.index.size} ids, ${live} live orders`);
  if (gtd !== e.gtdLive) problems.push(`gtd count ${e.gtdLive}, found ${gtd}`);
  let free = 0;
  for (let s = e.freeHead; s !== -1 && free <= e.capacity; s = oi[(s << 4) + I_NEXT]!) {
    if (ob[(s << 6) + B_STATUS] !== ST_FREE) problems.push(`slot ${s} on the free list but in use`);
    free++;
  }
  if (free + live !== e.capacity) problems.push(`slots leak: ${free} free + ${live} live != ${e.capacity}`);
  return problems;
}
