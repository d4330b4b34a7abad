import { describe, expect, it } from "vitest";
import {
  CancelReason,
  ExecType,
  InstrumentState,
  OrderStatus,
  OrderType,
  RejectReason,
  Side,
  StpMode,
  TimeInForce,
  type EngineEvent,
} from "@tradeplane/contracts";
import { Partition } from "@tradeplane/matching-core/partition";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { commandStream, prng, testInstrumentSettings } from "@tradeplane/testkit";
import { OrderProjection, ProjectionSnapshotError, type AccountReport } from "../src/order-projection.ts";
import { unrealisedPnl } from "../src/positions.ts";
import { rejectText } from "../src/reject-text.ts";

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
    for (const e of events) p.apply(e, 0);
    const accounts = new Set(events.flatMap((e) => (e.body?.$case === "accepted" ? [e.body.value.account] : [])));
    const open = [...accounts].flatMap((a) => p.openOrders(a));
    expect(open.length).toBe(liveOrders);
    expect(open.every((o) => o.leavesQty > 0)).toBe(true);
  });

  it("gives positions equal to a recomputation from the raw trade events, and conserves money", () => {
    const p = projectionFor();
    for (const e of events) p.apply(e, 0);
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
      for (const { account, report } of p.apply(e, 0))
        seen.set(account, [...(seen.get(account) ?? []), report.sequence]);
    for (const [account, sequences] of seen) {
      expect(sequences).toEqual(sequences.map((_, i) => i + 1));
      expect(p.reportsSince(account, sequences.length - 5)!.map((r) => r.sequence)).toEqual(sequences.slice(-5));
    }
  });

  it("ignores an event applied twice", () => {
    const p = projectionFor();
    for (const e of events.slice(0, 100)) p.apply(e, 0);
    const before = JSON.stringify(p.openOrders("acct-1"));
    expect(p.apply(events[50]!, 0)).toEqual([]);
    expect(JSON.stringify(p.openOrders("acct-1"))).toBe(before);
  });

  it("counts the listed instruments the engine announced HALTED (a venue-wide halt is one event per instrument)", () => {
    const p = new OrderProjection((symbol) => (symbol === "UNLISTED" ? undefined : { notionalPerTickLot: 1 }));
    let seq = 0;
    const change = (instrument: string, state: InstrumentState): void =>
      void p.apply(
        {
          commandSeq: ++seq,
          index: 0,
          instrument,
          timestamp: undefined,
          body: {
            $case: "instrumentStateChanged",
            value: { previousState: 0, state, reason: "test", referencePrice: 100_000 },
          },
        } as EngineEvent,
        0,
      );
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
    for (const e of events) p.apply(e, 0);
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
      for (const e of events.slice(0, 3_000)) p.apply(e, 0);
      const atOnce = JSON.parse(JSON.stringify(p.snapshot())) as unknown;
      const steps = p.snapshotJsonSteps(KEPT, 7);
      let next = 3_000;
      let taken = 0;
      let r = steps.next();
      while (r.done !== true) {
        taken++;
        // Fills, cancels and replaces of the orders being written, and new ones.
        for (let k = 0; k < 40 && next < events.length; k++) p.apply(events[next++]!, 0);
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
        for (const e of events) whole.apply(e, 0);
        const first = new OrderProjection(terms, KEPT);
        for (const e of events.slice(0, at)) first.apply(e, 0);
        // Through JSON, as stored.
        const stored = JSON.parse(JSON.stringify(first.snapshot())) as unknown;
        const restored = OrderProjection.restore(stored, terms, KEPT);
        const reports = events.slice(at).flatMap((e) => restored.apply(e, 0));
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

    const tables = { orders: [], positions: [], lastPrices: [], states: [], sequences: [], reports: [] };
    it.each([
      ["something that is not a snapshot", "hello"],
      ["another version", { version: 3 }],
      [
        "a version 1 snapshot (one mark for every partition: what it skipped is unknown)",
        { version: 1, lastSeq: 5, lastIndex: 0, ...tables },
      ],
      ["a truncated one", { version: 2, marks: [[0, 5, 0]] }],
      ["an order that is not protobuf", { version: 2, marks: [], ...tables, orders: ["!!!not base64 protobuf"] }],
      ["a negative sequence", { version: 2, marks: [[0, -1, 0]], ...tables }],
      ["a negative partition", { version: 2, marks: [[-1, 5, 0]], ...tables }],
      ["a mark that is not a triple", { version: 2, marks: [5], ...tables }],
      [
        "a position with a fractional quantity",
        { version: 2, marks: [], ...tables, positions: [["a", "INFY", { netQty: 0.5, lots: [] }]] },
      ],
    ])("refuses %s with a reason", (_name, snapshot) => {
      expect(() => OrderProjection.restore(snapshot, terms)).toThrow(ProjectionSnapshotError);
    });

    it("refuses reports whose sequences do not end at the account's last one", () => {
      const p = new OrderProjection(terms, KEPT);
      for (const e of events.slice(0, 500)) p.apply(e, 0);
      const snap = JSON.parse(JSON.stringify(p.snapshot())) as { sequences: [string, number][] };
      snap.sequences[0]![1] += 1;
      expect(() => OrderProjection.restore(snap, terms)).toThrow(/not consecutive/);
    });
  });
});

