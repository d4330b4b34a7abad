import type { EngineEvent, SubscribeResponse } from "@tradeplane/contracts";
import {
  InstrumentMarket,
  type InstrumentMarketData,
  type InstrumentSpec,
  type Retention,
} from "./instrument-market.ts";

/** Where a partition's events are: its last event's (command sequence, index); platform's EventMark. */
export interface PartitionMark {
  readonly cmdSeq: number;
  readonly index: number;
}

/** Everything a MarketState holds, as plain data (see InstrumentMarketData). */
export interface MarketStateData {
  readonly position: number;
  readonly timeS: number;
  readonly nextBarEnd: number;
  readonly unrouted: number;
  /** Per engine partition, its last event applied: [partition, commandSeq, index]. */
  readonly marks: readonly (readonly [partition: number, commandSeq: number, index: number])[];
  /** The instrument run in progress (a snapshot may be taken in the middle of a command). */
  readonly current: { readonly symbol: string; readonly commandSeq: number } | undefined;
  /** Per instrument, in the order of the config it was built with: its spec then and its state. */
  readonly instruments: readonly { readonly spec: InstrumentSpec; readonly market: InstrumentMarketData }[];
}

/** A MarketState restored from data, and how the running config's instruments differ from the snapshot's. */
export interface RestoredMarketState {
  readonly state: MarketState;
  /** Listed now, not in the snapshot: they start empty, as on a fresh log. */
  readonly added: readonly string[];
  /** In the snapshot, not listed now: dropped. */
  readonly dropped: readonly string[];
  /** In both with another spec: restored, and from now on built with the spec of the config. */
  readonly changed: readonly string[];
}

/**
 * The venue's market data: one InstrumentMarket per listed instrument, fed the venue's
 * event log in each partition's command order (the reader's EventStreamOrder restores it
 * where the stream stored a partition's messages out of order). Deterministic: the same events give the same state and the same
 * sequence numbers on every replica.
 *
 * Event grouping: the events of one command for one instrument are contiguous in the log
 * (a partition is single-threaded, and a command touching several instruments handles
 * them one after the other). The instrument's run ends when an event of another command
 * or another instrument arrives, or with the command's `last_in_command` event; then the
 * instrument publishes what the command changed.
 */
export class MarketState {
  readonly instruments = new Map<string, InstrumentMarket>();
  /** Event-log position of the last event applied (0 = none). */
  position = 0;
  /**
   * Per engine partition, its last event applied: where the reader's EventStreamOrder starts
   * each partition after a snapshot, and below which an event of that partition is dropped
   * (stored twice).
   */
  readonly marks = new Map<number, PartitionMark>();
  /** Largest engine time seen, in seconds. */
  timeS = 0;
  private current: { market: InstrumentMarket; commandSeq: number } | undefined;
  private nextBarEnd = Infinity;
  /** Events that did not decode or named no listed instrument (rejections of unknown symbols are normal). */
  unrouted = 0;

  constructor(specs: readonly InstrumentSpec[], retention: Retention) {
    for (const spec of specs) this.instruments.set(spec.symbol, new InstrumentMarket(spec, retention));
  }

  /**
   * Applies the event at log position `source`, of engine partition `partition` (the event
   * subject's partition token; undefined for an event of no known partition, applied as it
   * comes). An event at or before the partition's mark is dropped: it was applied already.
   */
  apply(source: number, event: EngineEvent, partition?: number): void {
    if (partition !== undefined) {
      const mark = this.marks.get(partition);
      if (
        mark !== undefined &&
        (event.commandSeq < mark.cmdSeq || (event.commandSeq === mark.cmdSeq && event.index <= mark.index))
      )
        return;
      this.marks.set(partition, { cmdSeq: event.commandSeq, index: event.index });
    }
    this.position = source;
    const seconds = event.timestamp?.seconds ?? 0;
    if (seconds > this.timeS) {
      this.timeS = seconds;
      if (seconds >= this.nextBarEnd) this.closeBars();
    }
    const market = this.instruments.get(event.instrument);
    const cur = this.current;
    if (cur !== undefined && (cur.market !== market || cur.commandSeq !== event.commandSeq)) this.finishCurrent();
    if (market !== undefined) {
      this.current ??= { market, commandSeq: event.commandSeq };
      market.apply(event, source);
      if (event.body?.$case === "trade") this.nextBarEnd = Math.min(this.nextBarEnd, market.nextBarEnd());
    } else this.unrouted++;
    if (event.lastInCommand) this.finishCurrent();
  }

