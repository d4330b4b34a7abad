import { describe, expect, it } from "vitest";
import {
  EngineConfigError,
  EventKind,
  NSE_TICK_SLABS,
  OrderType,
  RejectReason,
  TimeInForce,
  applyCommand,
  codeName,
  createEngine,
  readEvents,
  validateEngineConfig,
  type EngineCommand,
  type EngineConfig,
} from "../src/index.ts";
import { SIMPLE, Venue } from "./venue.ts";

const R = RejectReason;

/** A venue with one resting buy (#1, 10 @ 100) and a lot-5 instrument next to it. */
function venue(): Venue {
  const v = new Venue({
    instruments: [
      SIMPLE.instruments[0]!,
      {
        symbol: "LOT",
        tickSize: 5,
        lotSize: 5,
        minQty: 5,
        maxQty: 100,
        maxOrderValue: 5_000,
        referencePrice: 100,
        bandPercent: 20,
      },
    ],
  });
  v.buy({ id: 1, price: 100, qty: 10 });
  return v;
}

interface Case {
  name: string;
  args: Partial<{
    orderId: number;
    instrument: number;
    account: number;
    side: number;
    type: number;
    tif: number;
    price: number;
    qty: number;
  }>;
  reason: number;
}

const BASE = {
  orderId: 50,
  instrument: 0,
  account: 3,
  side: 1,
  type: OrderType.LIMIT,
  tif: TimeInForce.GTC,
  price: 99,
  qty: 5,
};

const SUBMIT_CASES: Case[] = [
  ...[NaN, Infinity, -1, 0, 1.5, 2 ** 53].map((x) => ({
    name: `order id ${x}`,
    args: { orderId: x },
    reason: R.INVALID_ORDER_ID,
  })),
  ...[NaN, -1, 1.5, 7, 2 ** 53].map((x) => ({
    name: `instrument ${x}`,
    args: { instrument: x },
    reason: R.UNKNOWN_INSTRUMENT,
  })),
  ...[NaN, -1, 1.5, 2 ** 31].map((x) => ({ name: `account ${x}`, args: { account: x }, reason: R.INVALID_ACCOUNT })),
  ...[NaN, 0, 3, 1.5].map((x) => ({ name: `side ${x}`, args: { side: x }, reason: R.INVALID_COMMAND })),
  ...[NaN, 0, 5].map((x) => ({ name: `type ${x}`, args: { type: x }, reason: R.INVALID_COMMAND })),
  ...[NaN, 0, 6].map((x) => ({ name: `time in force ${x}`, args: { tif: x }, reason: R.INVALID_COMMAND })),
  { name: "market order resting", args: { type: OrderType.MARKET, tif: TimeInForce.DAY }, reason: R.INVALID_COMMAND },
  ...[NaN, Infinity, -1, 0, 1.5, 2 ** 31, 2 ** 53].map((x) => ({
    name: `quantity ${x}`,
    args: { qty: x },
    reason: R.INVALID_QTY,
  })),
  ...[NaN, Infinity, -Infinity, -1, 0, 1.5, 2 ** 53].map((x) => ({
    name: `price ${x}`,
    args: { price: x },
    reason: R.INVALID_PRICE,
  })),
  { name: "price below the band", args: { price: 79 }, reason: R.OUTSIDE_PRICE_BAND },
  { name: "price above the band", args: { price: 121 }, reason: R.OUTSIDE_PRICE_BAND },
  { name: "off tick", args: { instrument: 1, price: 101 }, reason: R.OFF_TICK },
  { name: "off lot", args: { instrument: 1, price: 100, qty: 7 }, reason: R.OFF_LOT },
  { name: "above max quantity", args: { instrument: 1, price: 100, qty: 105 }, reason: R.QTY_OUT_OF_RANGE },
  { name: "above max order value", args: { instrument: 1, price: 100, qty: 55 }, reason: R.MAX_ORDER_VALUE },
  { name: "duplicate live order id", args: { orderId: 1 }, reason: R.DUPLICATE_ORDER_ID },
];

