import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { instrumentOfCommand, orderEntry } from "../src/command-entry.ts";

/** "INFY:1" is command 1 about INFY; "*:2" is command 2 about every instrument (a barrier). */
const about = (item: string): string | undefined => {
  const instrument = item.split(":")[0]!;
  return instrument === "*" ? undefined : instrument;
};

describe("orderEntry: an entry's commands grouped by instrument", () => {
  it.each([
    ["nothing", [], []],
    ["one command", ["INFY:1"], ["INFY:1"]],
    [
      "interleaved instruments, grouped in first-come order",
      ["INFY:1", "TCS:2", "INFY:3", "SBIN:4", "TCS:5"],
      ["INFY:1", "INFY:3", "TCS:2", "TCS:5", "SBIN:4"],
    ],
    [
      "a command about every instrument is a barrier",
      ["INFY:1", "TCS:2", "*:3", "INFY:4", "TCS:5", "INFY:6"],
      ["INFY:1", "TCS:2", "*:3", "INFY:4", "INFY:6", "TCS:5"],
    ],
  ] as const)("%s", (_name, items, expected) => {
    expect(orderEntry(items, about)).toEqual(expected);
  });

  it("moves nothing across a barrier and keeps each instrument's order, on random entries", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("INFY", "TCS", "SBIN", "*"), { maxLength: 50 }), (instruments) => {
        const items = instruments.map((i, n) => `${i}:${n}`);
        const out = orderEntry(items, about);
        expect([...out].sort()).toEqual([...items].sort());
        for (const token of ["INFY", "TCS", "SBIN", "*"]) {
          const only = (xs: readonly string[]) => xs.filter((x) => x.startsWith(`${token}:`));
          expect(only(out)).toEqual(only(items));
        }
        // Each item stays between the same barriers.
        const segment = (xs: readonly string[]) => {
          let k = 0;
          return new Map(xs.map((x) => [x, x.startsWith("*:") ? k++ : k]));
        };
        expect(segment(out)).toEqual(segment(items));
      }),
    );
  });
});

describe("instrumentOfCommand", () => {
  it.each([
    ["a new order", { $case: "newOrder", value: { instrument: "INFY" } }, "INFY"],
    ["a cancel", { $case: "cancelOrder", value: { instrument: "TCS" } }, "TCS"],
    ["a mass cancel of one instrument", { $case: "massCancel", value: { instrument: "TCS" } }, "TCS"],
    ["a mass cancel of every instrument", { $case: "massCancel", value: { instrument: "" } }, undefined],
    ["a halt of every instrument", { $case: "setInstrumentState", value: { instrument: "" } }, undefined],
    ["a time tick", { $case: "timeTick", value: {} }, undefined],
    ["no body", undefined, undefined],
  ] as const)("%s", (_name, body, expected) => {
    expect(instrumentOfCommand({ body } as never)).toBe(expected);
  });
});
