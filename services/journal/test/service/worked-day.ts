import { commandSeqOf, Side, type Command, type EngineEvent } from "@tradeplane/contracts";
import { newLimitOrder } from "@tradeplane/testkit";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { eventRuns } from "@tradeplane/matching-core/event-runs";
import { Partition } from "@tradeplane/matching-core/partition";
import type { StreamMessage } from "../../src/domain/projection.ts";

/**
 * The hand-worked trading day of docs/journal.md and test/domain/clearing.test.ts, as order
 * commands through the real pure matching core, on Thursday 2026-12-03 in IST (09:30 IST =
 * 04:00 UTC). RELIANCE in lots of 1 share, NIFTY-FUT in lots of 75, prices in paise:
 *
 *   1. B sells 10 RELIANCE at 130000, A buys 10 at 130000         (trade 1: A buys from B)
 *   2. A sells 4 RELIANCE at 130500, C buys 4 at 130500           (trade 2: C buys from A)
 *   3. B sells 2 NIFTY-FUT at 2600000, C buys 2 at 2600000         (trade 3: C buys from B)
 *   4. A sells 1 NIFTY-FUT at 2599000, B buys 1 at 2599000         (trade 4: B buys from A)
 *   5. C bids 5 RELIANCE at 129000, replaces it to 3, cancels it   (no trade: OTR only)
 *   6. at 00:00 IST on 2026-12-04: B bids 1 RELIANCE at 130000 and A sells it 1: the next day
 */
export const NOTIONAL_PER_TICK_LOT = new Map([
  ["RELIANCE", 1],
  ["NIFTY-FUT", 75],
]);

const DAY_START_MS = Date.parse("2026-12-03T04:00:00Z");
const NEXT_DAY_MS = Date.parse("2026-12-03T18:30:00Z");

type Step = { account: string; atMs: number; body: Command["body"] };

const order = (account: string, instrument: string, side: Side, qty: number, price: number, atMs: number): Step => ({
  account,
  atMs,
  body: newLimitOrder({ clientOrderId: `${account}-${atMs}`, instrument, side, price, qty }),
});

const at = (n: number) => DAY_START_MS + n * 1000;

/** Log entry n (from 1) holds step n-1; the order C rests in step 9 is the command of entry 9. */
const STEPS: Step[] = [
  order("B", "RELIANCE", Side.SELL, 10, 130_000, at(0)),
  order("A", "RELIANCE", Side.BUY, 10, 130_000, at(1)),
  order("A", "RELIANCE", Side.SELL, 4, 130_500, at(2)),
  order("C", "RELIANCE", Side.BUY, 4, 130_500, at(3)),
  order("B", "NIFTY-FUT", Side.SELL, 2, 2_600_000, at(4)),
  order("C", "NIFTY-FUT", Side.BUY, 2, 2_600_000, at(5)),
  order("A", "NIFTY-FUT", Side.SELL, 1, 2_599_000, at(6)),
  order("B", "NIFTY-FUT", Side.BUY, 1, 2_599_000, at(7)),
  order("C", "RELIANCE", Side.BUY, 5, 129_000, at(8)),
  {
    account: "C",
    atMs: at(9),
    body: {
      $case: "replaceOrder",
      value: {
        instrument: "RELIANCE",
        orderId: commandSeqOf(9, 0),
        clientOrderId: "C-r",
        price: 129_000,
        stopPrice: 0,
        qty: 3,
      },
    },
  },
  {
    account: "C",
    atMs: at(10),
    body: {
      $case: "cancelOrder",
      value: { instrument: "RELIANCE", orderId: commandSeqOf(9, 0), clientOrderId: "C-x", reason: 0 },
    },
  },
  order("B", "RELIANCE", Side.BUY, 1, 130_000, NEXT_DAY_MS),
  order("A", "RELIANCE", Side.SELL, 1, 130_000, NEXT_DAY_MS + 1),
];

/** The order id of C's bid that is replaced and cancelled (step 9). */
export const REPLACED_ORDER_ID = commandSeqOf(9, 0);
/** The order id of A's buy of 10 RELIANCE (step 2), filled in one trade. */
export const FILLED_ORDER_ID = commandSeqOf(2, 0);

/** Every event of the day through the real core, one event-stream message per run. */
export function workedDayMessages(venue: string): { events: EngineEvent[]; messages: StreamMessage[] } {
  const core = Partition.create({
    engine: engineConfigOf({
      instruments: [
        { symbol: "RELIANCE", referencePrice: 130_000 },
        { symbol: "NIFTY-FUT", referencePrice: 2_600_000 },
      ].map((i) => ({
        ...i,
        tickSize: 5,
        lotSize: 1,
        minQty: 1,
        maxQty: 1_000_000,
        maxOrderValue: 0,
        bandPercent: 20,
        initialState: "CONTINUOUS" as const,
        cancelOnHalt: false,
      })),
    }),
  });
  const events: EngineEvent[] = [];
  const messages: StreamMessage[] = [];
  STEPS.forEach((step, n) => {
    const command: Command = {
      timestamp: { seconds: Math.floor(step.atMs / 1000), nanos: (step.atMs % 1000) * 1_000_000 },
      account: step.account,
      source: "test",
      traceparent: "",
      ownerEpoch: 0,
      body: step.body,
    };
    core.apply(commandSeqOf(n + 1, 0), command);
    for (const run of eventRuns(core.wireEvents())) {
      events.push(...run.events);
      messages.push({ seq: messages.length + 1, subject: `tp.${venue}.evt.0.${run.instrument}`, events: run.events });
    }
  });
  return { events, messages };
}
