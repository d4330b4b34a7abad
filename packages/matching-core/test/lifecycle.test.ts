import { describe, expect, it } from "vitest";
import { InstrumentState, OrderType, SnapshotError, TimeInForce, createEngine, restoreEngine } from "../src/index.ts";
import { SIMPLE, Venue } from "./venue.ts";

const { PRE_OPEN, CONTINUOUS, HALTED, CLOSED } = InstrumentState;

const TWO = {
  instruments: [SIMPLE.instruments[0]!, { ...SIMPLE.instruments[0]!, symbol: "XYZ", cancelOnHalt: true }],
};

describe("sessions, halts and expiry", () => {
  it("ends DAY orders when the session closes and keeps GTC and GTD orders", () => {
    const v = new Venue();
    v.buy({ id: 1, price: 99, qty: 1, tif: TimeInForce.DAY });
    v.buy({ id: 2, price: 99, qty: 2, tif: TimeInForce.GTC });
    v.sell({ id: 3, price: 101, qty: 3, tif: TimeInForce.GTD, expireTimeNs: 5_000 });
    v.sell({ id: 4, qty: 1, type: OrderType.STOP_MARKET, tif: TimeInForce.DAY, stopPrice: 95 });
    expect(v.state(CLOSED)).toEqual(["STATE 0 CLOSED", "EXPIRED #1 1", "BOOK BUY 99: 2", "EXPIRED #4 1"]);
    expect(v.buy({ id: 5, price: 99, qty: 1 })).toEqual(["REJECTED #5 MARKET_CLOSED"]);
    expect(v.table()).toEqual({ bids: ["99 2"], asks: ["101 3"] });
  });

  it("expires GTD orders whose time has come, in book order", () => {
    const v = new Venue();
    v.sell({ id: 1, price: 101, qty: 1, tif: TimeInForce.GTD, expireTimeNs: 3_000 });
    v.sell({ id: 2, price: 101, qty: 2, tif: TimeInForce.GTD, expireTimeNs: 2_000 });
    v.buy({ id: 3, price: 99, qty: 3, tif: TimeInForce.GTD, expireTimeNs: 2_000 });
    expect(v.expire(1_999)).toEqual([]);
    expect(v.expire(2_000)).toEqual(["EXPIRED #3 3", "BOOK BUY 99: 0", "EXPIRED #2 2", "BOOK SELL 101: 1"]);
    expect(v.expire(10_000)).toEqual(["EXPIRED #1 1", "BOOK SELL 101: 0"]);
    expect(v.engine.stats().gtdOrders).toBe(0);
  });

  it("keeps the book through a halt unless the instrument cancels on halt", () => {
    const v = new Venue(TWO);
    v.buy({ id: 1, price: 99, qty: 1 });
    v.buy({ id: 2, price: 99, qty: 1, instrument: 1 });
    v.sell({ id: 3, qty: 1, type: OrderType.STOP_MARKET, tif: TimeInForce.GTC, stopPrice: 90, instrument: 1 });
    expect(v.state(HALTED, -1)).toEqual([
      "STATE 0 HALTED",
      "STATE 1 HALTED",
      "CANCELLED #2 1 HALT left 0",
      "BOOK BUY 99: 0",
      "CANCELLED #3 1 HALT left 0",
    ]);
    expect(v.table(0).bids).toEqual(["99 1"]);
    expect(v.replace(1, 98, 1)).toEqual(["REJECTED #1 INSTRUMENT_HALTED"]);
  });

  it("applies a state to every instrument, skipping those already in it and refusing forbidden moves", () => {
    const v = new Venue(TWO);
    v.state(CLOSED, 1);
    expect(v.state(HALTED, -1)).toEqual(["STATE 0 HALTED", "REJECTED #0 INVALID_STATE_TRANSITION"]);
    expect(v.last[1]).toMatchObject({ instrument: 1 });
    expect(v.state(HALTED, 0)).toEqual(["REJECTED #0 INVALID_STATE_TRANSITION"]);
    expect(v.state(PRE_OPEN, -1)).toEqual(["STATE 0 PRE_OPEN", "STATE 1 PRE_OPEN"]);
    expect(v.state(CONTINUOUS, -1)).toEqual(["STATE 0 CONTINUOUS", "STATE 1 CONTINUOUS"]);
  });

  it("mass-cancels by account, instrument and side", () => {
    const v = new Venue(TWO);
    v.buy({ id: 1, price: 99, qty: 1, account: 7 });
    v.buy({ id: 2, price: 98, qty: 1, account: 7 });
    v.sell({ id: 3, price: 101, qty: 1, account: 7 });
    v.buy({ id: 4, price: 99, qty: 1, account: 8 });
    v.buy({ id: 5, price: 99, qty: 1, account: 7, instrument: 1 });
    expect(v.massCancel(7, 0, 1)).toEqual([
      "CANCELLED #1 1 MASS_CANCEL left 0",
      "BOOK BUY 99: 1",
      "CANCELLED #2 1 MASS_CANCEL left 0",
      "BOOK BUY 98: 0",
    ]);
    expect(v.massCancel(7)).toEqual([
      "CANCELLED #3 1 MASS_CANCEL left 0",
      "BOOK SELL 101: 0",
      "CANCELLED #5 1 MASS_CANCEL left 0",
      "BOOK BUY 99: 0",
    ]);
    expect(v.massCancel(-1)).toEqual(["CANCELLED #4 1 MASS_CANCEL left 0", "BOOK BUY 99: 0"]);
    expect(v.engine.stats().liveOrders).toBe(0);
  });
});