  /** Ends the instrument run in progress (also for a log that stops mid-command). */
  finishCurrent(): void {
    const cur = this.current;
    this.current = undefined;
    cur?.market.finish();
  }

  private closeBars(): void {
    let next = Infinity;
    for (const m of this.instruments.values()) {
      m.advanceTime(this.timeS);
      next = Math.min(next, m.nextBarEnd());
    }
    this.nextBarEnd = next;
  }

  /** Takes the event-channel updates (L3, TRADES, STATE) of every instrument, in log order. */
  takeOutbox(): SubscribeResponse[] {
    const out: SubscribeResponse[] = [];
    for (const m of this.instruments.values()) {
      if (m.outbox.length === 0) continue;
      for (const u of m.outbox) out.push(u);
      m.outbox.length = 0;
    }
    if (out.length > 1) out.sort((a, b) => a.sourceSequence - b.sourceSequence);
    return out;
  }

  /** Everything this state holds, as plain data. */
  exportState(): MarketStateData {
    const cur = this.current;
    return {
      position: this.position,
      timeS: this.timeS,
      nextBarEnd: this.nextBarEnd,
      unrouted: this.unrouted,
      marks: Array.from(this.marks, ([partition, m]) => [partition, m.cmdSeq, m.index] as const),
      current: cur && { symbol: cur.market.symbol, commandSeq: cur.commandSeq },
      instruments: [...this.instruments.values()].map((m) => ({ spec: { ...m.spec }, market: m.exportState() })),
    };
  }

  /**
   * The state `data` describes, built with the running config's instruments and retention.
   * An instrument listed now and not in `data` starts empty; one in `data` and not listed
   * now is dropped. With the same instruments, every later output equals that of the state
   * the data was taken of.
   */
  static restore(specs: readonly InstrumentSpec[], retention: Retention, data: MarketStateData): RestoredMarketState {
    const state = new MarketState(specs, retention);
    const taken = new Map(data.instruments.map((i) => [i.spec.symbol, i]));
    const changed: string[] = [];
    for (const spec of specs) {
      const was = taken.get(spec.symbol);
      if (was === undefined) continue;
      state.instruments.set(spec.symbol, InstrumentMarket.restore(spec, retention, was.market));
      if (
        was.spec.referencePrice !== spec.referencePrice ||
        was.spec.notionalPerTickLot !== spec.notionalPerTickLot ||
        was.spec.initialState !== spec.initialState
      )
        changed.push(spec.symbol);
    }
    state.position = data.position;
    state.timeS = data.timeS;
    state.nextBarEnd = data.nextBarEnd;
    state.unrouted = data.unrouted;
    for (const [partition, cmdSeq, index] of data.marks) state.marks.set(partition, { cmdSeq, index });
    const cur = data.current;
    const market = cur && state.instruments.get(cur.symbol);
    if (cur !== undefined && market !== undefined && taken.has(cur.symbol))
      state.current = { market, commandSeq: cur.commandSeq };
    return {
      state,
      added: specs.filter((s) => !taken.has(s.symbol)).map((s) => s.symbol),
      dropped: [...taken.keys()].filter((symbol) => !state.instruments.has(symbol)),
      changed,
    };
  }

  /** Book levels whose engine BookDelta disagreed with the book built from order events. */
  get mismatches(): number {
    let n = 0;
    for (const m of this.instruments.values()) n += m.mismatches;
    return n;
  }
}
