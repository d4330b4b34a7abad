import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Side } from "@tradeplane/contracts";
import { parseInstant, parseLimit, parseOrderId, parseTradingDay } from "../../src/commands/journal-flags.ts";
import { registerCsvHeader, registerCsvLine } from "../../src/commands/register-csv.ts";
import { run } from "../../src/main.ts";

describe("journal flags", () => {
  it.each([
    ["a day", () => parseTradingDay("2026-12-03"), "2026-12-03"],
    ["a leap day", () => parseTradingDay("2024-02-29"), "2024-02-29"],
    ["a time in IST", () => parseInstant("2026-12-03T09:15:00+05:30", "--from"), { seconds: 1_796_269_500, nanos: 0 }],
    [
      "a time in UTC with ms",
      () => parseInstant("2026-12-03T03:45:00.250Z", "--to"),
      { seconds: 1_796_269_500, nanos: 250_000_000 },
    ],
    ["no time", () => parseInstant(undefined, "--to"), undefined],
    ["an order id", () => parseOrderId("12000"), 12_000],
    ["no limit", () => parseLimit(undefined), 0],
  ])("takes %s", (_name, parse, value) => {
    expect(parse()).toEqual(value);
  });

  it.each([
    ["no day", () => parseTradingDay(undefined), '--day is required: a trading day "YYYY-MM-DD"'],
    ["a day that does not exist", () => parseTradingDay("2026-02-29"), "--day 2026-02-29: give a trading day"],
    ["a day in another format", () => parseTradingDay("03/12/2026"), "--day 03/12/2026: give a trading day"],
    [
      "a time without a zone",
      () => parseInstant("2026-12-03T09:15:00", "--from"),
      "--from 2026-12-03T09:15:00: give an ISO time with its zone",
    ],
    ["a time that is no time", () => parseInstant("yesterdayZ", "--to"), "--to yesterdayZ: give an ISO time"],
    ["an order id of 0", () => parseOrderId("0"), "order id 0: give the venue's order id"],
    ["a limit over 10000", () => parseLimit("10001"), "--limit 10001: give a whole number from 1 to 10000"],
  ])("refuses %s, naming the flag", (_name, parse, message) => {
    expect(parse).toThrow(message);
  });
});

describe("the register as CSV", () => {
  const trade = {
    commandSeq: 2000,
    index: 1,
    tradeId: 1,
    instrument: "NIFTY-FUT",
    price: 2_600_000,
    qty: 2,
    value: 390_000_000,
    aggressorSide: Side.BUY,
    buyAccount: "C",
    buyOrderId: 6000,
    sellAccount: 'odd,"name"',
    sellOrderId: 5000,
    time: { seconds: 1_796_270_405, nanos: 123_456_000 },
  };

  it("has a header and one CRLF line per trade, values as integers and in the currency, odd fields quoted", () => {
    expect(registerCsvHeader()).toBe(
      "trading_day,trade_time_utc,command_seq,index,trade_id,instrument,price_ticks,qty_lots,value_units,value,currency,aggressor,buy_account,buy_order_id,sell_account,sell_order_id\r\n",
    );
    expect(registerCsvLine("2026-12-03", trade, { currency: "INR", notionalExponent: -2 })).toBe(
      '2026-12-03,2026-12-03T04:00:05.123456Z,2000,1,1,NIFTY-FUT,2600000,2,390000000,3900000.00,INR,BUY,C,6000,"odd,""name""",5000\r\n',
    );
  });
});

describe("tradeplane journal, before any call", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tp-journal-cli-"));
  afterEach(() => vi.restoreAllMocks());

  it.each([
    [["journal", "obligations"], 2, "--day is required"],
    [["journal", "register", "--day", "2026-13-01"], 2, "--day 2026-13-01: give a trading day"],
    [["journal", "audit", "abc"], 2, "order id abc: give the venue's order id"],
    [["journal", "trades", "--from", "tomorrow"], 2, "--from tomorrow: give an ISO time with its zone"],
    [["journal", "otr", "--day", "2026-12-03"], 3, "no local venue"],
  ])("tradeplane %j exits %i saying what is wrong", async (args, code, message) => {
    let stderr = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    expect(await run(["--data-dir", dataDir, ...args])).toBe(code);
    expect(stderr).toContain(message);
  });
});