describe("snapshots", () => {
  function engineWithState() {
    const v = new Venue(TWO);
    v.buy({ id: 1, price: 99, qty: 10, displayQty: 2, account: 3, stpGroup: 4 });
    v.sell({ id: 2, price: 101, qty: 5, tif: TimeInForce.GTD, expireTimeNs: 9_999 });
    v.sell({ id: 3, price: 90, qty: 1, type: OrderType.STOP_LIMIT, stopPrice: 95, instrument: 1 });
    v.state(PRE_OPEN, 1);
    return v.engine;
  }

  it("round-trips the whole state", () => {
    const e = engineWithState();
    const r = restoreEngine(e.snapshot());
    expect(r.digest()).toBe(e.digest());
    expect(r.lastSeq).toBe(e.lastSeq);
    expect(r.orders(0)).toEqual(e.orders(0));
    expect(r.orders(1)).toEqual(e.orders(1));
    expect(r.book(1).state).toBe(PRE_OPEN);
    expect(r.selfCheck()).toEqual([]);
  });

  it("gives the same digest for the same state however it was reached", () => {
    const a = createEngine(SIMPLE);
    a.submit(1, 0, 1, 0, 1, 1, OrderType.LIMIT, TimeInForce.GTC, 99, 5);
    a.submit(2, 0, 2, 0, 2, 1, OrderType.LIMIT, TimeInForce.GTC, 150 - 51, 5);
    a.cancel(3, 2, 2);
    const b = createEngine({ ...SIMPLE, capacity: { initialOrders: 1 } });
    b.submit(1, 0, 1, 0, 1, 1, OrderType.LIMIT, TimeInForce.GTC, 99, 5);
    b.rejectCommand(2);
    b.rejectCommand(3);
    // Equal books and sequence, but a different priority counter: the digest tells them apart.
    expect(b.orders(0)).toEqual(a.orders(0));
    expect(b.digest()).not.toBe(a.digest());
    b.submit(4, 0, 9, 0, 1, 1, OrderType.LIMIT, TimeInForce.GTC, 99, 5);
    b.cancel(5, 9, 1);
    a.rejectCommand(4);
    a.rejectCommand(5);
    expect(b.digest()).toBe(a.digest());
  });

  it("throws SnapshotError on corrupt, truncated or foreign bytes", () => {
    const bytes = engineWithState().snapshot();
    const flipped = bytes.slice();
    flipped[bytes.length - 3]! ^= 0x40;
    expect(() => restoreEngine(flipped)).toThrow(/checksum/);
    expect(() => restoreEngine(bytes.subarray(0, bytes.length - 1))).toThrow(SnapshotError);
    expect(() => restoreEngine(bytes.subarray(0, 10))).toThrow(/truncated/);
    const magic = bytes.slice();
    magic[0] = 0;
    expect(() => restoreEngine(magic)).toThrow(/magic/);
    const version = bytes.slice();
    version[4] = 99;
    expect(() => restoreEngine(version)).toThrow(/version/);
    expect(() => restoreEngine(new Uint8Array(0))).toThrow(SnapshotError);
    expect(() => restoreEngine("nope" as unknown as Uint8Array)).toThrow(SnapshotError);
  });
});
