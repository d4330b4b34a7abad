import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import {
  BarInterval,
  Command,
  InstrumentState,
  MarketDataChannel,
  type SubscribeResponse,
} from "@tradeplane/contracts";
import { prng } from "@tradeplane/testkit";
import { Partition } from "@tradeplane/matching-core/partition";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { MarketState } from "../../src/domain/market-state.ts";
import { validateSubscribe, type Subscription } from "../../src/domain/requests.ts";
import { Hub } from "../../src/adapters/hub.ts";
import type { Outgoing, Sink } from "../../src/adapters/subscriber.ts";
import { BookMirror } from "@tradeplane/sdk/market-data/book-mirror";
import { richInstrumentSettings, richStream } from "../support/rich-stream.ts";

const SYMBOLS = richInstrumentSettings.map((i) => i.symbol);

/** An in-memory transport: takes `capacity` writes, then pushes back until the test drains it. */
class MemorySink implements Sink {
  readonly received: SubscribeResponse[] = [];
  readonly books = new Map<string, BookMirror>(SYMBOLS.map((s) => [s, new BookMirror()]));
  failed: { code: string; message: string } | undefined;
  private inFlight = 0;
  private resume: (() => void) | undefined;
  private readonly capacity: number;
  constructor(capacity = Infinity) {
    this.capacity = capacity;
  }
  write(out: Outgoing): boolean {
    this.received.push(out.msg);
    this.books.get(out.msg.instrument)!.apply(out.msg);
    return ++this.inFlight < this.capacity;
  }
  onDrain(resume: () => void): void {
    this.resume = resume;
  }
  fail(code: "RESOURCE_EXHAUSTED", message: string): void {
    this.failed = { code, message };
  }
  drain(): void {
    this.inFlight = 0;
    const r = this.resume;
    this.resume = undefined;
    r?.();
  }
}

function setup(maxQueued = 100_000) {
  const settings = richInstrumentSettings;
  const partition = Partition.create({ engine: engineConfigOf({ instruments: settings }) });
  const state = new MarketState(
    settings.map((i) => ({
      symbol: i.symbol,
      referencePrice: i.referencePrice,
      notionalPerTickLot: 1,
      initialState: InstrumentState[i.initialState],
    })),
    { tradesKept: 100, barsKept: 100 },
  );
  const hub = new Hub({ state, historySize: 100_000, maxQueued, fanoutIntervalMs: 0, registry: new Registry() });
  let source = 0;
  const apply = (seq: number, c: Command): void => {
    partition.apply(seq, Command.decode(Command.encode(c).finish()));
    for (const e of partition.wireEvents()) state.apply(++source, e);
  };
  return { state, hub, apply };
}

function sub(channels: MarketDataChannel[], depth = 10): Subscription {
  const v = validateSubscribe(
    {
      instruments: SYMBOLS,
      channels,
      depth,
      conflationIntervalMs: 0,
      barInterval: BarInterval.SECOND_1,
      fromSequence: undefined,
    },
    () => true,
  );
  if ("field" in v) throw new Error(v.message);
  return v;
}

const ALL = [
  MarketDataChannel.L1,
  MarketDataChannel.L2,
  MarketDataChannel.L3,
  MarketDataChannel.TRADES,
  MarketDataChannel.STATS,
  MarketDataChannel.STATE,
  MarketDataChannel.AUCTION,
  MarketDataChannel.BARS,
];

