import { jetstream } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineEventBatch, eventSubject } from "@tradeplane/contracts";
import { eventMessageId, PREVIOUS_EVENT_HEADER } from "@tradeplane/platform";
import { retry } from "@tradeplane/testkit";
import { order, sample, scrape, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

const VENUE = "rmet";

/**
 * The event-stream gauges of risk-metrics.ts against a real gateway: what
 * tp_risk_events_applied_since_start counts when the stream holds messages the projection
 * cannot apply (yet, or ever).
 */
describe("tp_risk_events_applied_since_start counts the event messages the projection applied", () => {
  let venue: Venue;

  beforeAll(async () => {
    venue = await startVenue({ venue: VENUE, accounts: [{ name: "alice" }] });
  });

  afterAll(async () => {
    await venue?.close();
  });

  const metric = async (name: string) => sample(await scrape(venue), name);

  /** Stores a message on partition 0's event subject, as a stray publisher would; resolves with its stream sequence. */
  const publish = async (data: Uint8Array, msgHeaders?: Record<string, string>): Promise<number> => {
    const h = headers();
    for (const [k, v] of Object.entries(msgHeaders ?? {})) h.set(k, v);
    const ack = await jetstream(venue.nc).publish(eventSubject(VENUE, 0, "INFY"), data, {
      ...(msgHeaders === undefined ? {} : { headers: h }),
    });
    return ack.seq;
  };

  it("counts a message once it is applied", async () => {
    const before = (await metric("tp_risk_events_applied_since_start"))!;
    await venue.submit(tokenOf("alice"), order({ clientOrderId: "applied-1" }));
    expect(await metric("tp_risk_events_applied_since_start")).toBeGreaterThan(before);
  });

  it("does not count a message it cannot decode, which it skips", async () => {
    const before = (await metric("tp_risk_events_applied_since_start"))!;
    const seq = await publish(new TextEncoder().encode("not an event batch"));
    await retry(async () => expect(await metric("tp_risk_event_stream_seq")).toBeGreaterThanOrEqual(seq));
    expect(await metric("tp_risk_events_applied_since_start")).toBe(before);
  });

  it("does not count a message held back for an earlier one that has not arrived", async () => {
    const before = (await metric("tp_risk_events_applied_since_start"))!;
    // A message of a command far ahead, naming a predecessor the stream does not hold.
    await publish(EngineEventBatch.encode({ events: [] }).finish(), {
      "Nats-Msg-Id": eventMessageId(1e12 + 1_000, 0),
      [PREVIOUS_EVENT_HEADER]: eventMessageId(1e12, 0),
    });
    await retry(async () => expect(await metric("tp_risk_events_waiting")).toBe(1));
    expect(await metric("tp_risk_events_applied_since_start")).toBe(before);
  });
});
