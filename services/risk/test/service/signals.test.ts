import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandStream, NatsServer, ServiceProcess, testInstrumentSettings } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { appendAll, entrySeqs, venueFixture } from "@tradeplane/matching/test-support/venue-fixture";

/**
 * Signals at any time: a gateway told to stop while it is still replaying the event stream
 * (before it is ready) stops cleanly, exit 0, rather than being killed by the signal or
 * waiting for the replay to end. Kubernetes sends SIGTERM whenever it likes.
 */
const VENUE = "signals";
const RISK_MAIN = resolve(fileURLToPath(new URL("../../src/main.ts", import.meta.url)));

describe("the risk gateway on SIGTERM during start-up", () => {
  let server: NatsServer;

  beforeAll(async () => {
    server = await NatsServer.start();
    const fixture = await venueFixture(server.url, VENUE);
    const engine = new EngineProcess({
      natsUrl: server.url,
      venue: VENUE,
      instanceId: "engine",
      instruments: testInstrumentSettings,
      env: { TP_LOG_LEVEL: "warn" },
    });
    await engine.start();
    // Enough events that replaying them outlasts the signal's way to the process many times over.
    await engine.waitForPublished(await appendAll(fixture.js, VENUE, commandStream(60_000, 8, entrySeqs())), 120_000);
    await engine.signal("SIGTERM");
    await fixture.nc.close();
  }, 180_000);

  afterAll(async () => {
    await ServiceProcess.killAll();
    await server?.dispose();
  });

  it("stops cleanly, exit 0, while replaying the event stream", async () => {
    const gateway = new ServiceProcess({
      main: RISK_MAIN,
      config: {
        venue: VENUE,
        instanceId: "gw",
        instruments: testInstrumentSettings.map((i) => ({ symbol: i.symbol, referencePrice: i.referencePrice })),
      },
      env: { TP_NATS_URL: server.url, TP_LOG_LEVEL: "info" },
    });
    await gateway.start({ until: /catching up with the event stream/ });
    await gateway.signal("SIGTERM");
    expect(await gateway.exited(), gateway.log).toEqual({ code: 0, signal: null });
    expect(gateway.log).toContain("shutting down");
    expect(gateway.log).not.toContain('"ready":true');
  });
});
