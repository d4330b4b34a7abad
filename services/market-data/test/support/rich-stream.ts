import {
  CancelReason,
  InstrumentState,
  OrderType,
  Side,
  StpMode,
  TimeInForce,
  type Command,
  type Timestamp,
} from "@tradeplane/contracts";
import { prng } from "@tradeplane/testkit";

export const RICH_INSTRUMENTS = ["INFY", "TCS"] as const;
export const RICH_REFERENCE = 100_000;

/** Engine settings for the rich stream: INFY keeps its book on halt, TCS clears it. */
export const richInstrumentSettings = RICH_INSTRUMENTS.map((symbol) => ({
  symbol,
  tickSize: 1,
  lotSize: 1,
  minQty: 1,
  maxQty: 1_000_000,
  maxOrderValue: 0,
  referencePrice: RICH_REFERENCE,
  bandPercent: 10,
  initialState: "CONTINUOUS" as const,
  cancelOnHalt: symbol === "TCS",
}));

/**
 * A deterministic stream that exercises everything the book builder must follow: limits
 * of every time in force, icebergs, post-only, market orders, stops and stop-limits, every
 * self-trade mode, cancels, replaces (price moves, decreases, increases), mass cancels,
 * session changes (pre-open auctions, halts, closes that expire DAY orders) and time ticks
 * that expire GTD orders. Timestamps advance `stepMs` per command.
 */
export function richStream(
  count: number,
  seed = 7,
  seqOf: number | ((i: number) => number) = 1,
  startMs = 1_767_225_600_000,
  stepMs = 37,
): Command[] {
  // The command sequence the i-th command will get (stops, cancels and replaces name orders by it).
  const idOf = typeof seqOf === "number" ? (i: number) => seqOf + i : seqOf;
  const rnd = prng(seed);
  const out: Command[] = [];
  const submitted: { seq: number; account: string; instrument: string }[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const states = new Map<string, number>(RICH_INSTRUMENTS.map((s) => [s, InstrumentState.CONTINUOUS]));
  const stamp = (ms: number): Timestamp => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
  for (let i = 0; i < count; i++) {
    const ms = startMs + i * stepMs;
    const timestamp = stamp(ms);
    const account = `acct-${1 + Math.floor(rnd() * 4)}`;
    const instrument = pick(RICH_INSTRUMENTS);
    const r = rnd();
    let body: Command["body"];
    const recent = () => submitted[submitted.length - 1 - Math.floor(rnd() * Math.min(60, submitted.length))];
    if (r < 0.6 || submitted.length === 0) {
      const side = rnd() < 0.5 ? Side.BUY : Side.SELL;
      const price =
        side === Side.BUY ? RICH_REFERENCE - 40 + Math.floor(rnd() * 50) : RICH_REFERENCE - 9 + Math.floor(rnd() * 50);
      const qty = 1 + Math.floor(rnd() * 60);
      const k = rnd();
      let orderType: OrderType = OrderType.LIMIT;
      let timeInForce: TimeInForce = TimeInForce.DAY;
      let stopPrice = 0;
      let limit = price;
      let displayQty = 0;
      let postOnly = false;
      let expireTime: Timestamp | undefined;
      if (k < 0.05) {
        orderType = OrderType.MARKET;
        timeInForce = TimeInForce.IOC;
        limit = 0;
      } else if (k < 0.1) {
        orderType = OrderType.STOP;
        timeInForce = TimeInForce.GTC;
        limit = 0;
        stopPrice =
          side === Side.BUY ? RICH_REFERENCE + Math.floor(rnd() * 15) : RICH_REFERENCE - Math.floor(rnd() * 15);
      } else if (k < 0.15) {
        orderType = OrderType.STOP_LIMIT;
        timeInForce = TimeInForce.DAY;
        stopPrice =
          side === Side.BUY ? RICH_REFERENCE + Math.floor(rnd() * 15) : RICH_REFERENCE - Math.floor(rnd() * 15);
        if (rnd() < 0.3) displayQty = Math.max(1, Math.floor(qty / 4));
      } else if (k < 0.3) {
        displayQty = 1 + Math.floor(rnd() * Math.max(1, qty / 3));
        timeInForce = rnd() < 0.5 ? TimeInForce.GTC : TimeInForce.DAY;
      } else if (k < 0.36) timeInForce = TimeInForce.IOC;
      else if (k < 0.39) timeInForce = TimeInForce.FOK;
      else if (k < 0.45) {
        timeInForce = TimeInForce.GTD;
        expireTime = stamp(ms + 200 + Math.floor(rnd() * 3_000));
      } else if (k < 0.5) {
        postOnly = true;
        timeInForce = TimeInForce.GTC;
      }
      const stpMode = pick([
        StpMode.CANCEL_MAKER,
        StpMode.CANCEL_TAKER,
        StpMode.CANCEL_BOTH,
        StpMode.DECREMENT,
        StpMode.NONE,
      ]);
      body = {
        $case: "newOrder",
        value: {
          clientOrderId: `c${i}`,
          instrument,
          side,
          orderType,
          timeInForce,
          price: limit,
          stopPrice,
          qty,
          postOnly,
          stpMode,
          expireTime,
          displayQty,
          stpGroup: 0,
        },
      };
      submitted.push({ seq: idOf(i), account, instrument });
    } else if (r < 0.78) {
      const o = recent()!;
      body = {
        $case: "cancelOrder",
        value: { instrument: o.instrument, orderId: o.seq, clientOrderId: `x${i}`, reason: 0 },
      };
      out.push({ timestamp, account: o.account, source: "test", traceparent: "", ownerEpoch: 0, body });
      continue;
    } else if (r < 0.93) {
      const o = recent()!;
      body = {
        $case: "replaceOrder",
        value: {
          instrument: o.instrument,
          orderId: o.seq,
          clientOrderId: `r${i}`,
          price: RICH_REFERENCE - 30 + Math.floor(rnd() * 61),
          stopPrice: 0,
          qty: 1 + Math.floor(rnd() * 80),
        },
      };
      out.push({ timestamp, account: o.account, source: "test", traceparent: "", ownerEpoch: 0, body });
      continue;
    } else if (r < 0.95) {
      body = {
        $case: "massCancel",
        value: {
          instrument: rnd() < 0.5 ? instrument : "",
          side: pick([Side.UNSPECIFIED, Side.BUY, Side.SELL]),
          allAccounts: rnd() < 0.2,
          reason: CancelReason.UNSPECIFIED,
          clientOrderId: `m${i}`,
        },
      };
    } else if (r < 0.975) {
      const now = states.get(instrument)!;
      const next =
        now === InstrumentState.CONTINUOUS
          ? pick([InstrumentState.PRE_OPEN, InstrumentState.HALTED, InstrumentState.CLOSED])
          : now === InstrumentState.CLOSED
            ? pick([InstrumentState.PRE_OPEN, InstrumentState.CONTINUOUS])
            : InstrumentState.CONTINUOUS;
      states.set(instrument, next);
      body = {
        $case: "setInstrumentState",
        value: { instrument, state: next, reason: `to ${next}`, fromStates: [] },
      };
    } else {
      body = { $case: "timeTick", value: {} };
    }
    out.push({ timestamp, account, source: "test", traceparent: "", ownerEpoch: 0, body });
  }
  return out;
}
