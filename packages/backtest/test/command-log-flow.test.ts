import { describe, expect, it } from "vitest";
import { CancelReason, Side, TimeInForce, type Command, type EngineEvent } from "@tradeplane/contracts";
import { newLimitOrder } from "@tradeplane/testkit";
import { Backtest, type Fill } from "../src/backtest.ts";
import { CommandLogFlow, firstStrategyCommand, isStrategyCommand, type LogEntry } from "../src/command-log-flow.ts";
import type { SimInstrument } from "../src/simulated-venue.ts";
import { strategy as fillAnswerer } from "./strategies/fill-answerer.ts";

const X: SimInstrument = {
  symbol: "X",
  tickSize: 1,
  lotSize: 1,
  minQty: 1,
  maxQty: 1_000_000,
  maxOrderValue: 0,
  referencePrice: 100,
  bandPercent: 0,
  initialState: "CONTINUOUS",
  cancelOnHalt: false,
  notionalPerTickLot: 1,
};
const ME = new Set(["s"]);

function command(account: string, body: Command["body"], ms = 1_000): Command {
  return {
    timestamp: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 },
    account,
    source: "test",
    traceparent: "",
    ownerEpoch: 0,
    body,
  };
}

function order(account: string, side: Side, price: number, qty: number, ms?: number): Command {
  const clientOrderId = `${account}${price}${qty}`;
  return command(
    account,
    newLimitOrder({ clientOrderId, instrument: "X", side, timeInForce: TimeInForce.GTC, price, qty }),
    ms,
  );
}

function massCancel(account: string, reason: CancelReason, allAccounts = false): Command {
  return command(account, {
    $case: "massCancel",
    value: { instrument: "", side: 0, allAccounts, reason, clientOrderId: "" },
  });
}

/** Runs the fill answerer (bid 99, ask 101, 5 lots, step 1 unless given) over `log` as account `s`. */
function run(log: LogEntry[], toSeq?: number, step = 1) {
  const fills: Fill[] = [];
  const bt = new Backtest({
    instruments: [X],
    strategy: fillAnswerer({ bid: 99, ask: 101, qty: 5, step }, ["X"]),
    account: "s",
    startMs: 0,
    deferStart: true,
    onStrategyFill: (f) => fills.push(f),
  });
  const events: EngineEvent[] = [];
  bt.venue.onEvent((e) => events.push(e));
  const startSeq = log.map((e) => firstStrategyCommand(e, ME)).find((s) => s !== undefined) ?? 0;
  const flow = new CommandLogFlow(bt, { accounts: ME, startSeq, ...(toSeq !== undefined ? { toSeq } : {}) });
  for (const entry of log) if (!flow.finished) flow.entry(entry);
  flow.end();
  const accepted = events.flatMap((e) =>
    e.body?.$case === "accepted"
      ? [{ seq: e.commandSeq, account: e.body.value.account, id: e.body.value.orderId }]
      : [],
  );
  const rejected = events.flatMap((e) => (e.body?.$case === "rejected" ? [e.body.value.reason] : []));
  return { flow, fills, accepted, rejected, report: bt.report() };
}

/** A live run's log: the strategy's own orders (quotes, then answers) between the others'. */
const LIVE: LogEntry[] = [
  { seq: 1, commands: [order("s", Side.BUY, 99, 5)] },
  { seq: 2, commands: [order("s", Side.SELL, 101, 5)] },
  { seq: 3, commands: [order("a", Side.SELL, 99, 3)] }, // fills 3 of its bid: it sells 3 at 100
  { seq: 4, commands: [order("s", Side.SELL, 100, 3)] },
  { seq: 5, commands: [order("b", Side.BUY, 100, 3)] }, // fills its 100 offer: it bids 3 at 99
  { seq: 6, commands: [order("s", Side.BUY, 99, 3)] },
];

/** A fill of the strategy's as the cases below give it: side, price, qty, and its time where that is the point. */
type FillRow = { side: Side; price: number; qty: number; timeMs?: number };

