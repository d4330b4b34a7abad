import { afterEach, describe, expect, it } from "vitest";
import { engineEndpoints } from "../../src/client/target.ts";
import { CliError } from "../../src/errors.ts";

describe("engineEndpoints (--engine P=host:port, TP_ENGINES)", () => {
  afterEach(() => {
    delete process.env.TP_ENGINES;
  });

  it("maps partitions to endpoints", () => {
    expect(engineEndpoints(["1=demo-engine-1:7101", "0=demo-engine-0.ns.svc:7101"])).toEqual(
      new Map([
        [1, "demo-engine-1:7101"],
        [0, "demo-engine-0.ns.svc:7101"],
      ]),
    );
  });

  it("is undefined when no engine is named, and reads TP_ENGINES when no flag is given", () => {
    expect(engineEndpoints(undefined)).toBeUndefined();
    expect(engineEndpoints([])).toBeUndefined();
    process.env.TP_ENGINES = "0=a:1,2=b:2";
    expect(engineEndpoints([])).toEqual(
      new Map([
        [0, "a:1"],
        [2, "b:2"],
      ]),
    );
  });

  const bad: { flags: string[]; message: string }[] = [
    { flags: ["zero"], message: "give PARTITION=host:port" },
    { flags: ["0=host"], message: "give PARTITION=host:port" },
    { flags: ["100=host:1"], message: "give PARTITION=host:port" },
    { flags: ["0=a b:1"], message: "give PARTITION=host:port" },
    { flags: ["0=a:1", "0=b:1"], message: "partition 0 given twice" },
    { flags: [`0=${"x".repeat(5000)}:1`], message: "..." },
    { flags: Array.from({ length: 65 }, (_, i) => `${i % 64}=h:1`), message: "at most 64" },
  ];
  for (const c of bad)
    it(`refuses ${c.flags[0]!.slice(0, 20)}${c.flags.length > 1 ? ` (+${c.flags.length - 1})` : ""} with a usage error`, () => {
      let err: unknown;
      try {
        engineEndpoints(c.flags);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).message).toContain(c.message);
      expect((err as CliError).message.length).toBeLessThan(200);
    });
});
