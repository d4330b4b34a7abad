import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/transport-node";
import { grpcHealth, NatsServer, waitForJetStream } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { appendAll, entrySeqs, venueFixture } from "@tradeplane/matching/test-support/venue-fixture";
import { main, type StartedMarketData } from "../../src/main.ts";
import { richInstrumentSettings, richStream } from "../support/rich-stream.ts";
import { eventHeadOf, serviceConfig } from "../support/service-config.ts";

/**
 * Readiness tells the truth: with NATS gone market data stops following the event log, so
 * /readyz and gRPC health say NOT_SERVING until the connection is back and the follower has
 * caught up with the stream again (events the engine published meanwhile included).
 */
const VENUE = "mdready";

describe("market-data readiness through a NATS outage", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let engine: EngineProcess;
  let md: StartedMarketData;

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = (await venueFixture(server.url, VENUE)).nc;
    engine = new EngineProcess({
      natsUrl: server.url,
      venue: VENUE,
      instanceId: "engine",
      instruments: richInstrumentSettings,
      env: { TP_LOG_LEVEL: "warn" },
    });
    await engine.start();
    md = await main(serviceConfig(server.url, VENUE));
  });

  afterAll(async () => {
    await md?.shutdown.run();
    await EngineProcess.killAll();
    await nc?.close();
    await server?.dispose();
  });

  const readyz = async () => (await fetch(`http://127.0.0.1:${md.opsPort}/readyz`)).status;
  const grpc = () => grpcHealth(`127.0.0.1:${md.grpcPort}`);

  async function until<T>(probe: () => Promise<T>, want: T, what: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    let last: T | undefined;
    while (Date.now() < deadline) {
      last = await probe();
      if (last === want) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${what}: still ${String(last)}`);
  }

  it("is NOT_SERVING while nats-server is down and SERVING once it is back and the follower caught up", async () => {
    await until(readyz, 200, "/readyz at start");
    expect(await grpc()).toBe("SERVING");

    await server.stop();
    await until(readyz, 503, "/readyz with NATS down");
    expect(await grpc()).toBe("NOT_SERVING");

    await server.restart();
    await waitForJetStream(nc);
    const { js } = await venueFixture(server.url, VENUE);
    const commands = richStream(300, 3, entrySeqs(1));
    await engine.waitForPublished(await appendAll(js, VENUE, commands));
    await until(readyz, 200, "/readyz after NATS came back");
    expect(await grpc()).toBe("SERVING");
    // Ready again means following again: every event the engine published is applied.
    await until(async () => md.state.position >= (await eventHeadOf(nc, VENUE)), true, "the follower");
  });
});