describe("OrderProjection: the orders of the current trading session", () => {
  const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
  const newOrder = (clientOrderId: string, o: { side?: Side; qty?: number; stpMode?: StpMode } = {}) => ({
    timestamp: at(1_000),
    account: "alice",
    source: "test",
    traceparent: "",
    ownerEpoch: 0,
    body: {
      $case: "newOrder" as const,
      value: {
        clientOrderId,
        instrument: "INFY",
        side: o.side ?? Side.SELL,
        orderType: OrderType.LIMIT,
        timeInForce: TimeInForce.DAY,
        price: 100_050,
        stopPrice: 0,
        qty: o.qty ?? 5,
        postOnly: false,
        stpMode: o.stpMode ?? StpMode.CANCEL_TAKER,
        expireTime: undefined,
        displayQty: 0,
        stpGroup: 0,
      },
    },
  });
  const cancel = (orderId: number) => ({
    timestamp: at(2_000),
    account: "alice",
    source: "test",
    traceparent: "",
    ownerEpoch: 0,
    body: {
      $case: "cancelOrder" as const,
      value: { instrument: "INFY", orderId, clientOrderId: "", reason: CancelReason.UNSPECIFIED },
    },
  });
  const close = () => ({
    timestamp: at(3_000),
    account: "",
    source: "test",
    traceparent: "",
    ownerEpoch: 0,
    body: {
      $case: "setInstrumentState" as const,
      value: { instrument: "INFY", state: InstrumentState.CLOSED, reason: "close", fromStates: [] },
    },
  });

  /** Feeds commands through the real partition into `p`; the reports of the last one. */
  function run(p: OrderProjection, commands: Parameters<Partition["apply"]>[1][]) {
    const partition = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
    let reports: ReturnType<OrderProjection["apply"]> = [];
    commands.forEach((c, i) => {
      partition.apply(i + 1, c);
      reports = partition.wireEvents().flatMap((e) => p.apply(e, 0));
    });
    return reports;
  }

  it("answers a cancel of a cancelled order with ORDER_FINISHED and the order, keeps its id taken, and forgets both at the close", () => {
    const p = projectionFor();
    const again = run(p, [newOrder("c-1"), cancel(1), cancel(1)]);
    expect(again.map((r) => r.report)).toEqual([
      expect.objectContaining({
        rejectReason: RejectReason.ORDER_FINISHED,
        order: expect.objectContaining({ orderId: 1, clientOrderId: "c-1", status: OrderStatus.CANCELLED }),
      }),
    ]);
    expect(p.clientOrderIdsOf("alice").has("c-1")).toBe(true);
    expect(p.finishedOrderByClientId("alice", "c-1")?.orderId).toBe(1);

    const restored = OrderProjection.restore(JSON.parse(JSON.stringify(p.snapshot())), () => ({
      notionalPerTickLot: MULT,
    }));
    expect(restored.clientOrderIdsOf("alice").has("c-1")).toBe(true);
    expect(restored.finishedOrder("alice", 1)?.status).toBe(OrderStatus.CANCELLED);

    const closed = projectionFor();
    run(closed, [newOrder("c-1"), cancel(1), close()]);
    expect(closed.clientOrderIdsOf("alice").has("c-1")).toBe(false);
    expect(closed.finishedOrder("alice", 1)).toBeUndefined();
  });
});

