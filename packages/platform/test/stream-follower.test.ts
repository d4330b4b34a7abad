import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { JetStreamServer, type NatsServer, waitForJetStream } from "@tradeplane/testkit";
import { createLogger, StreamFollower } from "../src/index.ts";

const logger = createLogger({ service: "test", level: "silent" });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("StreamFollower on a real nats-server", () => {
  let nats: JetStreamServer;
  let server: NatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await JetStreamServer.start();
    ({ server, nc, js, jsm } = nats);
  });

  afterAll(async () => {
    await nats?.close();
  });

  async function streamOf(name: string, messages: number): Promise<void> {
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    await Promise.all(
      Array.from({ length: messages }, (_, i) => js.publish(`${name}.${i % 3}`, encoder.encode(String(i + 1)))),
    );
  }

  const follower = (stream: string, seen: number[], filterSubject?: string) =>
    new StreamFollower({
      js,
      stream,
      ...(filterSubject === undefined ? {} : { filterSubject }),
      logger,
      what: "test",
      onMessage: (m) => void seen.push(Number(decoder.decode(m.data))),
      lastSeq: async () => (await jsm.streams.info(stream)).state.last_seq,
    });

  it.each([
    ["from the start", 0, 1],
    ["from the message after a position", 700, 701],
  ])("hands over every message once, in order, %s", async (_case, from, first) => {
    const stream = `s${from}`;
    await streamOf(stream, 1_000);
    const seen: number[] = [];
    const f = follower(stream, seen);
    f.start(from);
    await f.reachedEnd();
    await f.stop();
    expect(seen).toEqual(Array.from({ length: 1_001 - first }, (_, i) => first + i));
    expect(f.position).toBe(1_000);
  });

  it("follows only the filtered subject, by stream sequence", async () => {
    await streamOf("filtered", 30);
    const seen: number[] = [];
    const f = follower("filtered", seen, "filtered.1");
    f.start();
    await f.reached(29);
    await f.stop();
    expect(seen).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
  });

  it("waits for a handler's promise before the next message", async () => {
    await streamOf("slow", 20);
    const order: string[] = [];
    const f = new StreamFollower({
      js,
      stream: "slow",
      logger,
      what: "test",
      onMessage: async (m) => {
        order.push(`start ${m.seq}`);
        await new Promise((r) => setTimeout(r, 1));
        order.push(`end ${m.seq}`);
      },
      lastSeq: async () => (await jsm.streams.info("slow")).state.last_seq,
    });
    f.start();
    await f.reachedEnd();
    await f.stop();
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => [`start ${i + 1}`, `end ${i + 1}`]).flat());
  });

  it("loses nothing and repeats nothing when nats-server restarts while it follows", async () => {
    await streamOf("restart", 2_000);
    const seen: number[] = [];
    const f = follower("restart", seen);
    f.start();
    await f.reached(500);
    await server.restart();
    await waitForJetStream(nc);
    await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => js.publish(`restart.${i % 3}`, encoder.encode(String(2_001 + i)))),
    );
    await f.reachedEnd();
    await f.stop();
    expect(seen).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
  });
});