describe("a backtest over a command log", () => {
  it.each<{ name: string; log: LogEntry[]; step?: number; accepted: string[]; fills: FillRow[] }>([
    {
      name: "leaves the strategy's commands out, applies the others at their sequences, and the strategy's own between them",
      log: LIVE,
      // The others' orders have their logged sequences; the strategy's take the free
      // sequences before the next logged command (its start quotes before the first).
      accepted: ["1 s", "2 s", "3000 a", "3001 s", "5000 b", "5001 s"],
      fills: [
        { side: Side.BUY, price: 99, qty: 3 },
        { side: Side.SELL, price: 100, qty: 3 },
      ],
    },
    {
      name: "holds an answer to a command until the next logged command of the same entry has been applied",
      log: [
        ...LIVE.slice(0, 2),
        // Its answer to a's sell (sell 3 at 100) lands after b's bid of the same entry, and takes it.
        { seq: 3, commands: [order("a", Side.SELL, 99, 3), order("b", Side.BUY, 100, 2)] },
        { seq: 4, commands: [order("b", Side.BUY, 100, 1)] },
      ],
      accepted: ["1 s", "2 s", "3000 a", "3001 b", "3002 s", "3003 s", "4000 b", "4001 s"],
      fills: [
        { side: Side.BUY, price: 99, qty: 3 },
        { side: Side.SELL, price: 100, qty: 2 },
        { side: Side.SELL, price: 100, qty: 1 },
      ],
    },
    {
      name: "applies each of the strategy's commands in the place and at the time of its left-out one",
      // A step of -1 answers across the spread: the answer to its bid's fill takes b's bid.
      log: [
        { seq: 1, commands: [order("s", Side.BUY, 99, 5, 1_000)] },
        { seq: 2, commands: [order("s", Side.SELL, 101, 5, 2_000)] },
        { seq: 3, commands: [order("b", Side.BUY, 98, 3, 3_000)] },
        { seq: 4, commands: [order("a", Side.SELL, 99, 3, 4_000)] }, // fills 3 of its bid: it sells 3 at 98
        { seq: 5, commands: [order("s", Side.SELL, 98, 3, 4_007)] }, // live, 7 ms later
        { seq: 6, commands: [order("s", Side.BUY, 99, 3, 4_012)] }, // its answer to that fill
        { seq: 7, commands: [order("a", Side.SELL, 99, 1, 5_000)] },
      ],
      step: -1,
      accepted: ["1 s", "2 s", "3000 b", "4000 a", "4001 s", "4002 s", "7000 a", "7001 s"],
      fills: [
        { timeMs: 4_000, side: Side.BUY, price: 99, qty: 3 },
        { timeMs: 4_007, side: Side.SELL, price: 98, qty: 3 }, // a taker's fill, at its live time
        { timeMs: 5_000, side: Side.BUY, price: 99, qty: 1 },
      ],
    },
    {
      name: "starts the strategy at the log's start when its account has no command",
      log: LIVE.filter((e) => e.seq === 3 || e.seq === 5),
      accepted: ["1 s", "2 s", "3000 a", "3001 s", "5000 b", "5001 s"],
      fills: [
        { side: Side.BUY, price: 99, qty: 3 },
        { side: Side.SELL, price: 100, qty: 3 },
      ],
    },
  ])("$name", ({ log, step, accepted, fills }) => {
    const r = run(log, undefined, step);
    expect(r.rejected).toEqual([]);
    expect(r.accepted.map((a) => `${a.seq} ${a.account}`)).toEqual(accepted);
    // Every order's id is the sequence of the command that entered it.
    expect(r.accepted.map((a) => a.id)).toEqual(r.accepted.map((a) => a.seq));
    expect(r.fills).toMatchObject(fills);
    expect(r.fills.every((f) => f.instrument === "X")).toBe(true);
  });

  it("counts the others' commands applied and its own skipped, and ends flat with the P&L of its two fills", () => {
    const { flow, report } = run(LIVE);
    expect({ applied: flow.applied, skipped: flow.skipped, startedBefore: flow.startedBefore }).toEqual({
      applied: 2,
      skipped: 4,
      startedBefore: 1_000,
    });
    expect({ realised: report.realisedPnl, position: report.positions.X }).toEqual({ realised: 3, position: 0 });
  });

  it("stops after --to-seq", () => {
    const { flow, fills } = run(LIVE, 3_000);
    expect({ applied: flow.applied, skipped: flow.skipped, last: flow.lastSeq }).toEqual({
      applied: 1,
      skipped: 2,
      last: 3_000,
    });
    expect(flow.finished).toBe(true);
    expect(fills).toHaveLength(1); // its bid; its answer (sell 3 at 100) rests
  });

  it.each([
    ["its new order", order("s", Side.BUY, 1, 1), true],
    [
      "its cancel",
      command("s", { $case: "cancelOrder", value: { instrument: "X", orderId: 1, clientOrderId: "", reason: 0 } }),
      true,
    ],
    ["its mass cancel", massCancel("s", CancelReason.UNSPECIFIED), true],
    ["its gateway's fence", command("s", { $case: "fenceAccount", value: { epoch: 2 } }), true],
    ["a kill switch's cancel of it", massCancel("s", CancelReason.KILL_SWITCH), false],
    ["a cancel on disconnect", massCancel("s", CancelReason.CANCEL_ON_DISCONNECT), false],
    [
      "a kill switch's block",
      command("s", { $case: "blockAccount", value: { blocked: true, allAccounts: false, reason: "" } }),
      false,
    ],
    ["another account's order", order("a", Side.BUY, 1, 1), false],
    ["an undecodable entry", undefined, false],
  ] as const)("%s is the strategy's: %s", (_name, c, skipped) => {
    expect(isStrategyCommand(c, ME)).toBe(skipped);
  });
});
