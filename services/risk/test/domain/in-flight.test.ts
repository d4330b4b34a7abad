import { describe, expect, it } from "vitest";
import { Side } from "@tradeplane/contracts";
import { InFlightOrders, NOTHING_IN_FLIGHT, type Hold } from "../../src/domain/in-flight.ts";

const buy = (qty: number, exposure: number, instrument = "INFY"): Hold => ({
  instrument,
  side: Side.BUY,
  qty,
  exposure,
});
const sell = (qty: number, exposure: number, instrument = "INFY"): Hold => ({
  instrument,
  side: Side.SELL,
  qty,
  exposure,
});
const NO_LIVE_IDS = { has: (): boolean => false };

type Step = { track: [account: string, clientOrderId: string, hold?: Hold] } | { release: number };

describe("InFlightOrders", () => {
  it.each<[string, Step[], { account: string; instrument: string; view: typeof NOTHING_IN_FLIGHT; ids: string[] }]>([
    [
      "an account with nothing written has nothing in flight",
      [],
      { account: "a", instrument: "INFY", view: NOTHING_IN_FLIGHT, ids: [] },
    ],
    [
      "a new order holds its quantity on its side and its exposure",
      [{ track: ["a", "c1", buy(5, 500)] }],
      { account: "a", instrument: "INFY", view: { buyQty: 5, sellQty: 0, exposure: 500 }, ids: ["c1"] },
    ],
    [
      "holds of one account add up per side",
      [{ track: ["a", "c1", buy(5, 500)] }, { track: ["a", "c2", sell(2, 300)] }, { track: ["a", "c3", buy(1, 100)] }],
      { account: "a", instrument: "INFY", view: { buyQty: 6, sellQty: 2, exposure: 900 }, ids: ["c1", "c2", "c3"] },
    ],
    [
      "quantity is per instrument, exposure over every instrument",
      [{ track: ["a", "c1", buy(5, 500, "TCS")] }, { track: ["a", "c2", sell(2, 300)] }],
      { account: "a", instrument: "INFY", view: { buyQty: 0, sellQty: 2, exposure: 800 }, ids: ["c1", "c2"] },
    ],
    [
      "another account's holds are not seen",
      [{ track: ["b", "c1", buy(5, 500)] }],
      { account: "a", instrument: "INFY", view: NOTHING_IN_FLIGHT, ids: [] },
    ],
    [
      "a released command holds nothing and frees its client order id",
      [{ track: ["a", "c1", buy(5, 500)] }, { track: ["a", "c2", buy(1, 100)] }, { release: 0 }],
      { account: "a", instrument: "INFY", view: { buyQty: 1, sellQty: 0, exposure: 100 }, ids: ["c2"] },
    ],
    [
      "a release runs once however often it is called",
      [{ track: ["a", "c1", buy(5, 500)] }, { track: ["a", "c2", buy(1, 100)] }, { release: 0 }, { release: 0 }],
      { account: "a", instrument: "INFY", view: { buyQty: 1, sellQty: 0, exposure: 100 }, ids: ["c2"] },
    ],
    [
      "a command without a hold (a shrinking replace) still holds its client order id",
      [{ track: ["a", "c1"] }],
      { account: "a", instrument: "INFY", view: { buyQty: 0, sellQty: 0, exposure: 0 }, ids: ["c1"] },
    ],
  ])("%s", (_name, steps, expected) => {
    const flight = new InFlightOrders();
    const releases: (() => void)[] = [];
    for (const step of steps) {
      if ("track" in step) releases.push(flight.track(...step.track));
      else releases[step.release]!();
    }
    expect(flight.of(expected.account, expected.instrument)).toEqual(expected.view);
    const ids = flight.clientOrderIds(expected.account, NO_LIVE_IDS);
    for (const id of ["c1", "c2", "c3"]) expect(ids.has(id), id).toBe(expected.ids.includes(id));
  });

  it("answers for live client order ids through the live view, without copying it", () => {
    const flight = new InFlightOrders();
    const live = new Set(["live"]);
    flight.track("a", "pending");
    const ids = flight.clientOrderIds("a", live);
    live.add("later");
    expect([ids.has("live"), ids.has("pending"), ids.has("later"), ids.has("other")]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(flight.clientOrderIds("b", live)).toBe(live);
  });
});