describe("bad input is a reject with a reason, never a throw and never a change", () => {
  it.each(SUBMIT_CASES)("submit: $name", ({ args, reason }) => {
    const v = venue();
    const before = v.engine.orders(0);
    const a = { ...BASE, ...args };
    const seq = ++v.seq;
    expect(() =>
      v.engine.submit(seq, 1, a.orderId, a.instrument, a.account, a.side, a.type, a.tif, a.price, a.qty),
    ).not.toThrow();
    const events = readEvents(v.engine);
    expect(events.map((e) => e.kind)).toEqual([EventKind.REJECTED]);
    expect(codeName(R, (events[0] as { reason: number }).reason)).toBe(codeName(R, reason));
    expect(events[0]!.seq).toBe(seq);
    expect(v.engine.orders(0)).toEqual(before);
    expect(v.engine.selfCheck()).toEqual([]);
    expect(v.engine.lastSeq).toBe(seq);
  });

  it.each([
    { name: "unknown order", id: 77, account: 1, reason: R.UNKNOWN_ORDER },
    { name: "order id NaN", id: NaN, account: 1, reason: R.INVALID_ORDER_ID },
    { name: "order id 1.5", id: 1.5, account: 1, reason: R.INVALID_ORDER_ID },
    { name: "another account's order", id: 1, account: 2, reason: R.NOT_OWNER },
  ])("cancel: $name", ({ id, account, reason }) => {
    const v = venue();
    v.engine.cancel(++v.seq, id, account);
    expect(readEvents(v.engine)).toMatchObject([{ kind: EventKind.REJECTED, reason }]);
    expect(v.engine.orders(0)).toHaveLength(1);
  });

  it.each([
    { name: "quantity 0", price: 100, qty: 0, reason: R.INVALID_QTY },
    { name: "quantity NaN", price: 100, qty: NaN, reason: R.INVALID_QTY },
    { name: "price 1.5", price: 1.5, qty: 5, reason: R.INVALID_PRICE },
    { name: "price outside the band", price: 200, qty: 5, reason: R.OUTSIDE_PRICE_BAND },
  ])("replace: $name", ({ price, qty, reason }) => {
    const v = venue();
    v.engine.replace(++v.seq, 1, 1, price, qty);
    expect(readEvents(v.engine)).toMatchObject([{ kind: EventKind.REJECTED, reason }]);
    expect(v.engine.orders(0)[0]).toMatchObject({ orderId: 1, qty: 10, leaves: 10, price: 100 });
  });

  it("rejects a stale or malformed sequence number without consuming it", () => {
    const v = venue();
    for (const seq of [v.seq, v.seq - 1, NaN, 1.5, 2 ** 53]) {
      v.engine.cancel(seq, 1, 1);
      expect(readEvents(v.engine)).toMatchObject([{ kind: EventKind.REJECTED, reason: R.INVALID_SEQUENCE }]);
      expect(v.engine.lastSeq).toBe(v.seq);
    }
  });

  it("rejects bad stop prices, expiry times and state values", () => {
    const v = venue();
    v.buy({ id: 2, price: 100, qty: 1, type: OrderType.STOP_LIMIT, stopPrice: NaN });
    expect(v.last).toMatchObject([{ reason: R.INVALID_STOP_PRICE }]);
    v.buy({ id: 2, price: 100, qty: 1, tif: TimeInForce.GTD, expireTimeNs: v.time });
    expect(v.last).toMatchObject([{ reason: R.INVALID_EXPIRY }]);
    v.engine.setState(++v.seq, 0, 0, 9);
    expect(readEvents(v.engine)).toMatchObject([{ reason: R.INVALID_COMMAND }]);
    v.engine.setState(++v.seq, -5, 0, 1);
    expect(readEvents(v.engine)).toMatchObject([{ reason: R.INVALID_TIME }]);
  });

  it("applyCommand turns anything that is not a command into a reject", () => {
    const e = createEngine(SIMPLE);
    const junk: unknown[] = [
      null,
      undefined,
      42,
      "submit",
      {},
      { kind: "submit" },
      { kind: "submit", seq: 1, orderId: "7", qty: 10n },
      { kind: "cancel", seq: 2, orderId: { valueOf: () => 1 } },
      { kind: "teleport", seq: 3 },
      { kind: "replace", seq: 4, orderId: 1, account: 1, price: [], qty: null },
    ];
    for (const j of junk) {
      expect(() => applyCommand(e, j as EngineCommand)).not.toThrow();
      const events = readEvents(e);
      expect(events).toHaveLength(1);
      expect(events[0]!.kind).toBe(EventKind.REJECTED);
    }
    expect(e.selfCheck()).toEqual([]);
  });
});

