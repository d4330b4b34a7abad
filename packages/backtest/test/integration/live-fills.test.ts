import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecType, Side } from "@tradeplane/contracts";
import { LiveHost, type Strategy } from "@tradeplane/sdk";
import { DemoVenue } from "@tradeplane/testkit";
import { strategy as fillAnswerer } from "../strategies/fill-answerer.ts";

/**
 * The proof of docs/backtest.md's condition: a strategy whose decisions are keyed to events
 * trades live against a real local venue (nats-server, engine, risk gateway, market data)
 * under its own account, through the SDK's LiveHost, while the test sends the other
 * accounts' orders one at a time and lets the strategy's answers settle before the next.
 * Then `tradeplane backtest --command-log --account alice`, the same strategy module and
 * parameters, leaves alice's logged commands out, lets the strategy generate them again,
 * and gives exactly the live fills (time, instrument, side, price, qty, and their digest),
 * position and realised P&L.
 */

const MODULE = fileURLToPath(new URL("../strategies/fill-answerer.ts", import.meta.url));
const PARAMS = { instrument: "INFY", bid: 149_900, ask: 150_100, qty: 5, step: 10 } as const;
const ME = "alice";

let venue: DemoVenue;
let host: LiveHost | undefined;
const dir = mkdtempSync(join(tmpdir(), "tp-live-fills-"));

beforeAll(async () => {
  venue = await DemoVenue.start();
});

