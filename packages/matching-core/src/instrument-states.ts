import { Book } from "./book.ts";
import { uncross } from "./call-auction.ts";
import type { NormalizedConfig } from "./config.ts";
import { CancelReason, EventKind, InstrumentState, RejectReason } from "./constants.ts";
import type { MatchingEngine } from "./engine.ts";
import type { EngineState } from "./engine-state.ts";
import { FILTER_ALL, FILTER_DAY, removeWhere } from "./order-removal.ts";
import { triggerPass } from "./stop-triggers.ts";

// An instrument's states (PRE_OPEN, CONTINUOUS, HALTED, CLOSED): the setState command, the
// move to a new reference price, and what entering each state does to the book.

/**
 * Moves one instrument (or all, -1) to `state`. Entering CONTINUOUS uncrosses a crossed book
 * with the call-auction algorithm; entering CLOSED expires DAY orders; entering HALTED cancels
 * the book when the instrument has cancelOnHalt. With -1, instruments already in the state are
 * skipped and a forbidden transition gives a REJECTED event for that instrument.
 */
export function setInstrumentState(
  e: MatchingEngine,
  seq: number,
  timeNs: number,
  instrument: number,
  state: number,
  referencePrice: number,
): number {
  e.begin(seq);
  const inst = instrument >>> 0 === instrument && instrument < e.books.length ? instrument : -1;
  if (!(seq > e.lastSeq) || !Number.isSafeInteger(seq)) return e.reject(RejectReason.INVALID_SEQUENCE, 0, inst);
  e.lastSeq = seq;
  if (!Number.isInteger(timeNs) || timeNs < 0) return e.reject(RejectReason.INVALID_TIME, 0, inst);
  if (instrument !== -1 && inst === -1) return e.reject(RejectReason.UNKNOWN_INSTRUMENT, 0, -1);
  if (state >>> 0 !== state || state < InstrumentState.PRE_OPEN || state > InstrumentState.CLOSED)
    return e.reject(RejectReason.INVALID_COMMAND, 0, inst);
  // A new reference is for one instrument at a time.
  if (referencePrice !== 0 && inst === -1) return e.reject(RejectReason.INVALID_COMMAND, 0, inst);
  if (inst !== -1) {
    const b = e.books[inst]!;
    if (!transitionAllowed(b.state, state)) return e.reject(RejectReason.INVALID_STATE_TRANSITION, 0, inst);
    if (referencePrice !== 0) {
      const refused = rebase(e, b, referencePrice);
      if (refused !== 0) return e.reject(refused, 0, inst);
    }
    transition(e, e.books[inst]!, state);
    return 0;
  }
  let result = 0;
  for (const b of e.books) {
    if (b.state === state) continue;
    if (!transitionAllowed(b.state, state)) {
      e.reject(RejectReason.INVALID_STATE_TRANSITION, 0, b.index);
      if (result === 0) result = RejectReason.INVALID_STATE_TRANSITION;
      continue;
    }
    transition(e, b, state);
  }
  return result;
}

/**
 * Moves an instrument's price band (and auction tie-break) to a new reference price, which
 * also becomes its last price until it trades. The book is addressed relative to its band,
 * so this is allowed only while the book holds no live order (at a session change, after
 * DAY orders expired and GTC ones were cancelled): the reason it is refused, or 0.
 */
function rebase(e: EngineState, b: Book, referencePrice: number): number {
  if (!Number.isSafeInteger(referencePrice) || referencePrice <= 0) return RejectReason.INVALID_PRICE;
  if (b.resting !== 0 || b.stopCount !== 0) return RejectReason.INVALID_STATE_TRANSITION;
  const cfg = { ...b.cfg, referencePrice };
  const fresh = new Book(b.index, cfg);
  const rel = fresh.priceToRel(referencePrice);
  if (rel !== rel) return RejectReason.OFF_TICK;
  fresh.state = b.state;
  fresh.lastPrice = referencePrice;
  e.books[b.index] = fresh;
  // The config is what snapshots carry: a restored engine has the new reference too.
  (e.config.instruments as NormalizedConfig["instruments"][number][])[b.index] = cfg;
  return 0;
}

/** Moves `b` to `state` (allowed, checked) and does what entering it does. */
function transition(e: MatchingEngine, b: Book, state: number): void {
  b.state = state;
  e.emitState(b.index, state);
  if (state === InstrumentState.CONTINUOUS) {
    uncross(e, b);
    if (b.stopCount !== 0) triggerPass(e, b);
  } else if (state === InstrumentState.CLOSED) {
    removeWhere(e, b, 0, FILTER_DAY, 0, EventKind.EXPIRED, CancelReason.EXPIRY);
  } else if (state === InstrumentState.HALTED && b.cfg.cancelOnHalt) {
    removeWhere(e, b, 0, FILTER_ALL, 0, EventKind.CANCELLED, CancelReason.HALT);
  }
}

/** Allowed state changes; the same state and CLOSED -> HALTED are not. */
function transitionAllowed(from: number, to: number): boolean {
  if (from === to) return false;
  return !(from === InstrumentState.CLOSED && to === InstrumentState.HALTED);
}
