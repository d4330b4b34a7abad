import { describe, expect, it } from "vitest";
import {
  BarInterval,
  Command,
  InstrumentState,
  MarketDataChannel,
  type EngineEvent,
  type SubscribeResponse,
} from "@tradeplane/contracts";
import { commandStream, prng, testInstrumentSettings } from "@tradeplane/testkit";
import { Partition } from "@tradeplane/matching-core/partition";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { BAR_INTERVALS } from "../../src/domain/bars.ts";
import { UpdateHistory } from "../../src/domain/history.ts";
import type { InstrumentSpec, Retention } from "../../src/domain/instrument-market.ts";
import { MarketState } from "../../src/domain/market-state.ts";
import { crc32 } from "../../src/domain/snapshot-bytes.ts";
import {
  decodeStateSnapshot,
  encodeStateSnapshot,
  encodeStateSnapshotSteps,
  STATE_SNAPSHOT_VERSION,
  StateSnapshotError,
  type RestoreSettings,
} from "../../src/domain/state-snapshot.ts";
import { richInstrumentSettings, richStream } from "../support/rich-stream.ts";

type Settings = typeof testInstrumentSettings | typeof richInstrumentSettings;

const STREAM_CREATED = "2026-01-01T00:00:00.000000000Z";
/** Small, so that trimming trades and bars and dropping history entries all happen. */
const RETENTION: Retention = { tradesKept: 40, barsKept: 4 };
const HISTORY = 600;

const specsOf = (settings: Settings): InstrumentSpec[] =>
  settings.map((i) => ({
    symbol: i.symbol,
    referencePrice: i.referencePrice,
    notionalPerTickLot: 3,
    initialState: InstrumentState[i.initialState],
  }));

const restoreSettings = (settings: Settings): RestoreSettings => ({
  specs: specsOf(settings),
  retention: RETENTION,
  historyCapacity: HISTORY,
});

/** The engine's events for `commands`, from its pure partition: the log a replica reads. */
function eventsOf(commands: readonly Command[], settings: Settings): EngineEvent[] {
  const partition = Partition.create({ engine: engineConfigOf({ instruments: settings }) });
  const events: EngineEvent[] = [];
  commands.forEach((c, i) => {
    partition.apply(i + 1, Command.decode(Command.encode(c).finish()));
    events.push(...partition.wireEvents());
  });
  return events;
}

/**
 * A replica without I/O: the market state and the history the hub keeps. The fan-out takes
 * the outbox every few events (not at command ends), so snapshots also hold untaken updates.
 */
class Replica {
  readonly outputs: SubscribeResponse[][] = [];
  readonly state: MarketState;
  readonly history: UpdateHistory;

  constructor(state: MarketState, history: UpdateHistory) {
    this.state = state;
    this.history = history;
  }

  static fresh(settings: Settings): Replica {
    return new Replica(new MarketState(specsOf(settings), RETENTION), new UpdateHistory(HISTORY));
  }

  static of(bytes: Uint8Array, settings: Settings): Replica {
    const d = decodeStateSnapshot(bytes, restoreSettings(settings));
    return new Replica(d.state, d.history);
  }

  apply(source: number, event: EngineEvent): void {
    this.state.apply(source, event);
    if (source % 5 === 2) this.flush();
  }

  flush(): void {
    const out = this.state.takeOutbox();
    for (const u of out) this.history.push(u);
    this.outputs.push(out);
  }

  encode(): Uint8Array {
    return encodeStateSnapshot(this.state, this.history, STREAM_CREATED);
  }

