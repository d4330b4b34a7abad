import { commandSeqOf, OrderType, Side, TimeInForce, type Command } from "@tradeplane/contracts";

/** A small deterministic PRNG (mulberry32) so command streams repeat exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const TEST_INSTRUMENTS = ["INFY", "TCS"] as const;
export const REFERENCE_PRICE = 100_000;

/** Service-config instruments matching TEST_INSTRUMENTS. */
export const testInstrumentSettings = TEST_INSTRUMENTS.map((symbol) => ({
  symbol,
  tickSize: 1,
  lotSize: 1,
  minQty: 1,
  maxQty: 1_000_000,
  maxOrderValue: 0,
  referencePrice: REFERENCE_PRICE,
  bandPercent: 10,
  initialState: "CONTINUOUS" as const,
  cancelOnHalt: false,
}));

/**
 * A deterministic stream of order commands over a few accounts and instruments: limits
 * near the reference price (crossing often), some market IOCs, cancels and replaces of
 * earlier orders (by the command sequence they will get: `seqOf(i)`, or `seqOf + i` for a
 * number), and now and then a command that is wrong on purpose. Timestamps advance 1 ms
 * per command from `startMs`.
 */
export function commandStream(
  count: number,
  seed = 1,
  seqOf: number | ((i: number) => number) = 1,
  startMs = 1_767_225_600_000,
): Command[] {
  const idOf = typeof seqOf === "number" ? (i: number) => seqOf + i : seqOf;
  const rnd = prng(seed);
  const out: Command[] = [];
  const submitted: number[] = [];
  const owner = new Map<number, string>();
  // Cancels and replaces name their order's instrument, as the gateway writes them.
  const instrumentOfOrder = new Map<number, string>();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  // Cancels and replaces mostly aim at recent orders, which are likelier still to rest.
  const recent = (): number => submitted[submitted.length - 1 - Math.floor(rnd() * Math.min(40, submitted.length))]!;
  for (let i = 0; i < count; i++) {
    const ms = startMs + i;
    const timestamp = { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
    let account = `acct-${1 + Math.floor(rnd() * 4)}`;
    const instrument = pick(TEST_INSTRUMENTS);
    const r = rnd();
    let body: Command["body"];
    if (r < 0.62 || submitted.length === 0) {
      const market = rnd() < 0.05;
      const side = rnd() < 0.5 ? Side.BUY : Side.SELL;
      // Bids mostly below the reference and asks above, overlapping a little, so books build up and cross now and then.
      const price =
        side === Side.BUY
          ? REFERENCE_PRICE - 60 + Math.floor(rnd() * 70)
          : REFERENCE_PRICE - 9 + Math.floor(rnd() * 70);
      body = {
        $case: "newOrder",
        value: {
          clientOrderId: `c${i}`,
          instrument,
          side,
          orderType: market ? OrderType.MARKET : OrderType.LIMIT,
          timeInForce: market ? TimeInForce.IOC : rnd() < 0.1 ? TimeInForce.IOC : TimeInForce.DAY,
          price: market ? 0 : price,
          stopPrice: 0,
          qty: 1 + Math.floor(rnd() * 100),
          postOnly: false,
          stpMode: 0,
          displayQty: 0,
          stpGroup: 0,
        },
      };
      submitted.push(idOf(i));
      owner.set(idOf(i), account);
      instrumentOfOrder.set(idOf(i), instrument);
    } else if (r < 0.85) {
      const orderId = recent();
      // Mostly the owner; now and then another account, which must be refused.
      if (rnd() < 0.9) account = owner.get(orderId) ?? account;
      body = {
        $case: "cancelOrder",
        value: { instrument: instrumentOfOrder.get(orderId) ?? instrument, orderId, clientOrderId: `x${i}`, reason: 0 },
      };
    } else if (r < 0.98) {
      const orderId = recent();
      if (rnd() < 0.9) account = owner.get(orderId) ?? account;
      body = {
        $case: "replaceOrder",
        value: {
          instrument: instrumentOfOrder.get(orderId) ?? instrument,
          orderId,
          clientOrderId: `r${i}`,
          price: REFERENCE_PRICE - 50 + Math.floor(rnd() * 101),
          stopPrice: 0,
          qty: 1 + Math.floor(rnd() * 100),
        },
      };
    } else {
      // Wrong on purpose: off the price band, or an unknown instrument.
      body = {
        $case: "newOrder",
        value: {
          clientOrderId: `bad${i}`,
          instrument: rnd() < 0.5 ? "NOPE" : instrument,
          side: Side.BUY,
          orderType: OrderType.LIMIT,
          timeInForce: TimeInForce.DAY,
          price: REFERENCE_PRICE * 3,
          stopPrice: 0,
          qty: 1,
          postOnly: false,
          stpMode: 0,
          displayQty: 0,
          stpGroup: 0,
        },
      };
      submitted.push(idOf(i));
    }
    out.push({ timestamp, account, source: "test", traceparent: "", ownerEpoch: 0, body });
  }
  return out;
}

/**
 * The command sequence of the i-th command when a stream is written `perEntry` commands
 * to a log entry, from the entry at stream sequence `firstEntrySeq` (see commandSeqOf).
 */
export function batchedSeqs(perEntry: number, firstEntrySeq = 1): (i: number) => number {
  return (i) => commandSeqOf(firstEntrySeq + Math.floor(i / perEntry), i % perEntry);
}
