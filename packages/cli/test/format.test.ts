import { describe, expect, it } from "vitest";
import { formatMoney, formatPrice, formatTime } from "../src/format.ts";
import { parseCount, parsePrice } from "../src/prices.ts";
import type { CliError } from "../src/errors.ts";
import { EXIT } from "../src/errors.ts";

describe("prices for people", () => {
  it.each([
    [130005, "0.01", "1,300.05"],
    [5, "0.01", "0.05"],
    [2_600_000, "0.01", "26,000.00"],
    [7, "0.5", "3.5"],
    [12, "1", "12"],
    [3, "25", "75"],
  ])("%i units of %s show as %s", (units, unit, text) => {
    expect(formatPrice(units, unit)).toBe(text);
  });

  it.each([
    [-1234, -2, "-12.34"],
    [100, 0, "100"],
    [0, -2, "0"],
  ])("%i money units at 10^%i show as %s", (units, exponent, text) => {
    expect(formatMoney(units, exponent)).toBe(text);
  });

  it.each([
    ["1300.05", "0.01", 130005],
    ["1,300.05", "0.01", 130005],
    ["1300", "0.01", 130000],
    ["0.05", "0.05", 1],
    ["130005", undefined, 130005],
  ])("reads %s at unit %s as %i units", (text, unit, units) => {
    expect(parsePrice(text, unit)).toBe(units);
  });

  it.each([
    ["1300.055", "0.01", "not a multiple of the price unit 0.01"],
    ["-5", "0.01", "not a positive price"],
    ["1e3", "0.01", "not a positive price"],
    ["12.5", undefined, "whole number of price units"],
  ])("refuses %s at unit %s", (text, unit, message) => {
    expect(() => parsePrice(text, unit)).toThrow(message);
    try {
      parsePrice(text, unit);
    } catch (err) {
      expect((err as CliError).exitCode).toBe(EXIT.USAGE);
    }
  });

  it("reads counts and refuses what is not one", () => {
    expect(parseCount("10", "--qty")).toBe(10);
    expect(() => parseCount("0", "--qty")).toThrow("--qty 0: give a whole number >= 1");
    expect(() => parseCount("1.5", "--qty")).toThrow("--qty 1.5");
    expect(parseCount("0", "--port-base", 0)).toBe(0);
  });

  it("shows engine time to the microsecond", () => {
    expect(formatTime({ seconds: 1_700_000_000, nanos: 123_456_789 })).toBe("2023-11-14T22:13:20.123456Z");
    expect(formatTime(undefined)).toBe("");
  });
});
