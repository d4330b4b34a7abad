import { describe, expect, it } from "vitest";
import { InstrumentState, Side, type EngineEvent } from "@tradeplane/contracts";
import { Partition } from "@tradeplane/matching/partition";
import { engineConfigOf } from "@tradeplane/matching/engine-config";
import { commandStream, testInstrumentSettings } from "@tradeplane/testkit";
import { OrderProjection, ProjectionSnapshotError } from "../../src/domain/order-projection.ts";
import { unrealisedPnl } from "../../src/domain/positions.ts";

/** Engine events of a deterministic command stream, from the real (pure) matching partition. */
function eventLog(commands: number, seed: number): { events: EngineEvent[]; liveOrders: number } {
  const partition = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
  const events: EngineEvent[] = [];
  commandStream(commands, seed).forEach((command, i) => {
    partition.apply(i + 1, command);
    events.push(...partition.wireEvents());
  });
  return { events, liveOrders: partition.liveOrderCount };
}

const MULT = 3;
const projectionFor = () => new OrderProjection(() => ({ notionalPerTickLot: MULT }));

describe("OrderProjection over the real engine's events", () => {
  const { events, liveOrders } = eventLog(6_000, 21);

  it("keeps exactly the engine's live orders", () => {
    const p = projectionFor();
    for (const e of events) p.apply(e);
    const accounts = new Set(events.flatMap((e) => (e.body?.$case === "accepted" ? [e.body.value.account] : [])));
    const open = [...accounts].flatMap((a) => p.openOrders(a));
    expect(open.length).toBe(liveOrders);
    expect(open.every((o) => o.leavesQty > 0)).toBe(true);
  });

  it("gives positions equal to a recomputation from the raw trade events, and conserves money", () => {
    const p = projectionFor();
    for (const e of events) p.apply(e);
    const net = new Map<string, number>();
    const cash = new Map<string, number>();
    const last = new Map<string, number>();
    for (const e of events) {
      if (e.body?.$case !== "trade") continue;
      const t = e.body.value;
      last.set(e.instrument, t.price);
      const takerBuys = t.aggressorSide === Side.BUY;
      for (const [account, buys] of [
        [t.takerAccount, takerBuys],
        [t.makerAccount, !takerBuys],
      ] as const) {
        const key = `${account}/${e.instrument}`;
        net.set(key, (net.get(key) ?? 0) + (buys ? t.qty : -t.qty));
        cash.set(key, (cash.get(key) ?? 0) + (buys ? -1 : 1) * t.price * t.qty * MULT);
      }
    }
    expect(net.size).toBeGreaterThan(0);
    for (const [key, qty] of net) {
      const [account, instrument] = key.split("/") as [string, string];
      const position = p.positionOf(account, instrument);
      expect(position.netQty).toBe(qty);
      const mark = last.get(instrument)!;
      expect(position.realisedPnl + unrealisedPnl(position, MULT, mark)).toBe(cash.get(key)! + qty * mark * MULT);
    }
  });

  it("numbers each account's reports 1, 2, 3... with no gap, and resumes from any of them", () => {
    const p = projectionFor();
    const seen = new Map<string, number[]>();
    for (const e of events)
      for (const { account, report } of p.apply(e)) seen.set(account, [...(seen.get(account) ?? []), report.sequence]);
    for (const [account, sequences] of seen) {
      expect(sequences).toEqual(sequences.map((_, i) => i + 1));
      expect(p.reportsSince(account, sequences.length - 5)!.map((r) => r.sequence)).toEqual(sequences.slice(-5));
    }
  });

  it("ignores an event applied twice", () => {
    const p = projectionFor();
    for (const e of events.slice(0, 100)) p.apply(e);
    const before = JSON.stringify(p.openOrders("acct-1"));
    expect(p.apply(events[50]!)).toEqual([]);
    expect(JSON.stringify(p.openOrders("acct-1"))).toBe(before);
  });

  it("counts the listed instruments the engine announced HALTED (a venue-wide halt is one event per instrument)", () => {
    const p = new OrderProjection((symbol) => (symbol === "UNLISTED" ? undefined : { notionalPerTickLot: 1 }));
    let seq = 0;
    const change = (instrument: string, state: InstrumentState): void =>
      void p.apply({
        commandSeq: ++seq,
        index: 0,
        instrument,
        timestamp: undefined,
        body: {
          $case: "instrumentStateChanged",
          value: { previousState: 0, state, reason: "test", referencePrice: 100_000 },
        },
      } as EngineEvent);
    change("INFY", InstrumentState.HALTED);
    change("TCS", InstrumentState.HALTED);
    change("UNLISTED", InstrumentState.HALTED);
    expect(p.haltedInstruments).toBe(2);
    change("TCS", InstrumentState.CONTINUOUS);
    expect(p.haltedInstruments).toBe(1);
    change("INFY", InstrumentState.CLOSED);
    expect([p.haltedInstruments, p.instrumentState("INFY")]).toEqual([0, InstrumentState.CLOSED]);
  });

  it("sums each account's orders, positions and P&L over its instruments for the gauges", () => {
    const p = projectionFor();
    for (const e of events) p.apply(e);
    const summaries = p.accountSummaries();
    expect(summaries.size).toBeGreaterThan(0);
    for (const [account, s] of summaries) {
      let lots = 0;
      let exposure = 0;
      let realised = 0;
      for (const position of p.positionsOf(account).values()) {
        lots += Math.abs(position.netQty);
        exposure += position.openExposure;
        realised += position.realisedPnl;
      }
      expect(s).toMatchObject({
        openOrders: p.openOrders(account).length,
        grossPositionLots: lots,
        openExposure: exposure,
        realisedPnl: realised,
      });
    }
    const total = [...summaries.values()].reduce((n, s) => n + s.openOrders, 0);
    expect(total).toBe(liveOrders);
  });

  describe("snapshots", () => {
    const terms = () => ({ notionalPerTickLot: MULT });
    const KEPT = 50;

    it("writes its snapshot in steps as of when it began, while events go on between steps", () => {
      const p = new OrderProjection(terms, KEPT);
      for (const e of events.slice(0, 3_000)) p.apply(e);
      const atOnce = JSON.parse(JSON.stringify(p.snapshot())) as unknown;
      const steps = p.snapshotJsonSteps(KEPT, 7);
      let next = 3_000;
      let taken = 0;
      let r = steps.next();
      while (r.done !== true) {
        taken++;
        // Fills, cancels and replaces of the orders being written, and new ones.
        for (let k = 0; k < 40 && next < events.length; k++) p.apply(events[next++]!);
        r = steps.next();
      }
      expect(taken).toBeGreaterThan(10);
      expect(next).toBeGreaterThan(3_000);
      const written = JSON.parse(Buffer.concat(r.value).toString("utf8")) as unknown;
      expect(written).toEqual(atOnce);
      expect(OrderProjection.restore(written, terms, KEPT).snapshot()).toEqual(atOnce);
    });

    it.each([0, 1, 777, 3_000, events.length])(
      "a projection restored from a snapshot after %i events and fed the rest equals one fed them all",
      (at) => {
        const whole = new OrderProjection(terms, KEPT);
        for (const e of events) whole.apply(e);
        const first = new OrderProjection(terms, KEPT);
        for (const e of events.slice(0, at)) first.apply(e);
        // Through JSON, as stored.
        const stored = JSON.parse(JSON.stringify(first.snapshot())) as unknown;
        const restored = OrderProjection.restore(stored, terms, KEPT);
        const reports = events.slice(at).flatMap((e) => restored.apply(e));
        expect(restored.snapshot()).toEqual(whole.snapshot());
        // The same behaviour, not only the same data: ids, resumable reports, gauges.
        const accounts = [...whole.accountSummaries().keys()];
        expect(restored.accountSummaries()).toEqual(whole.accountSummaries());
        for (const account of accounts) {
          for (const o of whole.openOrders(account))
            expect(restored.orderIdByClientId(account, o.clientOrderId)).toBe(o.orderId);
          const last = whole.lastReportSequence(account);
          expect(restored.reportsSince(account, last - 10)).toEqual(whole.reportsSince(account, last - 10));
        }
        // Report numbering continues where the snapshot left off.
        for (const { account, report } of reports)
          expect(report.sequence).toBeLessThanOrEqual(whole.lastReportSequence(account));
      },
    );

    it.each([
      ["something that is not a snapshot", "hello"],
      ["another version", { version: 2 }],
      ["a truncated one", { version: 1, lastSeq: 5, lastIndex: 0 }],
      [
        "an order that is not protobuf",
        {
          version: 1,
          lastSeq: 5,
          lastIndex: 0,
          orders: ["!!!not base64 protobuf"],
          positions: [],
          lastPrices: [],
          states: [],
          sequences: [],
          reports: [],
        },
      ],
      [
        "a negative sequence",
        {
          version: 1,
          lastSeq: -1,
          lastIndex: 0,
          orders: [],
          positions: [],
          lastPrices: [],
          states: [],
          sequences: [],
          reports: [],
        },
      ],
      [
        "a position with a fractional quantity",
        {
          version: 1,
          lastSeq: 1,
          lastIndex: 0,
          orders: [],
          positions: [["a", "INFY", { netQty: 0.5, lots: [] }]],
          lastPrices: [],
          states: [],
          sequences: [],
          reports: [],
        },
      ],
    ])("refuses %s with a reason", (_name, snapshot) => {
      expect(() => OrderProjection.restore(snapshot, terms)).toThrow(ProjectionSnapshotError);
    });

    it("refuses reports whose sequences do not end at the account's last one", () => {
      const p = new OrderProjection(terms, KEPT);
      for (const e of events.slice(0, 500)) p.apply(e);
      const snap = JSON.parse(JSON.stringify(p.snapshot())) as { sequences: [string, number][] };
      snap.sequences[0]![1] += 1;
      expect(() => OrderProjection.restore(snap, terms)).toThrow(/not consecutive/);
    });
  });
});

