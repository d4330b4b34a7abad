import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectTo, NatsCluster, retry } from "../src/index.ts";

describe("a three-server JetStream cluster", () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    nc = await connectTo(cluster.urls);
  });

  afterAll(async () => {
    await nc?.close();
    await cluster?.dispose();
  });

  it("keeps every acknowledged message of a replicated stream when one server stops", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "REPL", subjects: ["repl.>"], num_replicas: 3 });
    const js = jetstream(nc);
    for (let i = 0; i < 50; i++) await js.publish("repl.x", new TextEncoder().encode(String(i)));

    await cluster.servers[0]!.stop();
    await cluster.waitForJetStream();

    // The stream may need to elect a new leader before it answers.
    const info = await retry(() => jsm.streams.info("REPL"));
    expect(info.config.num_replicas).toBe(3);
    expect(info.state.messages).toBe(50);
    const last = await retry(() => jsm.streams.getMessage("REPL", { seq: 50 }));
    expect(last?.string()).toBe("49");
  });
});