describe("OrderProjection: self-trade prevention by DECREMENT", () => {
  it("reports the order that stays live as RESTATED with its reduced quantity, and only the one that reaches zero as CANCELLED", () => {
    const p = projectionFor();
    const partition = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
    const at = { seconds: 1, nanos: 0 };
    const order = (clientOrderId: string, side: Side, qty: number) => ({
      timestamp: at,
      account: "alice",
      source: "test",
      traceparent: "",
      ownerEpoch: 0,
      body: {
        $case: "newOrder" as const,
        value: {
          clientOrderId,
          instrument: "INFY",
          side,
          orderType: OrderType.LIMIT,
          timeInForce: TimeInForce.DAY,
          price: 100_050,
          stopPrice: 0,
          qty,
          postOnly: false,
          stpMode: StpMode.DECREMENT,
          expireTime: undefined,
          displayQty: 0,
          stpGroup: 0,
        },
      },
    });
    const reports = [order("s", Side.SELL, 5), order("b", Side.BUY, 8)].flatMap((c, i) => {
      partition.apply(i + 1, c);
      return partition.wireEvents().flatMap((e) => p.apply(e, 0));
    });
    const byId = (id: string) =>
      reports
        .filter((r) => r.report.order!.clientOrderId === id)
        .map((r) => [r.report.execType, r.report.order!.status, r.report.order!.qty, r.report.order!.leavesQty]);
    expect(byId("s")).toEqual([
      [ExecType.NEW, OrderStatus.NEW, 5, 5],
      [ExecType.CANCELLED, OrderStatus.CANCELLED, 5, 0],
    ]);
    expect(byId("b")).toEqual([
      [ExecType.NEW, OrderStatus.NEW, 8, 8],
      [ExecType.RESTATED, OrderStatus.NEW, 3, 3],
    ]);
    expect(p.openOrders("alice").map((o) => [o.clientOrderId, o.qty, o.leavesQty])).toEqual([["b", 3, 3]]);
  });
});

describe("rejectText", () => {
  it.each([
    ["keeps the engine's own text", RejectReason.MALFORMED_COMMAND, "bad bytes", "bad bytes"],
    [
      "says what an engine reject means when the engine gave no text",
      RejectReason.UNSUPPORTED_ORDER,
      "",
      "this order type, time in force and flags are not supported together (or not now)",
    ],
    ["falls back to the reason's name", RejectReason.THROTTLED, "", "THROTTLED"],
  ])("%s", (_name, reason, text, expected) => {
    expect(rejectText(reason, text)).toBe(expected);
  });
});

/**
 * Four partitions of one venue, each trading its own copies of the test instruments, their
 * commands interleaved in one command log (so command sequences interleave too), each
 * partition's events cut into messages (a command's events per instrument), as its engine
 * would publish them.
 */
function venueLog(partitions: number, commandsEach: number, seed: number): { p: number; events: EngineEvent[] }[][] {
  return Array.from({ length: partitions }, (_, p) => {
    const rename = (symbol: string) => `${symbol}${p}`;
    const partition = Partition.create({
      engine: engineConfigOf({ instruments: testInstrumentSettings.map((i) => ({ ...i, symbol: rename(i.symbol) })) }),
    });
    // Partition p's i-th command is the only one of log entry partitions * i + p + 1.
    const seqOf = (i: number) => (partitions * i + p + 1) * 1_000;
    const messages: { p: number; events: EngineEvent[] }[] = [];
    commandStream(commandsEach, seed + p, seqOf).forEach((command, i) => {
      const body = command.body?.value as { instrument?: string } | undefined;
      if (body?.instrument !== undefined && body.instrument !== "NOPE") body.instrument = rename(body.instrument);
      partition.apply(seqOf(i), command);
      for (const e of partition.wireEvents()) {
        const last = messages.at(-1);
        if (last?.events[0]!.commandSeq === e.commandSeq && last.events[0]!.instrument === e.instrument)
          last.events.push(e);
        else messages.push({ p, events: [e] });
      }
    });
    return messages;
  });
}

/** What a projection holds, with report sequences left out (they follow the order events arrive in). */
function holdings(projection: OrderProjection, reports: AccountReport[]): unknown {
  const accounts = [...new Set(reports.map((r) => r.account))].sort();
  return {
    orders: accounts.map((a) => projection.openOrders(a)),
    positions: accounts.map((a) => [...projection.positionsOf(a)].sort(([x], [y]) => (x < y ? -1 : 1))),
    reports: reports
      .map(({ account, report }) => ({ account, ...report, sequence: 0 }))
      .sort((x, y) => x.commandSeq - y.commandSeq || x.eventIndex - y.eventIndex || (x.account < y.account ? -1 : 1)),
  };
}