describe("OrderProjection.findOrder", () => {
  const { events } = eventLog(3_000, 5);
  const p = projectionFor();
  for (const e of events) p.apply(e);
  const accounts = [...new Set(events.flatMap((e) => (e.body?.$case === "accepted" ? [e.body.value.account] : [])))];

  it("finds every order of an account by its venue id and by its client order id, open or finished, as its last report shows it", () => {
    for (const account of accounts) {
      const last = new Map<number, NonNullable<ReturnType<typeof p.findOrder>>>();
      for (const r of p.reportsSince(account, 0) ?? [])
        if (r.order && r.order.orderId > 0 && r.order.account === account) last.set(r.order.orderId, r.order);
      expect(last.size).toBeGreaterThan(0);
      for (const [orderId, order] of last) {
        const live = p.orderById(orderId);
        const expected = live ?? order;
        expect(p.findOrder(account, { orderId })).toEqual(expected);
        expect(p.findOrder(account, { clientOrderId: expected.clientOrderId })).toEqual(expected);
      }
    }
  });

  it("never finds another account's order", () => {
    const [a, b] = accounts as [string, string];
    for (const r of p.reportsSince(b, 0)!) {
      const o = r.order;
      if (o === undefined || o.account !== b || o.orderId === 0) continue;
      expect(p.findOrder(a, { orderId: o.orderId })).toBeUndefined();
      expect(p.findOrder(a, { clientOrderId: o.clientOrderId })?.account ?? a).toBe(a);
    }
    // Every order an account finds is its own, also through its rejects about other accounts' orders.
    for (const account of accounts)
      for (const r of p.reportsSince(account, 0)!)
        if (r.order !== undefined && r.order.orderId > 0)
          expect(p.findOrder(account, { orderId: r.order.orderId })?.account ?? account).toBe(account);
    expect(p.findOrder(a, { orderId: 99_999_999 })).toBeUndefined();
  });
});
