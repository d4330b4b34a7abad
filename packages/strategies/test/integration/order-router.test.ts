import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecType, Side } from "@tradeplane/contracts";
import { LiveHost } from "@tradeplane/sdk";
import { CLI_BIN, DemoVenue, REPO_ROOT, type DemoVenueState, type OrderEntryCalls } from "@tradeplane/testkit";
import { bestSingleVenue, type VenueBook } from "../../src/smart-order-router.ts";
import { buildMultiVenueStrategy } from "../../src/registry.ts";
import type { BestExecutionReport, MultiVenueStrategy } from "../../src/order-router.ts";

/**
 * The smart order router across two real venues run at once by local mode (the NSE-like
 * and BSE-like examples listing the same instruments: each its own nats-server, engine,
 * risk gateway and market data): it never fills worse than the best single venue would
 * have, sweeping the better prices of both first, and routes around a halted venue. The
 * router runs in this process, a LiveHost per venue with its account there.
 */

const run = promisify(execFile);
const ROUTER_ACCOUNTS = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: it-router }
spec:
  venueRef: { name: nse }
  account: router-nse
  venues: [{ venueRef: { name: bse }, account: router-bse }]
  strategy: { builtin: smart-order-router, parameters: { side: BUY, totalQty: 1, limitPrice: 1 } }
  instruments: [INFY]
  limits: { maxPosition: 10000, maxOrdersPerSecond: 500 }
  paused: true # local mode provisions both accounts and their tokens; the test runs the router
`;

const dir = mkdtempSync(join(tmpdir(), "tp-router-"));
let venue: DemoVenue;
const states = new Map<string, DemoVenueState>();
const orders = new Map<string, OrderEntryCalls>();
const hosts: LiveHost[] = [];

beforeAll(async () => {
  writeFileSync(join(dir, "router.yaml"), ROUTER_ACCOUNTS);
  venue = await DemoVenue.start(
    join(REPO_ROOT, "examples", "nse.yaml"),
    join(REPO_ROOT, "examples", "bse.yaml"),
    join(dir, "router.yaml"),
  );
  states.set("nse", venue.state);
  states.set("bse", venue.stateOf("bse"));
  orders.set("nse", venue.orders);
  orders.set("bse", venue.ordersOn("bse"));
}, 180_000);

afterAll(async () => {
  for (const h of hosts) await h.stop();
  await venue?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const tokenOn = (v: string, account: string) => states.get(v)!.accounts.find((a) => a.name === account)!.token;

async function rest(v: string, instrument: string, price: number, qty: number, clientOrderId: string): Promise<void> {
  const res = await orders
    .get(v)!
    .submitLimit({ account: "demo-mm", clientOrderId, instrument, side: Side.SELL, price, qty });
  expect(res.reports.map((r) => r.execType)).toEqual([ExecType.NEW]);
}

/** Starts the router over both venues and waits until it has routed everything it can. */
async function route(
  instrument: string,
  totalQty: number,
  limitPrice: number,
  done: (r: BestExecutionReport) => boolean,
) {
  const built = buildMultiVenueStrategy("smart-order-router", { side: "BUY", totalQty, limitPrice, retryMs: 100 }, [
    instrument,
  ]);
  if (!built.ok) throw new Error(JSON.stringify(built.problems));
  const router: MultiVenueStrategy = built.strategy;
  const fills: { venue: string; price: number; qty: number }[] = [];
  // Every leg before any host starts: the router knows its venues by them.
  const legs = new Map(["nse", "bse"].map((v) => [v, router.leg(v)]));
  for (const [v, leg] of legs) {
    const host = await LiveHost.start({
      orderEntry: states.get(v)!.endpoints.orderEntry,
      marketData: states.get(v)!.endpoints.marketData,
      token: tokenOn(v, `router-${v}`),
      account: `router-${v}`,
      instruments: [instrument],
      strategy: {
        ...leg,
        onExecutionReport: (ctx, report) => {
          if (report.execType === ExecType.TRADE)
            fills.push({ venue: v, price: report.lastPrice, qty: report.lastQty });
          leg.onExecutionReport?.(ctx, report);
        },
      },
      clientOrderIdPrefix: `${instrument}-${v}-`,
    });
    hosts.push(host);
  }
  const deadline = Date.now() + 60_000;
  while (!done(router.report())) {
    if (Date.now() > deadline) throw new Error(`router not done: ${JSON.stringify(router.report())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { report: router.report(), fills };
}

