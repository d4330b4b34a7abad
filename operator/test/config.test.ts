import { describe, expect, it } from "vitest";
import { parseOperatorArgs } from "../src/config.ts";

describe("parseOperatorArgs", () => {
  it("watches every namespace and elects a leader by default", () => {
    const config = parseOperatorArgs([], {});
    expect(config).toMatchObject({
      namespaces: undefined,
      leaderElection: true,
      leaseNamespace: "default",
      opsPort: 8080,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("takes repeated and comma-separated namespaces", () => {
    expect(parseOperatorArgs(["--namespace", "a,b", "--namespace", "c"], {}).namespaces).toEqual(["a", "b", "c"]);
  });

  it("puts the Lease in the pod's namespace", () => {
    expect(parseOperatorArgs([], { POD_NAMESPACE: "tradeplane-system" }).leaseNamespace).toBe("tradeplane-system");
  });

  it.each([
    ["an unknown flag", ["--frobnicate"], /Unknown option '--frobnicate'/],
    ["a port out of range", ["--ops-port", "70000"], /--ops-port must be an integer in 0..65535/],
    ["a bad log level", ["--log-level", "loud"], /--log-level must be/],
  ])("refuses %s with a message naming it", (_name, args, message) => {
    expect(() => parseOperatorArgs(args, {})).toThrow(message);
  });
});
