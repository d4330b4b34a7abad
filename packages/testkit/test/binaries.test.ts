import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { findBinary, findKubeBinary, MissingBinaryError } from "../src/index.ts";

describe("findBinary", () => {
  it.each(["nats-server", "helm", "kubectl"])("finds the real %s that scripts/setup installs", (name) => {
    const path = findBinary(name);
    const flag = name === "nats-server" ? "--version" : "version";
    const args = name === "kubectl" ? ["version", "--client"] : [flag];
    expect(execFileSync(path, args, { encoding: "utf8" })).toMatch(/v\d+\.\d+/);
  });

  it("fails loudly, saying what to install, when a binary is missing", () => {
    expect(() => findBinary("nats-server", "TP_TEST_NO_SUCH_OVERRIDE_AND_NO_PATH")).not.toThrow();
    const saved = process.env.PATH;
    try {
      process.env.PATH = "/nonexistent";
      expect(() => findBinary("tradeplane-no-such-tool")).toThrow(MissingBinaryError);
      expect(() => findBinary("tradeplane-no-such-tool")).toThrow(/was not found on PATH/);
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe("findKubeBinary", () => {
  it("fails loudly, saying how to get the control plane, when KUBEBUILDER_ASSETS lacks a binary", () => {
    const saved = process.env.KUBEBUILDER_ASSETS;
    try {
      process.env.KUBEBUILDER_ASSETS = "/nonexistent-kubebuilder-assets";
      expect(() => findKubeBinary("kube-apiserver")).toThrow(MissingBinaryError);
      expect(() => findKubeBinary("etcd")).toThrow(
        /KUBEBUILDER_ASSETS=\/nonexistent-kubebuilder-assets has no executable etcd/,
      );
      expect(() => findKubeBinary("etcd")).toThrow(/npm run setup/);
    } finally {
      if (saved === undefined) delete process.env.KUBEBUILDER_ASSETS;
      else process.env.KUBEBUILDER_ASSETS = saved;
    }
  });
});
