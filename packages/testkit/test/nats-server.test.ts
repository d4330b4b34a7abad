import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { readFileSync, statSync } from "node:fs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { connectTo, NatsServer } from "../src/index.ts";

describe("a real nats-server with JetStream", () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connectTo(server.url);
  });

  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it("stores published messages and replays them to an ordered consumer", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "SMOKE", subjects: ["smoke.>"] });
    const js = jetstream(nc);
    for (let i = 1; i <= 10; i++) {
      const ack = await js.publish("smoke.a", new TextEncoder().encode(`m${i}`), { msgID: `id-${i}` });
      expect(ack.seq).toBe(i);
    }
    const duplicate = await js.publish("smoke.a", new TextEncoder().encode("m1"), { msgID: "id-1" });
    expect(duplicate.duplicate).toBe(true);

    const consumer = await js.consumers.get("SMOKE");
    const received: string[] = [];
    const messages = await consumer.consume();
    for await (const m of messages) {
      received.push(m.string());
      if (m.info.pending === 0) break;
    }
    expect(received).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 1}`));
  });

  it("keeps stored messages across a restart on the same store directory", async () => {
    await nc.close();
    await server.restart();
    nc = await connectTo(server.url);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("SMOKE");
    expect(info.state.messages).toBe(10);
  });
});

describe("a nats-server with a token", () => {
  const TOKEN = "nats-test-token-0123456789abcdef";

  it("reads the token from a 0600 config file, never from its command line, and refuses clients without it", async () => {
    const server = await NatsServer.start({ token: TOKEN });
    try {
      // What `ps` shows every user of the machine.
      const cmdline = readFileSync(`/proc/${server.pid}/cmdline`, "utf8").split("\0");
      expect(cmdline.join(" ")).not.toContain(TOKEN);
      const configFile = cmdline[cmdline.indexOf("-c") + 1]!;
      expect(statSync(configFile).mode & 0o777).toBe(0o600);
      await expect(connect({ servers: server.url, timeout: 2_000 })).rejects.toThrow(/Authorization/i);
      const nc = await connect({ servers: server.url, token: TOKEN });
      await nc.close();
    } finally {
      await server.dispose();
    }
  });
});
