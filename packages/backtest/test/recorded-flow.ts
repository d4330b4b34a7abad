import { InstrumentState, OrderType, TimeInForce, type EngineEvent } from "@tradeplane/contracts";
import { prng } from "@tradeplane/testkit";
import type { RecordedEvent } from "../src/recording.ts";
import { SimulatedVenue, type SimInstrument } from "../src/simulated-venue.ts";

export const RECORDED_INSTRUMENT: SimInstrument = Object.freeze({
  symbol: "REC",
  tickSize: 1,
  lotSize: 1,
  minQty: 1,
  maxQty: 1_000_000,
  maxOrderValue: 0,
  referencePrice: 100_000,
  bandPercent: 0,
  initialState: "CONTINUOUS",
  cancelOnHalt: false,
  notionalPerTickLot: 1,
});

export const RECORDING_START_MS = 1_767_225_600_000;
const ACCOUNTS = ["alice", "bob", "carol", "dave", "erin"];

/**
 * A venue's recording made in process: a random flow of limit (GTC, DAY, IOC), market and
 * stop orders, cancels, replaces and now and then a call auction (PRE_OPEN, then CONTINUOUS:
 * an uncross) from five accounts (so self-trade prevention acts), applied to a simulated
 * venue whose events are recorded as the engine would publish them.
 */
export function recordFlow(commands: number, seed: number): { events: RecordedEvent[]; venue: SimulatedVenue } {
  const rnd = prng(seed);
  const venue = new SimulatedVenue([RECORDED_INSTRUMENT], RECORDING_START_MS);
  const events: RecordedEvent[] = [];
  venue.onEvent((event: EngineEvent) => events.push({ partition: 0, event }));
  const entered: { id: number; account: string }[] = [];
  let inAuction = false;
  for (let i = 0; i < commands; i++) {
    const t = RECORDING_START_MS + Math.floor(i / 2);
    const r = rnd();
    const pick = () => entered[Math.floor(rnd() * entered.length)]!;
    if (r < 0.62 || entered.length === 0) {
      const account = ACCOUNTS[Math.floor(rnd() * ACCOUNTS.length)]!;
      const side = rnd() < 0.5 ? 1 : 2;
      const k = rnd();
      const market = k < 0.08;
      const ioc = k >= 0.08 && k < 0.16;
      const stop = k >= 0.16 && k < 0.19;
      const price = side === 1 ? 99_990 + Math.floor(rnd() * 15) : 99_996 + Math.floor(rnd() * 15);
      const id = venue.apply(
        account,
        {
          $case: "newOrder",
          value: {
            clientOrderId: `c${i}`,
            instrument: "REC",
            side,
            orderType: market ? OrderType.MARKET : stop ? OrderType.STOP_LIMIT : OrderType.LIMIT,
            timeInForce: market || ioc ? TimeInForce.IOC : rnd() < 0.5 ? TimeInForce.GTC : TimeInForce.DAY,
            price: market ? 0 : price,
            stopPrice: stop ? (side === 1 ? price - 3 : price + 3) : 0,
            qty: 1 + Math.floor(rnd() * 30),
            postOnly: false,
            stpMode: 0,
            displayQty: 0,
            stpGroup: 0,
          },
        },
        t,
      );
      entered.push({ id, account });
    } else if (r < 0.8) {
      const o = pick();
      venue.apply(
        o.account,
        { $case: "cancelOrder", value: { instrument: "REC", orderId: o.id, clientOrderId: "", reason: 1 } },
        t,
      );
    } else if (r < 0.98) {
      const o = pick();
      venue.apply(
        o.account,
        {
          $case: "replaceOrder",
          value: {
            instrument: "REC",
            orderId: o.id,
            clientOrderId: "",
            price: 99_992 + Math.floor(rnd() * 16),
            stopPrice: 0,
            qty: 1 + Math.floor(rnd() * 30),
          },
        },
        t,
      );
    } else {
      inAuction = !inAuction;
      venue.apply(
        "ops",
        {
          $case: "setInstrumentState",
          value: {
            instrument: "REC",
            state: inAuction ? InstrumentState.PRE_OPEN : InstrumentState.CONTINUOUS,
            reason: "test",
            referencePrice: undefined,
            fromStates: [],
          },
        },
        t,
      );
    }
  }
  return { events, venue };
}
