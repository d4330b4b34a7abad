import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecType, RejectReason, rejectReasonToJSON, Side } from "@tradeplane/contracts";
import { LiveHost, type Strategy } from "@tradeplane/sdk";
import { DemoVenue, EXAMPLE_VENUE } from "@tradeplane/testkit";
import { buildStrategy } from "../../src/registry.ts";

/**
 * The built-in strategies against the real services (`tradeplane up --headless`:
 * nats-server, engine, risk gateway and market data as processes), each doing what its
 * parameters say. Flow comes from a noise taker run by local mode as its own strategy
 * runtime; the strategies under test run in this process through the SDK's LiveHost, so
 * that every report they see can be checked, and the TWAP's clock is driven by the test.
 */

const DEPLOYMENTS = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: it-flow }
spec:
  venueRef: { name: demo }
  account: it-noise
  strategy: { builtin: noise-taker, parameters: { everyMs: 25, maxQty: 8, maxPosition: 400, seed: 5 } }
  instruments: [INFY, TCS]
  limits: { maxPosition: 1000, maxOrdersPerSecond: 200 }
${["it-maker", "it-momentum", "it-twap"]
  .map(
    (account) => `---
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: ${account} }
spec:
  venueRef: { name: demo }
  account: ${account}
  strategy: { builtin: market-maker }
  instruments: [INFY]
  limits: { maxPosition: 1000, maxOrdersPerSecond: 500 }
  paused: true # local mode provisions the account and its token; the test runs the strategy
`,
  )
  .join("")}`;

const dir = mkdtempSync(join(tmpdir(), "tp-live-strategies-"));
let venue: DemoVenue;
const hosts: LiveHost[] = [];

beforeAll(async () => {
  const file = join(dir, "deployments.yaml");
  writeFileSync(file, DEPLOYMENTS);
  venue = await DemoVenue.start(EXAMPLE_VENUE, file);
});

afterAll(async () => {
  for (const h of hosts) await h.stop();
  await venue?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function built(builtin: string, parameters: Record<string, number | string>, instruments: string[]): Strategy {
  const r = buildStrategy(builtin, parameters, instruments);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.strategy;
}

/**
 * Refusals a strategy cannot foresee: its cancel or replace meeting a fill on the way, or a
 * post-only quote meeting a price that moved on the way. Any other refusal by the gateway
 * is one its limits (the SDK's LimitGuard) should have kept it from sending.
 */
const RACES = new Set<number>([
  RejectReason.UNKNOWN_ORDER,
  RejectReason.ORDER_FINISHED,
  RejectReason.POST_ONLY_WOULD_TAKE,
]);

/** Wraps a strategy to see, after every report it gets, the position the SDK holds, and the gateway's rejects. */
function watched(
  strategy: Strategy,
  onReport: (netQty: (i: string) => number) => void,
  refused: string[] = [],
): Strategy {
  return {
    ...strategy,
    onExecutionReport: (ctx, report) => {
      strategy.onExecutionReport?.(ctx, report);
      if (report.execType === ExecType.REJECTED && !RACES.has(report.rejectReason))
        refused.push(rejectReasonToJSON(report.rejectReason));
      onReport((i) => ctx.position(i).netQty);
    },
  };
}

/** The log of a host, keeping the gateway's refusals of requests (acks) that are not races. */
function refusalLog(refused: string[]) {
  return (message: string, fields: Record<string, unknown> = {}) => {
    const reason = fields.reason;
    if (message === "request refused by the gateway" && typeof reason === "string" && !isRace(reason))
      refused.push(reason);
  };
}

const isRace = (name: string) => [...RACES].some((r) => rejectReasonToJSON(r as RejectReason) === name);

async function run(
  account: string,
  strategy: Strategy,
  instruments: string[],
  extra: { clock?: () => number; log?: (m: string, f?: Record<string, unknown>) => void } = {},
) {
  const host = await LiveHost.start({
    orderEntry: venue.state.endpoints.orderEntry,
    marketData: venue.state.endpoints.marketData,
    token: venue.tokenOf(account),
    account,
    instruments,
    strategy,
    clientOrderIdPrefix: `${account}-`,
    ...extra,
  });
  hosts.push(host);
  return host;
}

async function until(what: string, check: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rest(instrument: string, side: Side, price: number, qty: number, clientOrderId: string): Promise<void> {
  const res = await venue.orders.submitLimit({ account: "demo-mm", clientOrderId, instrument, side, price, qty });
  expect(res.reports.map((r) => r.execType)).toEqual([ExecType.NEW]);
}

describe("the built-in strategies against the real services", () => {
  it.each<{
    name: string;
    builtin: string;
    params: Record<string, number>;
    account: string;
    fills: number;
    bound: number;
  }>([
    {
      name: "the market maker trades against the flow and its inventory never leaves ±maxInventory",
      builtin: "market-maker",
      params: { spreadTicks: 2, quoteQty: 6, maxInventory: 15, staleMs: 0, refreshMs: 50 },
      account: "it-maker",
      // Enough fills that the flow, random in side, has pushed the inventory to its bound.
      fills: 40,
      bound: 15,
    },
    {
      name: "the momentum taker takes liquidity after the moves it is set for, within its position bound",
      builtin: "momentum-taker",
      params: { lookbackTrades: 3, thresholdTicks: 1, qty: 2, maxPosition: 6, cooldownMs: 0 },
      account: "it-momentum",
      fills: 5,
      bound: 6,
    },
  ])("$name", async ({ builtin, params, account, fills, bound }) => {
    let worst = 0;
    const refused: string[] = [];
    const strategy = watched(
      built(builtin, params, ["INFY", "TCS"]),
      (net) => (worst = Math.max(worst, Math.abs(net("INFY")), Math.abs(net("TCS")))),
      refused,
    );
    const host = await run(account, strategy, ["INFY", "TCS"], { log: refusalLog(refused) });
    await until(`${fills} fills of ${builtin}`, () => host.counters.fills >= fills);
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(bound);
    for (const p of (await venue.orders.positions(account)).positions)
      expect(Math.abs(p.netQty), p.instrument).toBeLessThanOrEqual(bound);
    expect(refused).toEqual([]);
  });

  it("TWAP sends slice k of n in the k-th n-th of its window and completes on schedule, never beyond its limit", async () => {
    // SBIN: no other strategy trades it. Liquidity within the limit, and more beyond it.
    await rest("SBIN", Side.SELL, 80_000, 100, "sbin-within");
    await rest("SBIN", Side.SELL, 80_050, 100, "sbin-beyond");
    const params = { side: "BUY", totalQty: 50, durationMs: 10_000, slices: 5, limitPrice: 80_010 };
    let now = 1_000_000_000_000;
    const records: { message: string; fields: Record<string, unknown> }[] = [];
    const fills: number[] = [];
    const twap = built("twap", params, ["SBIN"]);
    const host = await run(
      "it-twap",
      {
        ...twap,
        onExecutionReport: (ctx, report) => {
          if (report.execType === ExecType.TRADE) fills.push(report.lastPrice);
          twap.onExecutionReport?.(ctx, report);
        },
      },
      ["SBIN"],
      { clock: () => now, log: (message, fields = {}) => records.push({ message, fields }) },
    );
    const settled = () => host.driver.state.pendingCount === 0;
    const children = () => records.filter((r) => r.message === "twap child");
    // Market data may arrive after the start: the first slice goes on the first timer then.
    for (let k = 1; k <= 5; k++) {
      if (k > 1) now += params.durationMs / params.slices;
      await until(`slice ${k}`, () => host.counters.filledQty >= (params.totalQty * k) / params.slices && settled());
    }
    expect(children().map((c) => c.fields.slice)).toEqual([1, 2, 3, 4, 5]);
    children().forEach((c, i) => {
      const start = (i * params.durationMs) / params.slices;
      expect(c.fields.elapsedMs as number).toBeGreaterThanOrEqual(start);
      expect(c.fields.elapsedMs as number).toBeLessThan(start + params.durationMs / params.slices);
      expect(c.fields).toMatchObject({ qty: 10, filled: 10 * i, price: 80_000 });
    });
    const complete = records.find((r) => r.message === "twap complete");
    expect(complete?.fields).toMatchObject({ filled: 50 });
    expect(complete!.fields.elapsedMs as number).toBeLessThanOrEqual(params.durationMs);
    expect(fills.every((p) => p <= params.limitPrice)).toBe(true);
    // The window is over: nothing more is sent, though liquidity beyond the limit remains.
    now += params.durationMs;
    await new Promise((r) => setTimeout(r, 200));
    expect(children()).toHaveLength(5);
    const sbin = (await venue.orders.positions("it-twap")).positions.find((p) => p.instrument === "SBIN");
    expect(sbin?.netQty).toBe(50);
  });
});
