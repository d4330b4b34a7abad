import { describe, expect, it } from "vitest";
import { OrderStatus } from "@tradeplane/contracts";
import { emptyOrder } from "../src/order-projection.ts";
import { SessionOrders } from "../src/session-orders.ts";

const finished = (orderId: number, clientOrderId: string, instrument = "INFY", account = "a") => ({
  ...emptyOrder(account, instrument, clientOrderId),
  orderId,
  status: OrderStatus.CANCELLED,
});

type Step =
  | { finish: ReturnType<typeof finished> }
  | { retire: [account: string, clientOrderId: string, instrument: string] }
  | { close: string };

describe("SessionOrders", () => {
  it.each<[string, Step[], { used: string[]; free: string[]; orders: number[]; gone: number[] }]>([
    [
      "a finished order's client order id stays taken and the order is remembered",
      [{ finish: finished(1, "c1") }],
      { used: ["c1"], free: ["c2"], orders: [1], gone: [2] },
    ],
    [
      "an id a replace took off a live order stays taken, with no finished order behind it",
      [{ retire: ["a", "c0", "INFY"] }],
      { used: ["c0"], free: [], orders: [], gone: [] },
    ],
    [
      "closing the instrument ends its session: its ids are free again, its orders forgotten",
      [{ finish: finished(1, "c1") }, { retire: ["a", "c0", "INFY"] }, { close: "INFY" }],
      { used: [], free: ["c1", "c0"], orders: [], gone: [1] },
    ],
    [
      "closing another instrument keeps this one's session",
      [{ finish: finished(1, "c1") }, { close: "TCS" }],
      { used: ["c1"], free: [], orders: [1], gone: [] },
    ],
    [
      "only the newest orders are kept per account",
      [{ finish: finished(1, "c1") }, { finish: finished(2, "c2") }, { finish: finished(3, "c3") }],
      { used: ["c2", "c3"], free: ["c1"], orders: [2, 3], gone: [1] },
    ],
    [
      "an id used again counts as new: the oldest other id is the one forgotten",
      [
        { retire: ["a", "c1", "INFY"] },
        { retire: ["a", "c2", "INFY"] },
        { retire: ["a", "c1", "INFY"] },
        { retire: ["a", "c3", "INFY"] },
      ],
      { used: ["c1", "c3"], free: ["c2"], orders: [], gone: [] },
    ],
    [
      "what a close forgot is not evicted again: the ids kept after it are the newest",
      [
        { finish: finished(1, "c1", "TCS") },
        { finish: finished(2, "c2") },
        { close: "TCS" },
        { finish: finished(3, "c3") },
        { finish: finished(4, "c4") },
      ],
      { used: ["c3", "c4"], free: ["c1", "c2"], orders: [3, 4], gone: [1, 2] },
    ],
    [
      "another account's orders are its own",
      [{ finish: finished(1, "c1", "INFY", "b") }],
      { used: [], free: ["c1"], orders: [], gone: [1] },
    ],
  ])("%s", (_name, steps, expected) => {
    const session = new SessionOrders(2);
    for (const step of steps) {
      if ("finish" in step) session.finished(step.finish);
      else if ("retire" in step) session.retired(...step.retire);
      else session.closed(step.close);
    }
    for (const id of expected.used) expect(session.used("a", id), id).toBe(true);
    for (const id of expected.free) expect(session.used("a", id), id).toBe(false);
    for (const id of expected.orders) expect(session.order("a", id)?.orderId).toBe(id);
    for (const id of expected.gone) expect(session.order("a", id)).toBeUndefined();
  });

  it("evicts the oldest of many, in order, long after the first evictions (the queue is compacted)", () => {
    const session = new SessionOrders(1_000);
    for (let i = 1; i <= 200_000; i++) session.finished(finished(i, `c${i}`));
    expect(session.order("a", 199_000)).toBeUndefined();
    expect(session.order("a", 199_001)?.orderId).toBe(199_001);
    expect(session.used("a", "c199000")).toBe(false);
    expect(session.used("a", "c199001")).toBe(true);
    expect(session.entries().orders.map((o) => o.orderId)).toEqual(
      Array.from({ length: 1_000 }, (_, i) => 199_001 + i),
    );
  });

  it("finds a finished order by the client order id it last had, but not by a retired one", () => {
    const session = new SessionOrders();
    session.retired("a", "c0", "INFY");
    session.finished(finished(7, "c1"));
    expect(session.orderByClientId("a", "c1")?.orderId).toBe(7);
    expect(session.orderByClientId("a", "c0")).toBeUndefined();
  });
});
