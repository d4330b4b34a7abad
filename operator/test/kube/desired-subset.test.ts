import { describe, expect, it } from "vitest";
import { holdsDesired } from "../../src/kube/desired-subset.ts";

describe("holdsDesired", () => {
  it.each([
    [
      "an object with extra defaulted fields holds its desired subset",
      { a: 1, b: { c: "x", d: true } },
      { b: { c: "x" } },
      true,
    ],
    ["a changed scalar is not held", { a: 1 }, { a: 2 }, false],
    ["a missing field is not held", { a: 1 }, { b: 1 }, false],
    ["a list of a different length is not held", { l: [1, 2] }, { l: [1] }, false],
    [
      "list items are compared as subsets in order",
      { l: [{ a: 1, z: 0 }, { a: 2 }] },
      { l: [{ a: 1 }, { a: 2 }] },
      true,
    ],
    ["a number and its decimal text are one quantity", { cpu: "2" }, { cpu: 2 }, true],
    ["an object where a list is desired is not held", { l: { a: 1 } }, { l: [] }, false],
    ["undefined desired fields are ignored", { a: 1 }, { a: 1, b: undefined }, true],
  ])("%s", (_name, live, desired, expected) => {
    expect(holdsDesired(live, desired)).toBe(expected);
  });
});
