import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata } from "@grpc/grpc-js";
import {
  ExecType,
  OrderEntryClient,
  OrderType,
  Side,
  TimeInForce,
  type EngineEvent,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { EventFlow, parseRecording, recordedCommands, replayRecorded, SimulatedVenue } from "@tradeplane/backtest";
import { DemoVenue, retry, unary } from "@tradeplane/testkit";

/**
 * A recorded event stream as a backtest's flow, end to end: a real local venue (nats-server,
 * engine, gateway) trades; `tradeplane events export` writes its event stream to a file;
 * `tradeplane backtest --events` runs the market maker over it twice with the same output, a
 * strategy that never trades leaves the recording untouched, and the recording replayed on
 * the core gives the venue's own trades.
 */
const BIN = fileURLToPath(new URL("../../bin/tradeplane.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tp-backtest-events-it-"));
let venue: DemoVenue;
let sent = 0;

beforeAll(async () => {
  venue = await DemoVenue.start();
});

afterAll(async () => {
  await venue?.stop();
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, "--data-dir", venue.dir, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 99, stdout, stderr });
    });
  });
}

async function submit(account: string, side: Side, price: number, qty: number, tif: TimeInForce = TimeInForce.DAY) {
  const client = new OrderEntryClient(venue.state.endpoints.orderEntry, credentials.createInsecure());
  const m = new Metadata();
  m.set("authorization", `Bearer ${venue.tokenOf(account)}`);
  try {
    const r = await unary<SubmitOrderResponse>((cb) =>
      client.submitOrder(
        {
          account,
          clientOrderId: `o${++sent}`,
          instrument: "INFY",
          side,
          orderType: OrderType.LIMIT,
          timeInForce: tif,
          price,
          stopPrice: 0,
          qty,
          postOnly: false,
          stpMode: 0,
          expireTime: undefined,
          displayQty: 0,
          stpGroup: 0,
        },
        m,
        cb,
      ),
    );
    expect(r.reports[0]?.text ?? "").toBe("");
    expect(r.reports[0]?.execType).not.toBe(ExecType.REJECTED);
    return r;
  } finally {
    client.close();
  }
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
      const run = await cli("events", "export", "--out", file);
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
    const [a, b] = [await cli(...mm), await cli(...mm)];
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const report = JSON.parse(a.stdout) as { orders: number; strategy: string; recording: { venue: string } };
    expect(report).toMatchObject({ strategy: "market-maker", recording: { venue: "demo" } });
    expect(report.orders).toBeGreaterThan(0);

    const idle = join(dir, "idle.mjs");
    writeFileSync(idle, "export function strategy() { return { onBook() {} }; }\n");
    const quiet = await cli("--json", "backtest", "--strategy-module", idle, "--events", file);
    expect(quiet.stderr).toBe("");
    expect(quiet.code).toBe(0);
    expect(JSON.parse(quiet.stdout)).toMatchObject({
      fills: 0,
      recording: { cuts: 0, refusedInBacktest: 0, newOrders: orders.length },
    });
  });
});