describe("OrderProjection over several partitions publishing into one stream", () => {
  const PARTITIONS = 4;
  const log = venueLog(PARTITIONS, 1_500, 5);
  const terms = () => ({ notionalPerTickLot: MULT });

  /** The reference: every partition's messages in command order (the order of the command log). */
  function inCommandOrder(): AccountReport[] {
    const all = log.flat().sort((x, y) => x.events[0]!.commandSeq - y.events[0]!.commandSeq);
    return all.flatMap((m) => m.events.flatMap((e) => reference.apply(e, m.p)));
  }
  const reference = new OrderProjection(terms);
  const referenceReports = inCommandOrder();

  /** The partitions' messages as one stream: each partition's in its order, partitions shuffled among each other. */
  function interleaved(seed: number, duplicates: number): { p: number; events: EngineEvent[] }[] {
    const rnd = prng(seed);
    const next = log.map(() => 0);
    const out: { p: number; events: EngineEvent[] }[] = [];
    for (;;) {
      const open = next.flatMap((n, p) => (n < log[p]!.length ? [p] : []));
      if (open.length === 0) break;
      // Bursts: one partition's engine runs ahead of the others for a while.
      const p = open[Math.floor(rnd() * open.length)]!;
      for (let k = 1 + Math.floor(rnd() * 30); k > 0 && next[p]! < log[p]!.length; k--) {
        out.push(log[p]![next[p]!++]!);
        // A message stored twice (a failover past the duplicate window).
        if (rnd() < duplicates) out.push(log[p]![Math.floor(rnd() * next[p]!)]!);
      }
    }
    return out;
  }

  it("the interleavings tested do deliver lower command sequences after higher ones of another partition", () => {
    const stream = interleaved(1, 0);
    let max = 0;
    let behind = 0;
    for (const m of stream) {
      if (m.events[0]!.commandSeq < max) behind++;
      max = Math.max(max, m.events[0]!.commandSeq);
    }
    expect(behind).toBeGreaterThan(stream.length / 4);
  });

  it.each([1, 2, 3])(
    "holds what the partitions' events give in command order, whatever their interleaving (seed %i)",
    (seed) => {
      const p = new OrderProjection(terms);
      const reports = interleaved(seed, 0).flatMap((m) => m.events.flatMap((e) => p.apply(e, m.p)));
      expect(holdings(p, reports)).toEqual(holdings(reference, referenceReports));
    },
  );

  it("ignores each partition's messages stored twice, whenever they come again", () => {
    const p = new OrderProjection(terms);
    const reports = interleaved(4, 0.05).flatMap((m) => m.events.flatMap((e) => p.apply(e, m.p)));
    expect(holdings(p, reports)).toEqual(holdings(reference, referenceReports));
    for (let q = 0; q < PARTITIONS; q++) {
      const last = log[q]!.at(-1)!.events.at(-1)!;
      expect(p.markOf(q)).toEqual({ commandSeq: last.commandSeq, index: last.index });
    }
  });

  it("restored from a snapshot taken in the middle of the stream, goes on with every partition where it stood", () => {
    const stream = interleaved(5, 0.02);
    const whole = new OrderProjection(terms);
    const first = new OrderProjection(terms);
    const at = Math.floor(stream.length / 3);
    const reports = [...stream.slice(0, at).flatMap((m) => m.events.flatMap((e) => first.apply(e, m.p)))];
    const restored = OrderProjection.restore(JSON.parse(JSON.stringify(first.snapshot())) as unknown, terms);
    reports.push(...stream.slice(at).flatMap((m) => m.events.flatMap((e) => restored.apply(e, m.p))));
    for (const m of stream) for (const e of m.events) whole.apply(e, m.p);
    expect(restored.snapshot()).toEqual(whole.snapshot());
    expect(holdings(restored, reports)).toEqual(holdings(reference, referenceReports));
  });
});

describe("OrderProjection.findOrder", () => {
  const { events } = eventLog(3_000, 5);
  const p = projectionFor();
  for (const e of events) p.apply(e, 0);
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
