import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExecType, Side, TimeInForce, type EngineEvent } from "@tradeplane/contracts";
import { EventFlow, parseRecording, recordedCommands, replayRecorded, SimulatedVenue } from "@tradeplane/backtest";
import { DemoVenue, retry } from "@tradeplane/testkit";

/**
 * A recorded event stream as a backtest's flow, end to end: a real local venue (nats-server,
 * engine, gateway) trades; `tradeplane events export` writes its event stream to a file;
 * `tradeplane backtest --events` runs the market maker over it twice with the same output, a
 * strategy that never trades leaves the recording untouched, and the recording replayed on
 * the core gives the venue's own trades.
 */
const dir = mkdtempSync(join(tmpdir(), "tp-backtest-events-it-"));
let venue: DemoVenue;
let sent = 0;

beforeAll(async () => {
  venue = await DemoVenue.start();
});

afterAll(async () => {
  await venue?.stop();
});

async function submit(
  account: string,
  side: Side,
  price: number,
  qty: number,
  timeInForce: TimeInForce = TimeInForce.DAY,
) {
  const r = await venue.orders.submitLimit({ account, clientOrderId: `o${++sent}`, side, price, qty, timeInForce });
  expect(r.reports[0]?.text ?? "").toBe("");
  expect(r.reports[0]?.execType).not.toBe(ExecType.REJECTED);
  return r;
}

const tradesOf = (events: readonly EngineEvent[]) =>
  events.flatMap((e) =>
    e.body?.$case === "trade" ? [[e.body.value.price, e.body.value.qty, e.body.value.aggressorSide]] : [],
  );

describe("backtest over a venue's recorded events", () => {
  it("exports the venue's events and backtests over them, reproducing its trades", async () => {
    const orders: [string, Side, number, number, TimeInForce?][] = [
      ["demo-mm", Side.SELL, 150_000, 10],
      ["demo-mm", Side.SELL, 150_100, 5],
      ["demo-taker", Side.BUY, 150_000, 4],
      ["demo-mm", Side.BUY, 149_900, 6],
      ["demo-taker", Side.SELL, 149_800, 9],
      ["demo-taker", Side.BUY, 150_100, 12, TimeInForce.IOC],
      ["demo-mm", Side.BUY, 149_700, 8],
      ["demo-taker", Side.SELL, 149_700, 5],
    ];
    for (const [account, side, price, qty, tif] of orders) await submit(account, side, price, qty, tif);

    // The engine publishes events after it applies commands: export until the last order's are in.
    const file = join(dir, "demo.ndjson");
    const recording = await retry(async () => {
      const run = await venue.cli("events", "export", "--out", file);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const r = parseRecording(readFileSync(file, "utf8"));
      expect(r.events.filter((e) => e.event.body?.$case === "accepted")).toHaveLength(orders.length);
      return r;
    });
    expect(recording.header.venue).toBe("demo");
    expect(JSON.stringify(recording.events)).not.toContain("demo-mm");
    const recorded = tradesOf(recording.events.map((e) => e.event));
    expect(recorded.length).toBeGreaterThanOrEqual(4);

    // The recording on the core, no strategy: the venue's trades, in order.
    const sim = new SimulatedVenue(recording.header.instruments);
    const seen: EngineEvent[] = [];
    sim.onEvent((e) => seen.push(e));
    const stats = replayRecorded(EventFlow.over(sim), recordedCommands(recording.events));
    expect(tradesOf(seen)).toEqual(recorded);
    expect(stats).toMatchObject({ cuts: 0, refusedInBacktest: 0, unknownOrders: 0, newOrders: orders.length });

    const mm = ["--json", "backtest", "--strategy", "market-maker", "--events", file];
    const [a, b] = [await venue.cli(...mm), await venue.cli(...mm)];
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const report = JSON.parse(a.stdout) as { orders: number; strategy: string; recording: { venue: string } };
    expect(report).toMatchObject({ strategy: "market-maker", recording: { venue: "demo" } });
    expect(report.orders).toBeGreaterThan(0);

    const idle = join(dir, "idle.mjs");
    writeFileSync(idle, "export function strategy() { return { onBook() {} }; }\n");
    const quiet = await venue.cli("--json", "backtest", "--strategy-module", idle, "--events", file);
    expect(quiet.stderr).toBe("");
    expect(quiet.code).toBe(0);
    expect(JSON.parse(quiet.stdout)).toMatchObject({
      fills: 0,
      recording: { cuts: 0, refusedInBacktest: 0, newOrders: orders.length },
    });
  });
});
