import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  const nowhere = { KUBEBUILDER_ASSETS: "/nonexistent-assets", PATH: "/nonexistent" };

  it("fails loudly, saying both ways to get the control plane, when no folder has a binary", () => {
    expect(() => findKubeBinary("kube-apiserver", nowhere, "/nonexistent-tools")).toThrow(MissingBinaryError);
    expect(() => findKubeBinary("etcd", nowhere, "/nonexistent-tools")).toThrow(
      /KUBEBUILDER_ASSETS=\/nonexistent-assets has no executable etcd.*npm run setup/,
    );
  });

  it("looks in KUBEBUILDER_ASSETS first, then in tools/bin, then on PATH", () => {
    const dir = mkdtempSync(join(tmpdir(), "tp-assets-"));
    try {
      for (const sub of ["assets", "tools", "path"]) {
        mkdirSync(join(dir, sub));
        writeFileSync(join(dir, sub, "etcd"), "#!/bin/sh\n", { mode: 0o755 });
      }
      const env = { KUBEBUILDER_ASSETS: join(dir, "assets"), PATH: join(dir, "path") };
      expect(findKubeBinary("etcd", env, join(dir, "tools"))).toBe(join(dir, "assets", "etcd"));
      expect(findKubeBinary("etcd", { PATH: env.PATH }, join(dir, "tools"))).toBe(join(dir, "tools", "etcd"));
      expect(findKubeBinary("etcd", env, "/nonexistent-tools")).toBe(join(dir, "assets", "etcd"));
      rmSync(join(dir, "assets", "etcd"));
      expect(findKubeBinary("etcd", env, "/nonexistent-tools")).toBe(join(dir, "path", "etcd"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
