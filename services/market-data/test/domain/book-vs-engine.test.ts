import { describe, expect, it } from "vitest";
import { Command, InstrumentState, Side, type EngineEvent } from "@tradeplane/contracts";
import { commandStream, testInstrumentSettings } from "@tradeplane/testkit";
import { Partition } from "@tradeplane/matching-core/partition";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { MarketState } from "../../src/domain/market-state.ts";
import { richInstrumentSettings, richStream } from "../support/rich-stream.ts";

type Settings = typeof testInstrumentSettings | typeof richInstrumentSettings;

function setup(settings: Settings) {
  const partition = Partition.create({ engine: engineConfigOf({ instruments: settings }) });
  const market = new MarketState(
    settings.map((i) => ({
      symbol: i.symbol,
      referencePrice: i.referencePrice,
      notionalPerTickLot: 1,
      initialState: InstrumentState[i.initialState],
    })),
    { tradesKept: 1_000, barsKept: 100 },
  );
  return { partition, market };
}

/** The engine's visible book of an instrument: every resting order in priority order, and the levels. */
function engineBook(partition: Partition, index: number) {
  const orders = partition.engine.orders(index).filter((o) => !o.parked);
  const view = partition.engine.book(index, 100_000);
  const levels = (ls: typeof view.bids) => ls.map((l) => ({ price: l.price, qty: l.qty, orderCount: l.orders }));
  return {
    bids: orders.filter((o) => o.side === Side.BUY).map((o) => ({ orderId: o.orderId, price: o.price, qty: o.shown })),
    asks: orders.filter((o) => o.side === Side.SELL).map((o) => ({ orderId: o.orderId, price: o.price, qty: o.shown })),
    levels: { bids: levels(view.bids), asks: levels(view.asks) },
  };
}

function compare(partition: Partition, market: MarketState, settings: Settings, at: number): void {
  settings.forEach((s, index) => {
    const engine = engineBook(partition, index);
    const m = market.instruments.get(s.symbol)!;
    const l3 = m.orderBookSnapshot();
    const l2 = m.bookSnapshot(100_000);
    expect({ at, symbol: s.symbol, bids: l3.bids, asks: l3.asks }).toEqual({
      at,
      symbol: s.symbol,
      bids: engine.bids,
      asks: engine.asks,
    });
    expect({ at, bids: l2.bids, asks: l2.asks }).toEqual({ at, ...engine.levels });
  });
}

function run(commands: readonly Command[], settings: Settings, checkEvery: number) {
  const { partition, market } = setup(settings);
  let source = 0;
  const kinds = new Map<string, number>();
  let auctions = 0;
  commands.forEach((command, i) => {
    const body = command.body;
    // Leaving pre-open uncrosses at the price the indicative auction announced.
    const opening =
      body?.$case === "setInstrumentState" &&
      body.value.state === InstrumentState.CONTINUOUS &&
      market.instruments.get(body.value.instrument)?.state === InstrumentState.PRE_OPEN
        ? market.instruments.get(body.value.instrument)!.auctionInfo()
        : undefined;
    partition.apply(i + 1, Command.decode(Command.encode(command).finish()));
    const events = partition.wireEvents() as EngineEvent[];
    for (const event of events) {
      kinds.set(event.body!.$case, (kinds.get(event.body!.$case) ?? 0) + 1);
      market.apply(++source, event);
    }
    if (opening !== undefined) {
      const firstTrigger = events.findIndex((e) => e.body?.$case === "triggered");
      const uncross = events
        .slice(0, firstTrigger < 0 ? events.length : firstTrigger)
        .flatMap((e) => (e.body?.$case === "trade" ? [e.body.value] : []));
      expect(uncross.reduce((sum, t) => sum + t.qty, 0)).toBe(opening.matchedQty);
      for (const t of uncross) expect(t.price).toBe(opening.indicativePrice);
      if (uncross.length > 0) auctions++;
    }
    if ((i + 1) % checkEvery === 0) compare(partition, market, settings, i + 1);
  });
  compare(partition, market, settings, commands.length);
  return { partition, market, kinds, auctions };
}

describe("the book built from events equals the engine's own book", () => {
  it.each([
    { name: "the testkit command stream (limits, markets, cancels, replaces)", seed: 1, count: 20_000 },
    { name: "another seed of the testkit stream", seed: 42, count: 20_000 },
  ])("$name, seed $seed, $count commands", ({ seed, count }) => {
    const { market } = run(commandStream(count, seed), testInstrumentSettings, 97);
    expect(market.mismatches).toBe(0);
  });

  it.each([1, 2, 3, 4, 5])(
    "a rich stream (icebergs, stops, STP, auctions, halts, closes, GTD expiry), seed %i, 12,000 commands",
    (seed) => {
      const { market, kinds, auctions } = run(richStream(12_000, seed), richInstrumentSettings, 3);
      expect(market.mismatches).toBe(0);
      expect(auctions).toBeGreaterThan(0);
      // The stream reached the cases it is there for.
      for (const k of ["trade", "triggered", "expired", "replaced", "instrumentStateChanged", "cancelled"])
        expect(kinds.get(k) ?? 0, k).toBeGreaterThan(0);
    },
  );

  it("a stream with fences, stale owners and kill-switch blocks (ADR 0003) among its commands", () => {
    const commands: Command[] = [];
    const accounts = ["acct-1", "acct-2", "acct-3"];
    commandStream(8_000, 7).forEach((c, i) => {
      const a = accounts[i % 3]!;
      const control = (body: Command["body"]): Command => ({ ...c, account: a, ownerEpoch: 1 + (i % 4), body });
      if (i % 101 === 0) commands.push(control({ $case: "fenceAccount", value: { epoch: 1 + (i % 4) } }));
      if (i % 149 === 0)
        commands.push(
          control({ $case: "blockAccount", value: { blocked: i % 2 === 0, allAccounts: i % 3 === 0, reason: "t" } }),
        );
      commands.push({ ...c, ownerEpoch: i % 5 });
    });
    const { market, kinds } = run(commands, testInstrumentSettings, 97);
    expect(market.mismatches).toBe(0);
    for (const k of ["accountFenced", "accountBlockChanged", "rejected", "trade"])
      expect(kinds.get(k) ?? 0, k).toBeGreaterThan(0);
  });
});
