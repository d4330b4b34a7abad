import { describe, expect, it } from "vitest";
import { BarInterval, MarketDataChannel, type SubscribeRequest } from "@tradeplane/contracts";
import { isProblem, validateBars, validateSubscribe, validateTrades } from "../../src/domain/requests.ts";

const known = (s: string) => s === "INFY" || s === "TCS";
const req = (o: Partial<SubscribeRequest>): SubscribeRequest => ({
  instruments: ["INFY"],
  channels: [MarketDataChannel.L2],
  depth: 0,
  conflationIntervalMs: 0,
  barInterval: BarInterval.UNSPECIFIED,
  fromSequence: undefined,
  ...o,
});

describe("validateSubscribe", () => {
  it.each([
    { name: "no instruments", o: { instruments: [] }, field: "instruments" },
    {
      name: "more than 100 instruments",
      o: { instruments: Array.from({ length: 101 }, (_, i) => `S${i}`) },
      field: "instruments",
    },
    { name: "an unknown symbol", o: { instruments: ["INFY", "NOPE"] }, field: "instruments" },
    { name: "no channels", o: { channels: [] }, field: "channels" },
    { name: "the unspecified channel", o: { channels: [MarketDataChannel.UNSPECIFIED] }, field: "channels" },
    { name: "depth 501", o: { depth: 501 }, field: "depth" },
    {
      name: "a conflation interval over a minute",
      o: { conflationIntervalMs: 60_001 },
      field: "conflation_interval_ms",
    },
    { name: "an unknown bar interval", o: { barInterval: 99 as BarInterval }, field: "bar_interval" },
    { name: "a negative from_sequence", o: { fromSequence: -1 }, field: "from_sequence" },
  ])("refuses $name", ({ o, field }) => {
    const v = validateSubscribe(req(o), known);
    expect(isProblem(v) && v.field).toBe(field);
  });

  it("applies the defaults: depth 10, one-minute bars; duplicates collapse", () => {
    expect(validateSubscribe(req({ instruments: ["INFY", "INFY"], channels: [2, 2, 5] }), known)).toEqual({
      instruments: ["INFY"],
      channels: new Set([MarketDataChannel.L2, MarketDataChannel.BARS]),
      depth: 10,
      conflationIntervalMs: 0,
      barInterval: BarInterval.MINUTE_1,
      fromSequence: undefined,
    });
  });

  it("depth 0 takes the venue's default depth", () => {
    expect(validateSubscribe(req({ depth: 0 }), known, 25)).toMatchObject({ depth: 25 });
    expect(validateSubscribe(req({ depth: 7 }), known, 25)).toMatchObject({ depth: 7 });
  });

  it("GetTrades and GetBars limits and defaults", () => {
    expect(validateTrades({ instrument: "INFY", fromTradeId: 0, limit: 0 }, known)).toMatchObject({ limit: 100 });
    expect(isProblem(validateTrades({ instrument: "INFY", fromTradeId: 0, limit: 1_001 }, known))).toBe(true);
    expect(validateBars({ instrument: "TCS", interval: BarInterval.HOUR_1, limit: 0 }, known)).toMatchObject({
      limit: 500,
    });
    expect(isProblem(validateBars({ instrument: "TCS", interval: BarInterval.UNSPECIFIED, limit: 0 }, known))).toBe(
      true,
    );
  });
});