afterAll(async () => {
  await host?.stop();
  await venue?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Submits a limit order; returns its command's sequence. */
async function submit(account: string, side: Side, price: number, qty: number): Promise<number> {
  const clientOrderId = `${account}-${side}-${price}-${qty}-${Date.now()}`;
  const r = await venue.orders.submitLimit({ account, clientOrderId, side, price, qty });
  // The gateway answers once the command's events are projected, the strategy's reports included.
  expect(r.reports[0]?.execType).toBe(ExecType.NEW);
  return r.reports[0]!.commandSeq;
}

/**
 * Waits until the strategy has seen every report the gateway holds for its account and
 * has nothing in flight: each report's answer is sent (pending) before the report's
 * callback returns, so then no answer is on its way and the next order cannot land inside
 * the strategy's decision window.
 */
async function settled(): Promise<void> {
  const driver = host!.driver;
  for (const deadline = Date.now() + 30_000; ;) {
    const gateway = (await venue.orders.positions(ME, "INFY")).asOfReportSequence;
    if (driver.state.pendingCount === 0 && driver.state.lastSequence === gateway) return;
    if (Date.now() > deadline) throw new Error(`the strategy did not settle: ${driver.state.lastSequence}/${gateway}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `tradeplane backtest` of the strategy, as it ran live, over the venue's command log without its own commands. */
function backtest(output: "json" | "text", ...options: string[]) {
  return venue.cli(
    ...(output === "json" ? ["--json"] : []),
    "backtest",
    "--strategy-module",
    MODULE,
    ...Object.entries(PARAMS).flatMap(([k, v]) => ["--param", `${k}=${v}`]),
    "--command-log",
    "--account",
    ME,
    ...options,
  );
}

interface FillRow {
  readonly timeMs: number;
  readonly instrument: string;
  readonly side: string;
  readonly price: number;
  readonly qty: number;
}

describe("a backtest over a live venue's command log", () => {
  it("gives a live strategy's fills, position and realised P&L exactly", async () => {
    const live: FillRow[] = [];
    const answerer = fillAnswerer(PARAMS, ["INFY"]);
    const strategy: Strategy = {
      ...answerer,
      onExecutionReport: (ctx, report) => {
        if (report.execType === ExecType.TRADE && report.order !== undefined)
          live.push({
            timeMs: (report.transactTime?.seconds ?? 0) * 1000 + Math.floor((report.transactTime?.nanos ?? 0) / 1e6),
            instrument: report.order.instrument,
            side: report.order.side === Side.BUY ? "buy" : "sell",
            price: report.lastPrice,
            qty: report.lastQty,
          });
        answerer.onExecutionReport?.(ctx, report);
      },
    };
    // A bid its ask will take when it starts: a taker's fill, at the time of its own command.
    const before = await submit("demo-mm", Side.BUY, 150_150, 5);
    host = await LiveHost.start({
      orderEntry: venue.state.endpoints.orderEntry,
      marketData: venue.state.endpoints.marketData,
      token: venue.tokenOf(ME),
      account: ME,
      instruments: ["INFY"],
      strategy,
      clientOrderIdPrefix: "live-",
    });
    // Its bid (149,900 x 5) rests; its ask (150,100 x 5) sells 5 to demo-mm's bid at 150,150: it bids 5 at 150,140.
    for (const deadline = Date.now() + 30_000; host.driver.state.openOrders().length < 2;) {
      if (Date.now() > deadline) throw new Error("the strategy's quotes were not accepted");
      await new Promise((r) => setTimeout(r, 50));
    }
    await settled();

    // The others' orders, one at a time, each after the strategy's answers settled ("it", "its": the strategy's).
    const flow: [string, Side, number, number][] = [
      ["demo-taker", Side.SELL, 150_140, 5], // takes its 150,140 bid: it offers 5 at 150,150
      ["demo-taker", Side.SELL, 149_900, 3], // fills 3 of its bid: it offers 3 at 149,910
      ["demo-mm", Side.SELL, 149_910, 4], // rests behind its offer at 149,910
      ["demo-taker", Side.BUY, 149_910, 5], // its 3 first (time priority), then 2 of demo-mm's: it bids 3 at 149,900
      ["demo-mm", Side.BUY, 150_000, 2], // meets demo-mm's own offer at 149,910 (self-trade prevention cancels that); rests above its bids
      ["demo-taker", Side.SELL, 149_900, 7], // demo-mm's 2, then its 2 and 3 at 149,900: it offers 2 and 3 at 149,910
      ["demo-taker", Side.BUY, 150_150, 10], // its 2 and 3 at 149,910 and 5 at 150,150: it bids 2 and 3 at 149,900, 5 at 150,140
      ["demo-mm", Side.SELL, 150_140, 1], // 1 of its 150,140 bid: it offers 1 at 150,150
    ];
    // Each order's command sequence, and the live fills once its answers settled.
    const marks: { seq: number; fills: number }[] = [];
    for (const [account, side, price, qty] of flow) {
      const seq = await submit(account, side, price, qty);
      await settled();
      marks.push({ seq, fills: live.length });
    }
    expect(live.length).toBe(10);

    const fillsFile = join(dir, "fills.csv");
    const run = await backtest("json", "--fills", fillsFile);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      fillsDigest: string;
      fills: number;
      gatewayRejects: number;
      realisedPnl: number;
      positions: Record<string, number>;
      commandLog: { applied: number; skipped: number; lastSeq: number; startedBefore: number | null };
    };
    const backtested: FillRow[] = readFileSync(fillsFile, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((row) => {
        const [timeMs, instrument, side, price, qty] = row.split(",");
        return { timeMs: Number(timeMs), instrument: instrument!, side: side!, price: Number(price), qty: Number(qty) };
      });
    expect(backtested).toEqual(live);
    // The times agree too, so the digest (time, instrument, side, price, qty) is the live one:
    // a maker's fill has the time of the command that met it, and its ask's taker fill at the
    // start the time of its own command, whose place and time the backtest's command takes.
    const digest = createHash("sha256");
    for (const f of live)
      digest.update(`${f.timeMs},${f.instrument},${f.side === "buy" ? Side.BUY : Side.SELL},${f.price},${f.qty}\n`);
    expect(report.fillsDigest).toBe(digest.digest("hex"));

    const gateway = (await venue.orders.positions(ME, "INFY")).positions[0]!;
    expect({ net: report.positions.INFY, realised: report.realisedPnl, fills: report.fills }).toEqual({
      net: gateway.netQty,
      realised: gateway.realisedPnl,
      fills: live.length,
    });
    expect(report.gatewayRejects).toBe(0);
    // Its logged commands (2 quotes and an answer per fill) left out; the others' applied.
    expect(report.commandLog.skipped).toBe(2 + live.length);
    expect(report.commandLog.applied).toBeGreaterThanOrEqual(flow.length);
    // It started where it did live: after demo-mm's bid, before its quotes.
    expect(report.commandLog.startedBefore).toBeGreaterThan(before);
    expect(report.commandLog.startedBefore).toBeLessThan(marks[0]!.seq);

    // The same report for people, and the chart.
    const chart = join(dir, "chart.svg");
    const text = await backtest("text", "--chart", chart);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `over the command log of demo (partition 0) through command ${report.commandLog.lastSeq}`,
    );
    expect(text.stdout).toContain(`fills ${live.length} (`);
    expect(text.stdout).toContain(`fills digest ${report.fillsDigest}`);
    expect(readFileSync(chart, "utf8")).toMatch(/^<svg/);

    // Up to --to-seq: the log through the third order gives the live fills as they stood then.
    const cut = await backtest("json", "--to-seq", String(marks[2]!.seq));
    expect(cut.code).toBe(0);
    const upTo = JSON.parse(cut.stdout) as { fills: number; commandLog: { lastSeq: number; applied: number } };
    expect({ fills: upTo.fills, last: upTo.commandLog.lastSeq }).toEqual({
      fills: marks[2]!.fills,
      last: marks[2]!.seq,
    });
  });
});
