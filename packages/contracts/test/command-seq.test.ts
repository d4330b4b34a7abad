import { describe, expect, it } from "vitest";
import { COMMANDS_PER_ENTRY, commandSeqOf, entrySeqOf, positionOf } from "../src/index.ts";

describe("command sequences", () => {
  it.each([
    [1, 0, 1_000],
    [1, 999, 1_999],
    [42, 7, 42_007],
    [2 ** 40, 3, 2 ** 40 * 1_000 + 3],
  ])("entry %d position %d is command %d, and back", (entry, position, seq) => {
    expect(commandSeqOf(entry, position)).toBe(seq);
    expect(entrySeqOf(seq)).toBe(entry);
    expect(positionOf(seq)).toBe(position);
  });

  it("orders commands as the log orders entries, then positions", () => {
    expect(commandSeqOf(5, COMMANDS_PER_ENTRY - 1)).toBeLessThan(commandSeqOf(6, 0));
  });

  it("maps nothing applied (0) to no entry", () => {
    expect(entrySeqOf(0)).toBe(0);
  });
});
