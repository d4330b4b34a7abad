import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError, env, envName, loadConfig } from "../src/index.ts";

const schema = z.object({
  natsUrl: env.list().default(["nats://127.0.0.1:4222"]),
  grpcPort: env.int(0, 65535).default(50051),
  standby: env.bool().default(false),
  venue: z.string().regex(/^[a-z0-9-]+$/),
});

describe("loadConfig", () => {
  it.each([
    ["natsUrl", "TP_NATS_URL"],
    ["grpcPort", "TP_GRPC_PORT"],
    ["snapshotEveryCommands", "TP_SNAPSHOT_EVERY_COMMANDS"],
  ])("names the environment variable of %s as %s", (key, name) => {
    expect(envName(key)).toBe(name);
  });

  it("reads, converts and freezes values from the environment", () => {
    const config = loadConfig(schema, {
      env: { TP_VENUE: "nse", TP_GRPC_PORT: "7001", TP_STANDBY: "true", TP_NATS_URL: "nats://a:1, nats://b:2" },
    });
    expect(config).toEqual({ venue: "nse", grpcPort: 7001, standby: true, natsUrl: ["nats://a:1", "nats://b:2"] });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("applies defaults", () => {
    expect(loadConfig(schema, { env: { TP_VENUE: "x" } }).grpcPort).toBe(50051);
  });

  it.each([
    [{ TP_VENUE: "NSE!" }, "TP_VENUE"],
    [{ TP_VENUE: "x", TP_GRPC_PORT: "70000" }, "TP_GRPC_PORT"],
    [{ TP_VENUE: "x", TP_GRPC_PORT: "abc" }, "TP_GRPC_PORT"],
    [{ TP_VENUE: "x", TP_STANDBY: "maybe" }, "TP_STANDBY"],
    [{}, "TP_VENUE"],
  ])("rejects %j with an error naming %s", (values, name) => {
    expect(() => loadConfig(schema, { env: values })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { env: values })).toThrow(name);
  });

  it("overlays the environment on a YAML config file", () => {
    const dir = mkdtempSync(join(tmpdir(), "tp-config-"));
    const file = join(dir, "engine.yaml");
    writeFileSync(file, "venue: fromfile\ngrpcPort: 6000\n");
    const config = loadConfig(schema, { env: { TP_CONFIG_FILE: file, TP_GRPC_PORT: "6001" } });
    expect(config.venue).toBe("fromfile");
    expect(config.grpcPort).toBe(6001);
  });

  it("says which file could not be read", () => {
    expect(() => loadConfig(schema, { env: { TP_CONFIG_FILE: "/nonexistent/x.yaml" } })).toThrow(/TP_CONFIG_FILE/);
  });
});
