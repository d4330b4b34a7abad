import { describe, expect, it } from "vitest";
import { ConfigError } from "@tradeplane/platform";
import { loadEngineServiceConfig } from "../src/config.ts";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { createEngine, NSE_TICK_SLABS } from "@tradeplane/matching-core";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function withFile(content: object, env: Record<string, string> = {}) {
  const file = join(mkdtempSync(join(tmpdir(), "tp-engine-config-")), "engine.json");
  writeFileSync(file, JSON.stringify(content));
  return loadEngineServiceConfig({ env: { TP_CONFIG_FILE: file, TP_VENUE: "nse", ...env } });
}

const infy = { symbol: "INFY", tickSlabs: "NSE", lotSize: 1, referencePrice: 150_000, bandPercent: 10 };

describe("engine service configuration", () => {
  it("reads instruments from the config file and settings from the environment", () => {
    const config = withFile({ instruments: [infy] }, { TP_PARTITION: "2", TP_SNAPSHOT_EVERY_COMMANDS: "5000" });
    expect(config).toMatchObject({ venue: "nse", partition: 2, snapshotEveryCommands: 5000 });
    const engine = engineConfigOf(config);
    expect(engine.instruments[0]!.tickSlabs).toBe(NSE_TICK_SLABS);
    expect(() => createEngine(engine)).not.toThrow();
  });

  it.each([
    ["a venue name that is not a DNS label", { instruments: [infy] }, { TP_VENUE: "NSE_1" }, "TP_VENUE"],
    ["no instruments", { instruments: [] }, {}, "instruments"],
    ["a symbol with a dot", { instruments: [{ ...infy, symbol: "IN.FY" }] }, {}, "instruments[0].symbol"],
    ["a zero reference price", { instruments: [{ ...infy, referencePrice: 0 }] }, {}, "instruments[0].referencePrice"],
    ["both a tick size and slabs", { instruments: [{ ...infy, tickSize: 5 }] }, {}, "instruments[0]"],
    ["a negative partition", { instruments: [infy] }, { TP_PARTITION: "-1" }, "TP_PARTITION"],
    ["a fractional lot size", { instruments: [{ ...infy, lotSize: 1.5 }] }, {}, "instruments[0].lotSize"],
  ])("refuses %s, naming the field", (_name, file, env, field) => {
    expect(() => withFile(file, env)).toThrow(ConfigError);
    expect(() => withFile(file, env)).toThrow(field);
  });
});
