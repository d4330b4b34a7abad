import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { eventStreamName, eventSubject, eventSubjects } from "@tradeplane/contracts";
import { JetStreamServer } from "@tradeplane/testkit";
import { createLogger, EventStreamOrder, NO_EVENT, PREVIOUS_EVENT_HEADER, StreamFollower } from "../src/index.ts";

const logger = createLogger({ service: "test", level: "silent" });
const VENUE = "ordr";

describe("EventStreamOrder behind a StreamFollower on a real nats-server", () => {
  let nats: JetStreamServer;
  let js: JetStreamClient;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await JetStreamServer.start();
    ({ js, jsm } = nats);
    await jsm.streams.add({ name: eventStreamName(VENUE), subjects: [eventSubjects(VENUE)] });
  });

  afterAll(async () => {
    await nats?.close();
  });

  /** Stores `partition:id<previous` messages in the order given, as two engines' resends can. */
  async function store(specs: string[]): Promise<void> {
    for (const spec of specs) {
      const [partition, rest] = spec.split(":");
      const [id, previous] = rest!.split("<");
      const h = natsHeaders();
      h.set("Nats-Msg-Id", id!);
      h.set(PREVIOUS_EVENT_HEADER, previous!);
      await js.publish(eventSubject(VENUE, Number(partition), "X"), new TextEncoder().encode(spec), { headers: h });
    }
  }

  it("hands each partition's messages over in command order, and a snapshot position before any still waiting", async () => {
    await store(["0:1-0<0--1", "1:2-0<0--1", "0:4-0<3-0", "1:5-0<2-0", "0:3-0<1-0", "1:6-0<5-0", "0:6-1<4-0"]);
    const applied: string[] = [];
    let atThird: { waiting: number; safe: number } | undefined;
    const order = new EventStreamOrder(
      () => NO_EVENT,
      (m) => applied.push(m.string().split("<")[0]!),
    );
    const follower = new StreamFollower({
      js,
      stream: eventStreamName(VENUE),
      logger,
      what: "event",
      onMessage: (m) => {
        order.onMessage(m);
        if (m.seq === 3) atThird = { waiting: order.waiting, safe: order.safePosition(m.seq) };
      },
      lastSeq: async () => (await jsm.streams.info(eventStreamName(VENUE))).state.last_seq,
    });
    follower.start(0);
    await follower.reachedEnd();
    await follower.stop();
    expect(applied).toEqual(["0:1-0", "1:2-0", "1:5-0", "0:3-0", "0:4-0", "1:6-0", "0:6-1"]);
    expect(atThird).toEqual({ waiting: 1, safe: 2 });
    expect(order.waiting).toBe(0);
    expect(order.safePosition(follower.position)).toBe(7);
  });
});
