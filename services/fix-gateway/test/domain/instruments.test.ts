import { describe, expect, it } from "vitest";
import { instruments } from "../support/instruments.ts";

describe("InstrumentTable", () => {
  it.each([
    ["a price on the tick", "INFY", 150025, -2, { ok: true, value: 30005 }],
    ["a price between ticks", "INFY", 150026, -2, { ok: false, problem: "off-tick" }],
    ["a whole price", "INFY", 1500, 0, { ok: true, value: 30000 }],
    ["a price in the first band", "BTC", 95, 1, { ok: true, value: 1900 }],
    ["a price in the second band off its increment", "BTC", 500025, -1, { ok: false, problem: "off-tick" }],
    ["a price in the second band on its increment", "BTC", 50000, 0, { ok: true, value: 100000 }],
    ["a zero price", "INFY", 0, 0, { ok: false, problem: "not-positive" }],
    ["an unknown symbol", "NOPE", 1, 0, { ok: false, problem: "unknown-instrument" }],
  ])("converts %s to ticks", (_name, symbol, m, e, expected) => {
    expect(instruments.toTicks(symbol, m, e)).toEqual(expected);
  });

  it.each([
    ["whole lots", "INFY", 100, 0, { ok: true, value: 100 }],
    ["a fraction of a lot", "INFY", 15, -1, { ok: false, problem: "off-lot" }],
    ["base units of a fractional lot", "BTC", 25, -2, { ok: true, value: 250 }],
    ["less than a lot", "BTC", 5, -4, { ok: false, problem: "off-lot" }],
  ])("converts %s to lots", (_name, symbol, m, e, expected) => {
    expect(instruments.toLots(symbol, m, e)).toEqual(expected);
  });

  it("writes ticks and lots back as decimals, and the average price exactly to four more places", () => {
    expect(instruments.price("INFY", 30005)).toEqual([150025, -2]);
    expect(instruments.qty("BTC", 250)).toEqual([250, -3]);
    // two fills of 1 lot at 100 and 101 ticks (notional 5 per tick-lot): 100.5 ticks = 5.025
    expect(instruments.avgPx("INFY", (100 + 101) * 5, 2)).toEqual([5025, -3]);
    expect(instruments.avgPx("INFY", 0, 0)).toEqual([0, 0]);
    expect(instruments.avgPx("INFY", 100 * 5 * 3, 3)).toEqual([500, -2]);
    // 1/3 of a tick above 100: 5.0166666... rounds half up at the sixth place
    expect(instruments.avgPx("INFY", 100 * 5 * 3 + 5, 3)).toEqual([5016667, -6]);
  });
});
