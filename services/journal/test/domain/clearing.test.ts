import { describe, expect, it } from "vitest";
import { clearingObligations, UnknownInstrumentError, type ClearingExecution } from "../../src/domain/clearing.ts";

/**
 * The worked day of docs/journal.md ("Clearing obligations, worked by hand"), in the example
 * venue's units: prices in paise (priceUnit 0.01 INR), RELIANCE in lots of 1 share
 * (1 paisa per tick and lot), NIFTY-FUT in lots of 75 (75 paise per tick and lot).
 *
 *   1. A buys 10 RELIANCE from B at 130000 (1,300.00 INR): 10 x 130000 x 1  =   1,300,000 paise
 *   2. A sells 4 RELIANCE to C at 130500:                  4 x 130500 x 1   =     522,000
 *   3. C buys 2 NIFTY-FUT from B at 2600000:               2 x 2600000 x 75 = 390,000,000
 *   4. B buys 1 NIFTY-FUT from A at 2599000:               1 x 2599000 x 75 = 194,925,000
 */
const perTickLot = new Map([
  ["RELIANCE", 1n],
  ["NIFTY-FUT", 75n],
]);

const trade = (buyer: string, seller: string, instrument: string, qty: number, price: number): ClearingExecution[] => [
  { account: buyer, instrument, side: "BUY", price, qty },
  { account: seller, instrument, side: "SELL", price, qty },
];

const day = [
  ...trade("A", "B", "RELIANCE", 10, 130_000),
  ...trade("C", "A", "RELIANCE", 4, 130_500),
  ...trade("C", "B", "NIFTY-FUT", 2, 2_600_000),
  ...trade("B", "A", "NIFTY-FUT", 1, 2_599_000),
];

const row = (
  account: string,
  instrument: string,
  [boughtQty, soldQty, netQty]: number[],
  [boughtValue, soldValue, netValue]: number[],
) => ({
  account,
  instrument,
  boughtQty: BigInt(boughtQty!),
  soldQty: BigInt(soldQty!),
  netQty: BigInt(netQty!),
  boughtValue: BigInt(boughtValue!),
  soldValue: BigInt(soldValue!),
  netValue: BigInt(netValue!),
});

describe("clearingObligations", () => {
  it("nets the hand-worked day per account and instrument, and per account in funds", () => {
    const { securities, funds } = clearingObligations(day, (e) => perTickLot.get(e.instrument));
    expect(securities).toEqual([
      // A: receives 6 RELIANCE and pays 1,300,000 - 522,000 = 778,000 for them; delivers 1 NIFTY-FUT for 194,925,000
      row("A", "NIFTY-FUT", [0, 1, -1], [0, 194_925_000, 194_925_000]),
      row("A", "RELIANCE", [10, 4, 6], [1_300_000, 522_000, -778_000]),
      // B: delivers 2 - 1 = 1 NIFTY-FUT net, receiving 390,000,000 - 194,925,000 = 195,075,000; delivers 10 RELIANCE for 1,300,000
      row("B", "NIFTY-FUT", [1, 2, -1], [194_925_000, 390_000_000, 195_075_000]),
      row("B", "RELIANCE", [0, 10, -10], [0, 1_300_000, 1_300_000]),
      // C: receives 2 NIFTY-FUT and 4 RELIANCE, paying for both
      row("C", "NIFTY-FUT", [2, 0, 2], [390_000_000, 0, -390_000_000]),
      row("C", "RELIANCE", [4, 0, 4], [522_000, 0, -522_000]),
    ]);
    expect(funds).toEqual([
      { account: "A", netFunds: 194_147_000n }, // 194,925,000 - 778,000: receives 1,941,470.00 INR
      { account: "B", netFunds: 196_375_000n }, // 195,075,000 + 1,300,000: receives 1,963,750.00 INR
      { account: "C", netFunds: -390_522_000n }, // pays 3,905,220.00 INR
    ]);
  });

  it("balances: every instrument nets to zero lots and the funds to zero", () => {
    const { securities, funds } = clearingObligations(day, (e) => perTickLot.get(e.instrument));
    for (const instrument of perTickLot.keys())
      expect(securities.filter((s) => s.instrument === instrument).reduce((n, s) => n + s.netQty, 0n)).toBe(0n);
    expect(funds.reduce((n, f) => n + f.netFunds, 0n)).toBe(0n);
  });

  it("nets a trade between two sides of one account to nothing", () => {
    const { securities, funds } = clearingObligations(trade("A", "A", "RELIANCE", 3, 100), () => 1n);
    expect(securities[0]).toMatchObject({ boughtQty: 3n, soldQty: 3n, netQty: 0n, netValue: 0n });
    expect(funds).toEqual([{ account: "A", netFunds: 0n }]);
  });

  it("sums past 2^53 exactly", () => {
    const big = trade("A", "B", "X", 1_000_000_000, 1_000_000_000);
    const { funds } = clearingObligations([...big, ...big], () => 75n);
    expect(funds).toEqual([
      { account: "A", netFunds: -150_000_000_000_000_000_000n },
      { account: "B", netFunds: 150_000_000_000_000_000_000n },
    ]);
  });

  it("gives nothing for a day without trades", () => {
    expect(clearingObligations([], () => 1n)).toEqual({ securities: [], funds: [] });
  });

  it("refuses an instrument whose money units are unknown", () => {
    expect(() => clearingObligations(trade("A", "B", "GONE", 1, 1), () => undefined)).toThrow(UnknownInstrumentError);
  });
});