  /** Everything a client can get: GetSnapshot, GetTrades, GetBars, the sequences, resumes. */
  views() {
    return {
      position: this.state.position,
      instruments: [...this.state.instruments.values()].map((m) => ({
        symbol: m.symbol,
        l3: m.orderBookSnapshot(),
        l2: m.bookSnapshot(1_000_000),
        l1: m.topOfBook(),
        stats: m.statsMessage(),
        status: m.statusMessage(),
        auction: m.auctionInfo(),
        seq: Object.fromEntries(m.seq),
        barSeq: Object.fromEntries(m.barSeq),
        trades: m.tradesFrom(0, 1_000_000),
        bars: BAR_INTERVALS.map(({ interval }) => m.bars.get(interval)!.range(0, Infinity, 1_000_000)),
        liveOrders: m.liveOrders,
        mismatches: m.mismatches,
      })),
      history: this.history.since(0, () => true),
    };
  }
}

describe("market-data state snapshots", () => {
  it("writes a snapshot in steps as of when it began, while events go on between steps", () => {
    const events = eventsOf(richStream(3_000, 4), richInstrumentSettings);
    const replica = Replica.fresh(richInstrumentSettings);
    events.slice(0, 2_000).forEach((e, i) => replica.apply(i + 1, e));
    const atOnce = replica.encode();
    const steps = encodeStateSnapshotSteps(replica.state, replica.history, STREAM_CREATED, 16);
    let next = 2_000;
    let taken = 0;
    let r = steps.next();
    while (r.done !== true) {
      taken++;
      for (let k = 0; k < 5 && next < events.length; k++, next++) replica.apply(next + 1, events[next]!);
      r = steps.next();
    }
    expect(taken).toBeGreaterThan(5);
    expect(next).toBeGreaterThan(2_000);
    expect(Buffer.from(r.value).equals(Buffer.from(atOnce))).toBe(true);
  });

  it.each([
    { name: "the testkit command stream", settings: testInstrumentSettings, commands: commandStream(2_500, 3) },
    {
      name: "a rich stream (icebergs, stops, auctions, halts)",
      settings: richInstrumentSettings,
      commands: richStream(2_500, 2),
    },
    { name: "another rich stream", settings: richInstrumentSettings, commands: richStream(2_500, 9) },
  ])(
    "$name: a state restored between any two events then produces the same updates, books, bars and sequences as the one that applied the whole log",
    ({ settings, commands }) => {
      const events = eventsOf(commands, settings);
      expect(events.length).toBeGreaterThan(4_000);
      const rnd = prng(events.length);
      // The start, the end, both sides of command ends, inside auction uncrosses (a state change
      // then trades in one command), and random points (most inside a command).
      const cuts = new Set([0, 1, events.length]);
      for (let i = 1; i < events.length && cuts.size < 8; i++) if (events[i - 1]!.lastInCommand) cuts.add(i);
      let stateChangeAt = -1;
      for (let i = 0, auctions = 0; i < events.length && auctions < 6; i++) {
        const e = events[i]!;
        if (e.body?.$case === "instrumentStateChanged") stateChangeAt = i;
        else if (e.body?.$case === "trade" && stateChangeAt >= 0 && !events[i]!.lastInCommand) {
          cuts.add(i + 1);
          auctions++;
          stateChangeAt = -1;
        }
        if (e.lastInCommand) stateChangeAt = -1;
      }
      while (cuts.size < 36) cuts.add(Math.floor(rnd() * events.length));
      let midCommand = 0;

      const whole = Replica.fresh(settings);
      const restored: { cut: number; outputsBefore: number; replica: Replica }[] = [];
      for (let i = 0; i <= events.length; i++) {
        if (cuts.has(i)) {
          const bytes = whole.encode();
          const replica = Replica.of(bytes, settings);
          // Canonical: the restored state encodes to the same bytes.
          expect(replica.encode(), `at ${i}`).toEqual(bytes);
          expect(replica.views(), `at ${i}`).toEqual(whole.views());
          restored.push({ cut: i, outputsBefore: whole.outputs.length, replica });
          if (i > 0 && !events[i - 1]!.lastInCommand) midCommand++;
        }
        if (i < events.length) whole.apply(i + 1, events[i]!);
      }
      whole.flush();
      expect(midCommand).toBeGreaterThan(5);

      for (const { cut, outputsBefore, replica } of restored) {
        for (let i = cut; i < events.length; i++) replica.apply(i + 1, events[i]!);
        replica.flush();
        expect(replica.outputs, `cut at ${cut}`).toEqual(whole.outputs.slice(outputsBefore));
        expect(replica.views(), `cut at ${cut}`).toEqual(whole.views());
        expect(replica.encode(), `cut at ${cut}`).toEqual(whole.encode());
      }
      // The stream did reach what the snapshot must carry.
      const final = whole.views();
      expect(final.instruments.some((m) => m.l3.bids.length + m.l3.asks.length > 10)).toBe(true);
      expect(final.instruments.every((m) => m.bars[0]!.length > 0)).toBe(true);
      expect(final.history.length).toBe(HISTORY);
    },
  );

  it("restores into the running config: a smaller history keeps its newest updates, and instrument changes are reported", () => {
    const events = eventsOf(richStream(800, 4), richInstrumentSettings);
    const r = Replica.fresh(richInstrumentSettings);
    events.forEach((e, i) => r.apply(i + 1, e));
    r.flush();
    const bytes = r.encode();
    const held = r.history.since(0, () => true);

    const small = decodeStateSnapshot(bytes, { ...restoreSettings(richInstrumentSettings), historyCapacity: 100 });
    expect(small.history.since(0, () => true)).toEqual(held.slice(-100));
    expect(small.history.holds(held.at(-101)!.sourceSequence)).toBe(true);
    expect(small.history.holds(held.at(-102)!.sourceSequence - 1)).toBe(false);
    expect(small.streamSeq).toBe(events.length);
    expect(small.streamCreated).toBe(STREAM_CREATED);
    expect([small.added, small.dropped, small.changed]).toEqual([[], [], []]);

    const [infy, tcs] = specsOf(richInstrumentSettings);
    const other = decodeStateSnapshot(bytes, {
      ...restoreSettings(richInstrumentSettings),
      specs: [
        { ...tcs!, notionalPerTickLot: 7 },
        { ...infy!, symbol: "WIPRO" },
      ],
    });
    expect([other.added, other.dropped, other.changed]).toEqual([["WIPRO"], ["INFY"], ["TCS"]]);
    expect(other.state.instruments.get("WIPRO")!.sequence(MarketDataChannel.L3)).toBe(0);
    expect(other.state.instruments.get("TCS")!.orderBookSnapshot()).toEqual(
      r.state.instruments.get("TCS")!.orderBookSnapshot(),
    );
  });

  it("holds each partition's mark and the position it is given, and a restored state drops what its marks cover", () => {
    const events = eventsOf(richStream(600, 9), richInstrumentSettings);
    const partitionOf = (e: EngineEvent) => (e.instrument === "TCS" ? 1 : 0);
    const whole = Replica.fresh(richInstrumentSettings);
    events.forEach((e, i) => whole.state.apply(i + 1, e, partitionOf(e)));
    const cut = 400;
    const part = Replica.fresh(richInstrumentSettings);
    events.slice(0, cut).forEach((e, i) => part.state.apply(i + 1, e, partitionOf(e)));
    const lastOf = (p: number) => events.slice(0, cut).findLast((e) => partitionOf(e) === p)!;
    expect(part.state.marks).toEqual(
      new Map([0, 1].map((p) => [p, { cmdSeq: lastOf(p).commandSeq, index: lastOf(p).index }])),
    );

    // Taken at an earlier (safe) position: a restart reads events again that the marks drop.
    const safe = cut - 50;
    const decoded = decodeStateSnapshot(
      encodeStateSnapshot(part.state, part.history, STREAM_CREATED, safe),
      restoreSettings(richInstrumentSettings),
    );
    expect(decoded.streamSeq).toBe(safe);
    expect(decoded.state.marks).toEqual(part.state.marks);
    const restored = new Replica(decoded.state, decoded.history);
    events.forEach((e, i) => {
      if (i >= safe) restored.state.apply(i + 1, e, partitionOf(e));
    });
    expect(restored.views().instruments).toEqual(whole.views().instruments);
  });

  describe("refuses what is not an intact snapshot with StateSnapshotError", () => {
    const events = eventsOf(commandStream(600, 8), testInstrumentSettings);
    const r = Replica.fresh(testInstrumentSettings);
    events.forEach((e, i) => r.apply(i + 1, e));
    const good = r.encode();
    const settings = restoreSettings(testInstrumentSettings);
    /** `bytes` with a valid checksum, as a writer with a bug would store them. */
    const resealed = (bytes: Uint8Array): Uint8Array => {
      const out = bytes.slice();
      new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)));
      return out;
    };
    const refusal = (bytes: Uint8Array): string => {
      try {
        decodeStateSnapshot(bytes, settings);
      } catch (err) {
        expect(err).toBeInstanceOf(StateSnapshotError);
        return (err as Error).message;
      }
      return "accepted";
    };

    it.each([
      { name: "no bytes", bytes: new Uint8Array(0), text: "not a market-data state snapshot" },
      { name: "JSON", bytes: new TextEncoder().encode('{"format":"x"}'), text: "not a market-data state snapshot" },
      { name: "the risk gateway's prefix", bytes: new TextEncoder().encode("TPRK\x01...."), text: "not a market-data" },
      {
        name: "another version",
        bytes: (() => {
          const b = good.slice();
          b[4] = STATE_SNAPSHOT_VERSION + 1;
          return b;
        })(),
        text: `snapshot version ${STATE_SNAPSHOT_VERSION + 1}; this build reads version ${STATE_SNAPSHOT_VERSION}`,
      },
      {
        name: "a version 1 snapshot (no partition marks: the state is replayed instead)",
        bytes: (() => {
          const b = good.slice();
          b[4] = 1;
          return b;
        })(),
        text: `snapshot version 1; this build reads version ${STATE_SNAPSHOT_VERSION}`,
      },
      {
        name: "one flipped bit",
        bytes: (() => {
          const b = good.slice();
          b[Math.floor(b.length / 2)]! ^= 0x10;
          return b;
        })(),
        text: "checksum mismatch",
      },
      { name: "a truncated file", bytes: good.subarray(0, good.length - 1000), text: "checksum mismatch" },
      { name: "a truncated body with a valid checksum", bytes: resealed(good.subarray(0, 200)), text: "truncated" },
    ])("$name", ({ bytes, text }) => {
      expect(refusal(bytes)).toContain(text);
    });

    it("bytes after the end, even with a valid checksum", () => {
      const longer = new Uint8Array(good.length + 3);
      longer.set(good.subarray(0, good.length - 4));
      expect(refusal(resealed(longer))).toContain("3 bytes after the end");
    });

    it("1,000 random corruptions with a valid checksum: each is refused or restores, none crashes", () => {
      const rnd = prng(77);
      let refused = 0;
      for (let n = 0; n < 1_000; n++) {
        const b = good.slice();
        const flips = 1 + Math.floor(rnd() * 4);
        for (let k = 0; k < flips; k++) b[5 + Math.floor(rnd() * (b.length - 9))] = Math.floor(rnd() * 256);
        if (refusal(resealed(b)) !== "accepted") refused++;
      }
      expect(refused).toBeGreaterThan(250);
    });
  });

  it("the bar interval and channel keys a snapshot holds are the ones this build serves", () => {
    // A guard for the format: adding a channel or an interval needs a new version.
    expect(BAR_INTERVALS.map((b) => b.interval)).toEqual([
      BarInterval.SECOND_1,
      BarInterval.MINUTE_1,
      BarInterval.MINUTE_5,
      BarInterval.MINUTE_15,
      BarInterval.HOUR_1,
      BarInterval.DAY_1,
    ]);
    expect(Object.values(MarketDataChannel).filter((c) => c > 0)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
