import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcHealth, waitForJetStream } from "@tradeplane/testkit";
import { order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

/**
 * Readiness tells the truth: with NATS gone the gateway cannot write an order nor see its
 * outcome, so /readyz and gRPC health say NOT_SERVING until the connection is back and the
 * projection has caught up with the event stream again.
 */
describe("risk gateway readiness through a NATS outage", () => {
  let venue: Venue;

  beforeAll(async () => {
    venue = await startVenue({ venue: "ready", accounts: [{ name: "alice" }] });
  });

  afterAll(async () => {
    await venue?.close();
  });

  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${venue.gateway.opsPort}/readyz`);
    return { status: res.status, report: (await res.json()) as { checks: Record<string, { state: string }> } };
  };
  const grpc = () => grpcHealth(`127.0.0.1:${venue.gateway.grpcPort}`);

  /** Polls until `probe` gives `want` (the service notices an outage and a recovery on its own time). */
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

  it("is NOT_SERVING while nats-server is down and SERVING once it and the projection are back", async () => {
    expect((await readyz()).status).toBe(200);
    expect(await grpc()).toBe("SERVING");

    await venue.server.stop();
    await until(async () => (await readyz()).status, 503, "/readyz with NATS down");
    const down = await readyz();
    expect(down.report.checks.nats?.state).toBe("down");
    expect(down.report.checks.events?.state).toBe("down");
    expect(await grpc()).toBe("NOT_SERVING");

    await venue.server.restart();
    await waitForJetStream(venue.nc);
    await until(async () => (await readyz()).status, 200, "/readyz after NATS came back");
    expect(await grpc()).toBe("SERVING");
    // Ready means working: an order goes through the log and the engine and comes back as a report.
    const res = await venue.submit(tokenOf("alice"), order({ clientOrderId: "after-outage" }));
    expect(res.reports.map((r) => r.order?.clientOrderId)).toContain("after-outage");
  });
});
