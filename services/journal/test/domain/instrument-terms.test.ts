import { describe, expect, it } from "vitest";
import { TermsHistory, termsToRecord, type RecordedTerms } from "../../src/domain/instrument-terms.ts";

const NOW = 1_796_000_000_000_000;
const reliance = (notionalPerTickLot: number, validFromUs: number, lotSize = "1"): RecordedTerms => ({
  instrument: "RELIANCE",
  notionalPerTickLot,
  priceUnit: "0.01",
  lotSize,
  validFromUs,
});

describe("termsToRecord", () => {
  it.each([
    ["an instrument never recorded, valid from 0", [], [reliance(1, 0)], [reliance(1, 0)]],
    ["nothing for unchanged terms", [reliance(1, 0)], [reliance(1, 99)], []],
    ["changed terms from now", [reliance(1, 0)], [reliance(10, 0, "10")], [reliance(10, NOW, "10")]],
    ["a changed lot size of the same notional", [reliance(1, 0)], [reliance(1, 0, "2")], [reliance(1, NOW, "2")]],
    ["after the newest row when the clock went back", [reliance(1, NOW + 5)], [reliance(2, 0)], [reliance(2, NOW + 6)]],
    ["nothing for a removed instrument: its rows stay", [reliance(1, 0)], [], []],
  ])("records %s", (_name, newest, configured, added) => {
    const plain = (t: RecordedTerms) => {
      const { validFromUs: _v, ...terms } = t;
      return terms;
    };
    expect(termsToRecord(newest, configured.map(plain), NOW)).toEqual(added);
  });
});

describe("TermsHistory", () => {
  const history = new TermsHistory([reliance(10, 2_000), reliance(1, 0), reliance(100, 5_000)]);

  it.each([
    ["before any change", 1_999, 1n],
    ["at a change", 2_000, 10n],
    ["between changes", 4_999, 10n],
    ["after the last", 9_999_999, 100n],
  ])("values a trade %s with the terms then in force", (_name, timeUs, unit) => {
    expect(history.unitAt("RELIANCE", timeUs)).toBe(unit);
  });

  it("knows no terms of an instrument never recorded, nor before its first row", () => {
    expect(history.unitAt("NIFTY-FUT", 1_000)).toBeUndefined();
    expect(new TermsHistory([reliance(1, 500)]).unitAt("RELIANCE", 499)).toBeUndefined();
  });
});
