import { describe, expect, it } from "vitest";
import { allowedCpus, parseCpuList } from "../../src/adapters/cpu-affinity.ts";

describe("allowed CPUs", () => {
  it.each([
    ["one CPU", "3", [3]],
    ["a range", "0-3", [0, 1, 2, 3]],
    ["ranges and singles", "0-1,4,6-7", [0, 1, 4, 6, 7]],
    ["a malformed part left out", "0,x,2", [0, 2]],
  ])("parses %s", (_name, list, cpus) => {
    expect(parseCpuList(list)).toEqual(cpus);
  });

  it("reads Cpus_allowed_list from a status text", () => {
    expect(allowedCpus("Name:\tnode\nCpus_allowed:\tf\nCpus_allowed_list:\t2-3\n")).toEqual([2, 3]);
    expect(allowedCpus("Name:\tnode\n")).toBeUndefined();
  });

  it("reads this process's own set on Linux", () => {
    expect(allowedCpus()?.length).toBeGreaterThan(0);
  });
});
