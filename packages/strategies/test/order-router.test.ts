import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExecType, InstrumentState, OrderType, Side, TimeInForce } from "@tradeplane/contracts";
import { SimulatedVenue } from "@tradeplane/backtest";
import { StrategyDriver } from "@tradeplane/sdk";
import { BOOK_WAIT_MS, orderRouter, orderRouterParams } from "../src/order-router.ts";
import { bestSingleVenue, type VenueBook } from "../src/smart-order-router.ts";
import { INSTRUMENTS } from "./support.ts";

/**
 * The live router over two simulated venues (the real matching core each), its legs
 * driven by the SDK's driver as the runtime drives them: on books that stand still, what
 * it fills is exactly the cheapest liquidity within the limit across both venues, so never
 * worse than the best single venue; a halted venue is skipped; nothing fills beyond the limit.
 */

interface Level {
  readonly price: number;
  readonly qty: number;
}

const START_MS = 1_767_225_600_000;

function venueWith(asks: readonly Level[], halted = false): SimulatedVenue {
  const v = new SimulatedVenue(INSTRUMENTS, START_MS);
  asks.forEach((l, n) =>
    v.apply(
      "seller",
      {
        $case: "newOrder",
        value: {
          clientOrderId: `s${n}`,
          instrument: "INFY",
          side: Side.SELL,
          orderType: OrderType.LIMIT,
          timeInForce: TimeInForce.DAY,
          price: l.price,
          stopPrice: 0,
          qty: l.qty,
          postOnly: false,
          stpMode: 0,
          displayQty: 0,
          stpGroup: 0,
        },
      },
      START_MS,
    ),
  );
  if (halted)
    v.apply(
      "admin",
      {
        $case: "setInstrumentState",
        value: { instrument: "INFY", state: InstrumentState.HALTED, reason: "test", fromStates: [] },
      },
      START_MS,
    );
  return v;
}

function runRouter(
  totalQty: number,
  limitPrice: number,
  venues: Record<string, SimulatedVenue>,
  unreachable: readonly string[] = [],
) {
  const router = orderRouter(orderRouterParams.parse({ side: "BUY", totalQty, limitPrice, retryMs: 100 }), ["INFY"]);
  const fills: { venue: string; price: number; qty: number }[] = [];
  const drivers = Object.entries(venues).map(([name, v]) => {
    const leg = router.leg(name, () => !unreachable.includes(name));
    const driver = new StrategyDriver({
      account: "router",
      strategy: {
        ...leg,
        onExecutionReport: (ctx, r) => {
          if (r.execType === ExecType.TRADE) fills.push({ venue: name, price: r.lastPrice, qty: r.lastQty });
          leg.onExecutionReport?.(ctx, r);
        },
      },
      orders: v.portFor("router"),
      market: v,
      clock: () => v.nowMs,
      clientOrderIdPrefix: `${name}-`,
    });
    v.attach("router", driver);
    return { v, driver };
  });
  for (const d of drivers) d.driver.start();
  // Time moves on both venues together, so re-routing timers fire.
  for (let ms = START_MS; ms <= START_MS + BOOK_WAIT_MS + 1_000; ms += 50) for (const d of drivers) d.v.advanceTo(ms);
  return { report: router.report(), fills };
}

/** The cheapest `qty` lots within the limit across every venue: the best any route can do. */
function cheapest(qty: number, limit: number, books: readonly (readonly Level[])[]) {
  const levels = books
    .flat()
    .filter((l) => l.price <= limit)
    .sort((a, b) => a.price - b.price);
  let left = qty;
  let notional = 0;
  for (const l of levels) {
    const take = Math.min(left, l.qty);
    left -= take;
    notional += take * l.price;
  }
  return { filled: qty - left, notional };
}

const bookArb = fc.array(
  fc.record({ price: fc.integer({ min: 99_950, max: 100_050 }), qty: fc.integer({ min: 1, max: 40 }) }),
  { maxLength: 6 },
);

describe("the live smart order router on two simulated venues", () => {
  it("fills the cheapest liquidity within the limit across both venues, so never worse than the best single venue", () => {
    fc.assert(
      fc.property(
        bookArb,
        bookArb,
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 99_950, max: 100_060 }),
        (a, b, totalQty, limit) => {
          const { report, fills } = runRouter(totalQty, limit, { nse: venueWith(a), bse: venueWith(b) });
          const best = cheapest(totalQty, limit, [a, b]);
          expect(fills.every((f) => f.price <= limit)).toBe(true);
          expect({ filled: report.filledQty, notional: report.filledNotional }).toEqual(best);
          const asBook = (venue: string, asks: readonly Level[]): VenueBook => ({
            venue,
            bids: [],
            asks: aggregate(asks),
            tradable: true,
          });
          const single = bestSingleVenue(Side.BUY, totalQty, limit, [asBook("nse", a), asBook("bse", b)]);
          // Never worse than the best single venue: at least its quantity, and that quantity no dearer.
          if (single !== undefined) {
            expect(report.filledQty).toBeGreaterThanOrEqual(single.filled);
            expect(cheapestOf(fills, single.filled)).toBeLessThanOrEqual(single.notional);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("skips a halted venue, though it shows the better price, and records it as skipped", () => {
    const { report, fills } = runRouter(30, 100_010, {
      nse: venueWith([{ price: 100_005, qty: 50 }]),
      bse: venueWith([{ price: 99_990, qty: 50 }], true),
    });
    expect(report.filledQty).toBe(30);
    expect(fills).toEqual([{ venue: "nse", price: 100_005, qty: 30 }]);
    expect(report.rounds[0]).toMatchObject({ skipped: ["bse"], improvedOn: { venue: "nse", filled: 30 } });
  });

  it("skips a venue whose order entry is unreachable", () => {
    const { report, fills } = runRouter(
      30,
      100_010,
      { nse: venueWith([{ price: 100_005, qty: 50 }]), bse: venueWith([{ price: 99_990, qty: 50 }]) },
      ["bse"],
    );
    expect(fills).toEqual([{ venue: "nse", price: 100_005, qty: 30 }]);
    expect(report.rounds[0]).toMatchObject({ skipped: ["bse"] });
  });

  it("routes only what is displayed within the limit, and leaves the rest unfilled", () => {
    const nse = venueWith([{ price: 100_000, qty: 10 }]);
    const bse = venueWith([{ price: 100_100, qty: 50 }]);
    const { report } = runRouter(25, 100_020, { nse, bse });
    expect(report.filledQty).toBe(10);
    expect(report.children).toHaveLength(1);
  });
});

/** The notional of the cheapest `qty` lots among fills. */
export function cheapestOf(fills: readonly { price: number; qty: number }[], qty: number): number {
  let left = qty;
  let notional = 0;
  for (const f of [...fills].sort((a, b) => a.price - b.price)) {
    const take = Math.min(left, f.qty);
    left -= take;
    notional += take * f.price;
  }
  return notional;
}

/** Levels of a side as a book shows them: one per price, best (lowest ask) first. */
function aggregate(asks: readonly Level[]): Level[] {
  const by = new Map<number, number>();
  for (const l of asks) by.set(l.price, (by.get(l.price) ?? 0) + l.qty);
  return [...by.entries()].sort(([x], [y]) => x - y).map(([price, qty]) => ({ price, qty }));
}