describe("the smart order router across two real venues", () => {
  it("sweeps the better prices of both venues first and fills no worse than the best single venue", async () => {
    const nse = [
      { price: 150_000, qty: 20 },
      { price: 150_020, qty: 20 },
      { price: 150_040, qty: 50 },
    ];
    const bse = [
      { price: 150_010, qty: 30 },
      { price: 150_030, qty: 30 },
      { price: 150_050, qty: 50 },
    ];
    for (const [n, l] of nse.entries()) await rest("nse", "INFY", l.price, l.qty, `nse-${n}`);
    for (const [n, l] of bse.entries()) await rest("bse", "INFY", l.price, l.qty, `bse-${n}`);
    const limit = 150_040;
    // What each venue alone would have given for the parent, from the books as displayed.
    const books: VenueBook[] = [
      { venue: "nse", bids: [], asks: nse, tradable: true },
      { venue: "bse", bids: [], asks: bse, tradable: true },
    ];
    const single = bestSingleVenue(Side.BUY, 100, limit, books)!;
    expect(single).toEqual({ venue: "nse", filled: 90, notional: 20 * 150_000 + 20 * 150_020 + 50 * 150_040 });

    const { report, fills } = await route("INFY", 100, limit, (r) => r.filledQty >= 100);
    expect(report.filledQty).toBe(100);
    // Best prices first across both venues: 20@150000 NSE, 30@150010 BSE, 20@150020 NSE, 30@150030 BSE.
    expect(report.filledNotional).toBe(20 * 150_000 + 30 * 150_010 + 20 * 150_020 + 30 * 150_030);
    expect(fills.every((f) => f.price <= limit)).toBe(true);
    // No worse than the best single venue: at least its quantity, that quantity no dearer, and
    // a lower average price over all it filled.
    expect(report.filledQty).toBeGreaterThanOrEqual(single.filled);
    const cheapest90 = [...fills]
      .sort((a, b) => a.price - b.price)
      .reduce(
        (acc, f) => {
          const take = Math.min(single.filled - acc.qty, f.qty);
          return { qty: acc.qty + take, notional: acc.notional + take * f.price };
        },
        { qty: 0, notional: 0 },
      );
    expect(cheapest90.notional).toBeLessThanOrEqual(single.notional);
    expect(report.filledNotional * single.filled).toBeLessThanOrEqual(single.notional * report.filledQty);
    // The report: each child with its venue and price, each round with what it improved on.
    expect(report.rounds[0]).toMatchObject({ round: 1, qty: 100, routedQty: 100, improvedOn: single, skipped: [] });
    expect(report.children.map((c) => ({ venue: c.venue, price: c.price, qty: c.qty, filled: c.filledQty }))).toEqual([
      { venue: "bse", price: 150_030, qty: 60, filled: 60 },
      { venue: "nse", price: 150_020, qty: 40, filled: 40 },
    ]);
  });

  it("routes around a halted venue, though it shows the better price", async () => {
    await rest("bse", "TCS", 319_900, 50, "bse-tcs");
    await rest("nse", "TCS", 320_000, 50, "nse-tcs");
    const bseDir = venue.dirOf("bse");
    await run(process.execPath, [CLI_BIN, "--data-dir", bseDir, "halt", "TCS", "--reason", "router test"]);
    try {
      const { report, fills } = await route("TCS", 40, 320_100, (r) => r.filledQty >= 40);
      expect(report.filledQty).toBe(40);
      expect(fills.every((f) => f.venue === "nse" && f.price === 320_000)).toBe(true);
      expect(report.rounds[0]).toMatchObject({ skipped: ["bse"], improvedOn: { venue: "nse", filled: 40 } });
      expect(report.children.map((c) => c.venue)).toEqual(["nse"]);
    } finally {
      await run(process.execPath, [CLI_BIN, "--data-dir", bseDir, "resume", "TCS"]);
    }
  });
});