describe("Hub: fan-out with per-subscriber queues", () => {
  it.each([1, 2, 3])(
    "a subscriber whose transport pushes back ends with the same state as one that never does (seed %i)",
    (seed) => {
      const { state, hub, apply } = setup();
      const fast = new MemorySink();
      const slow = new MemorySink(3);
      const shallow = new MemorySink(2);
      hub.subscribe(fast, sub(ALL), "test");
      hub.subscribe(slow, sub(ALL), "test");
      hub.subscribe(shallow, sub([MarketDataChannel.L2], 3), "test");
      const rnd = prng(seed);
      richStream(4_000, seed).forEach((c, i) => {
        apply(i + 1, c);
        if (rnd() < 0.5) hub.flush();
        if (rnd() < 0.2) slow.drain();
        if (rnd() < 0.1) shallow.drain();
      });
      hub.flush();
      for (let i = 0; i < 1_000; i++) {
        slow.drain();
        shallow.drain();
      }
      expect(hub.conflationCount).toBeGreaterThan(0);
      for (const symbol of SYMBOLS) {
        const m = state.instruments.get(symbol)!;
        const f = fast.books.get(symbol)!;
        const s = slow.books.get(symbol)!;
        expect(f.levels()).toEqual({ bids: m.book.levels(1, 10), asks: m.book.levels(2, 10) });
        expect(s.levels()).toEqual(f.levels());
        expect(shallow.books.get(symbol)!.levels()).toEqual({ bids: m.book.levels(1, 3), asks: m.book.levels(2, 3) });
        expect(s.orderBook()).toEqual(m.orderBookSnapshot());
        expect(f.orderBook()).toEqual(m.orderBookSnapshot());
        for (const kind of ["topOfBook", "stats", "status", "auction"])
          expect(s.latest.get(kind)?.update, kind).toEqual(f.latest.get(kind)?.update);
      }
      // The pushed-back subscriber got fewer updates, and its event channels stayed gap-free.
      expect(slow.received.length).toBeLessThan(fast.received.length);
      for (const symbol of SYMBOLS)
        for (const ch of [MarketDataChannel.L3, MarketDataChannel.TRADES, MarketDataChannel.STATE]) {
          const seqs = slow.received.filter((u) => u.instrument === symbol && u.channel === ch).map((u) => u.sequence);
          for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
        }
      // Resume safety: no update reaches the client ahead of an event-channel update of an
      // earlier log position (a client resuming from its largest source would skip it).
      let maxSource = 0;
      for (const u of slow.received.slice(SYMBOLS.length * ALL.length)) {
        if (
          u.channel === MarketDataChannel.L3 ||
          u.channel === MarketDataChannel.TRADES ||
          u.channel === MarketDataChannel.STATE
        )
          expect(u.sourceSequence).toBeGreaterThanOrEqual(maxSource);
        maxSource = Math.max(maxSource, u.sourceSequence);
      }
    },
  );

  it("ends a subscriber that never reads with RESOURCE_EXHAUSTED; the others keep getting everything", () => {
    const { hub, apply, state } = setup(50);
    const stuck = new MemorySink(1);
    const fine = new MemorySink();
    hub.subscribe(stuck, sub([MarketDataChannel.L3, MarketDataChannel.TRADES]), "test");
    hub.subscribe(fine, sub([MarketDataChannel.L3, MarketDataChannel.TRADES]), "test");
    richStream(500, 9).forEach((c, i) => {
      apply(i + 1, c);
      hub.flush();
    });
    expect(stuck.failed?.code).toBe("RESOURCE_EXHAUSTED");
    expect(stuck.failed?.message).toContain("from_sequence");
    expect(hub.slowDisconnects).toBe(1);
    expect(hub.subscriberCount).toBe(1);
    for (const symbol of SYMBOLS)
      expect(fine.books.get(symbol)!.orderBook()).toEqual(state.instruments.get(symbol)!.orderBookSnapshot());
  });

  it("resumes from history: updates after from_sequence, no snapshot; a fresh subscription gets a snapshot", () => {
    const { hub, apply } = setup();
    const first = new MemorySink();
    hub.subscribe(first, sub([MarketDataChannel.L3, MarketDataChannel.TRADES]), "test");
    const cmds = richStream(600, 4);
    cmds.slice(0, 300).forEach((c, i) => apply(i + 1, c));
    hub.flush();
    const cut = first.received[Math.floor(first.received.length / 2)]!;
    cmds.slice(300).forEach((c, i) => apply(301 + i, c));
    hub.flush();
    const resumed = new MemorySink();
    hub.subscribe(
      resumed,
      { ...sub([MarketDataChannel.L3, MarketDataChannel.TRADES]), fromSequence: cut.sourceSequence },
      "test",
    );
    expect(resumed.received.some((u) => u.update?.$case === "orderBookSnapshot")).toBe(false);
    expect(resumed.received).toEqual(first.received.filter((u) => u.sourceSequence > cut.sourceSequence));
  });
});
