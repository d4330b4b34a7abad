import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MarketDataService, OrderEntryService, RiskAdminService, VenueAdminService } from "../src/index.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));

describe("gRPC service definitions", () => {
  it.each([
    ["OrderEntry", OrderEntryService],
    ["MarketData", MarketDataService],
    ["VenueAdmin", VenueAdminService],
    ["RiskAdmin", RiskAdminService],
  ])("serve tradeplane.v1.%s under its wire path", (name, service) => {
    for (const method of Object.values(service)) {
      expect(method.path).toMatch(new RegExp(`^/tradeplane\\.v1\\.${name}/[A-Z][A-Za-z]+$`));
    }
  });

  it("streams where the API says it streams", () => {
    const shape = (m: { requestStream: boolean; responseStream: boolean }) => [m.requestStream, m.responseStream];
    expect(shape(OrderEntryService.session)).toEqual([true, true]);
    expect(shape(OrderEntryService.streamExecutionReports)).toEqual([false, true]);
    expect(shape(OrderEntryService.submitOrder)).toEqual([false, false]);
    expect(shape(MarketDataService.subscribe)).toEqual([false, true]);
  });

  it("serialises a request to a Buffer and back", () => {
    const request = { account: "acme-01", fromSequence: 17 };
    const wire = OrderEntryService.streamExecutionReports.requestSerialize(request);
    expect(Buffer.isBuffer(wire)).toBe(true);
    expect(OrderEntryService.streamExecutionReports.requestDeserialize(wire)).toEqual(request);
  });
});

describe("the generated code at runtime", () => {
  it("loads in plain Node 24 with type stripping, without a TypeScript compiler", () => {
    // Vitest compiles TypeScript itself, so this is the only test that proves the
    // ts-proto options fit Node's type stripping (no enums, .ts import suffixes).
    const node = `${root}node_modules/.bin/node`;
    const script =
      "const m = await import('./packages/contracts/src/index.ts');" +
      "const e = await import('./packages/contracts/src/gen/tradeplane/v1/engine.ts');" +
      "console.log(JSON.stringify([m.Side.SELL, Object.keys(e).length > 10, m.commandSubject('spot', 0)]));";
    const run = spawnSync(node, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual([2, true, "tp.spot.cmd.0"]);
  });
});