describe("engine config", () => {
  it("lists every problem of a bad config and throws EngineConfigError at construction", () => {
    const bad: EngineConfig = {
      instruments: [
        { ...SIMPLE.instruments[0]!, tickSize: 0 },
        { ...SIMPLE.instruments[0]!, symbol: "ABC", lotSize: 1.5, minQty: 10, maxQty: 5 },
        { ...SIMPLE.instruments[0]!, symbol: "X", tickSize: undefined, tickSlabs: [{ fromPrice: 5, tickSize: 1 }] },
        { ...SIMPLE.instruments[0]!, symbol: "Y", referencePrice: 101, tickSize: 2 },
        { ...SIMPLE.instruments[0]!, symbol: "Z", bandPercent: 150 },
      ],
    };
    const { config, issues } = validateEngineConfig(bad);
    expect(config).toBeUndefined();
    expect(issues.join("\n")).toMatch(/tickSize must be an integer > 0/);
    expect(issues.join("\n")).toMatch(/symbol ABC is a duplicate/);
    expect(issues.join("\n")).toMatch(/lotSize/);
    expect(issues.join("\n")).toMatch(/minQty > maxQty/);
    expect(issues.join("\n")).toMatch(/tickSlabs\[0\].fromPrice must be 0/);
    expect(issues.join("\n")).toMatch(/referencePrice is not on its tick/);
    expect(issues.join("\n")).toMatch(/bandPercent/);
    expect(() => createEngine(bad)).toThrow(EngineConfigError);
    expect(() => createEngine({ instruments: [] })).toThrow(/non-empty/);
  });

  it("applies the NSE tick-size slabs by price and rounds the band onto them", () => {
    // Reference 260.00 INR with a 5% band: 247.00 .. 273.00 INR; below 250 INR the tick is 1 paisa.
    const v = new Venue({
      instruments: [
        {
          symbol: "NSE",
          tickSlabs: NSE_TICK_SLABS,
          lotSize: 1,
          minQty: 1,
          maxQty: 1000,
          maxOrderValue: 0,
          referencePrice: 26_000,
          bandPercent: 5,
        },
      ],
    });
    const reason = (price: number) => {
      v.buy({ id: 1000 + v.seq, price, qty: 1, tif: TimeInForce.IOC });
      return v.last[0]!.kind === EventKind.REJECTED ? codeName(R, (v.last[0] as { reason: number }).reason) : "ok";
    };
    expect(reason(24_999)).toBe("ok"); // 249.99: tick 0.01
    expect(reason(25_001)).toBe("OFF_TICK"); // 250.01: tick is 0.05 from 250
    expect(reason(25_005)).toBe("ok");
    expect(reason(24_700)).toBe("ok"); // band low 247.00
    expect(reason(24_699)).toBe("OUTSIDE_PRICE_BAND");
    expect(reason(27_300)).toBe("ok"); // band high 273.00
    expect(reason(27_305)).toBe("OUTSIDE_PRICE_BAND");

    const slabs = new Venue({
      instruments: [
        {
          symbol: "HI",
          tickSlabs: NSE_TICK_SLABS,
          lotSize: 1,
          minQty: 1,
          maxQty: 1000,
          maxOrderValue: 0,
          referencePrice: 1_000_000,
          bandPercent: 20,
        },
      ],
    });
    for (const [price, ok] of [
      [999_950, true], // 9,999.50 INR: tick 0.50
      [999_990, false],
      [1_000_100, true], // 10,001.00 INR: tick 1.00
      [1_000_050, false],
    ] as const) {
      slabs.sell({ id: price, price, qty: 1 });
      expect(slabs.last[0]!.kind === EventKind.ACCEPTED, `price ${price}`).toBe(ok);
    }
  });
});

describe("events", () => {
  it("carry the command's sequence number and their index within the command", () => {
    const v = new Venue();
    v.sell({ id: 1, price: 100, qty: 1 });
    v.sell({ id: 2, price: 101, qty: 1 });
    v.buy({ id: 3, price: 101, qty: 3 });
    expect(v.last.map((e) => [e.seq, e.index])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [3, i]));
    expect(v.engine.events.seq).toBe(3);
    expect(v.engine.events.count).toBe(6);
  });

  it("grow the buffer when one command outgrows it", () => {
    const e = createEngine({ ...SIMPLE, capacity: { initialEvents: 1, initialOrders: 1 } });
    for (let i = 1; i <= 50; i++) e.submit(i, 0, i, 0, i, 2, OrderType.LIMIT, TimeInForce.GTC, 100 + (i % 5), 1);
    e.submit(51, 0, 51, 0, 51, 1, OrderType.LIMIT, TimeInForce.GTC, 110, 100);
    expect(e.events.count).toBe(1 + 50 + 5 + 1);
    expect(e.events.capacity).toBeGreaterThanOrEqual(57);
    expect(e.stats().orderCapacity).toBeGreaterThanOrEqual(50);
  });
});

describe("capacity", () => {
  it("rejects new orders once maxOrders orders are live, and takes them again after a cancel", () => {
    const v = new Venue({ ...SIMPLE, capacity: { maxOrders: 3, initialOrders: 1 } });
    for (let id = 1; id <= 3; id++) v.buy({ id, price: 90 + id, qty: 1 });
    expect(v.buy({ id: 4, price: 95, qty: 1 })).toEqual(["REJECTED #4 CAPACITY_EXCEEDED"]);
    v.cancel(2);
    expect(v.buy({ id: 4, price: 95, qty: 1 })[0]).toBe("ACCEPTED #4 BUY 1@95");
    expect(v.engine.stats()).toMatchObject({ liveOrders: 3, orderCapacity: 3, maxOrders: 3 });
  });
});
