import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { JetStreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { JetStreamServer, retry, type NatsServer } from "@tradeplane/testkit";
import { JetStreamAsyncPublisher } from "@tradeplane/platform";
import { EventPublisher, markOf, messageIdOf, type OutboundEvent } from "../../src/adapters/event-publisher.ts";

const encoder = new TextEncoder();

function events(fromCmd: number, toCmd: number, perCmd: number): OutboundEvent[] {
  const out: OutboundEvent[] = [];
  for (let cmdSeq = fromCmd; cmdSeq <= toCmd; cmdSeq++)
    for (let index = 0; index < perCmd; index++)
      out.push({ cmdSeq, index, subject: `evt.${cmdSeq % 3}`, data: encoder.encode(messageIdOf(cmdSeq, index)) });
  return out;
}

async function publishAll(publisher: EventPublisher, list: OutboundEvent[]): Promise<void> {
  for (const event of list) {
    const wait = publisher.offer(event);
    if (wait !== undefined) await wait;
  }
  await publisher.idle();
}

/**
 * Every id the stream holds, a direct read each. Each read is retried: after the server's
 * restart its first requests can outlast the request timeout on a loaded machine, which says
 * nothing about what the publisher stored.
 */
async function storedIds(jsm: JetStreamManager): Promise<string[]> {
  const info = await retry(() => jsm.streams.info("EVT"));
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await retry(() => jsm.streams.getMessage("EVT", { seq }));
    ids.push(m!.string());
  }
  return ids;
}

describe("EventPublisher against a real nats-server", () => {
  let nats: JetStreamServer;
  let server: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await JetStreamServer.start();
    ({ server, nc, jsm } = nats);
  });

  afterAll(async () => {
    await nats?.close();
  });

  beforeEach(async () => {
    await jsm.streams.delete("EVT").catch(() => undefined);
    await jsm.streams.add({ name: "EVT", subjects: ["evt.>"], duplicate_window: 60_000_000_000 });
  });

  const options = () => ({ sink: new JetStreamAsyncPublisher(nc, 2_000), window: 64, maxRetained: 1_000 });

  it("publishes every event once, in order, with <cmdSeq>-<index> ids", async () => {
    const list = events(1, 300, 3);
    const publisher = new EventPublisher(options(), "publish");
    expect(publisher.published).toEqual({ cmdSeq: 0, index: -1 });
    await publishAll(publisher, list);
    expect(await storedIds(jsm)).toEqual(list.map((e) => messageIdOf(e.cmdSeq, e.index)));
    expect(publisher.published).toEqual({ cmdSeq: 300, index: 2 });
  });

  it("marks as published only events the stream holds with everything before them", async () => {
    const publisher = new EventPublisher(options(), "publish");
    const list = events(1, 400, 2);
    const run = publishAll(publisher, list);
    const seen: string[] = [];
    while (publisher.backlog > 0 || seen.length === 0) {
      const { cmdSeq, index } = publisher.published;
      if (cmdSeq > 0) {
        const stored = await storedIds(jsm);
        const upTo = list.findIndex((e) => e.cmdSeq === cmdSeq && e.index === index);
        expect(stored.slice(0, upTo + 1)).toEqual(list.slice(0, upTo + 1).map((e) => messageIdOf(e.cmdSeq, e.index)));
      }
      seen.push(messageIdOf(cmdSeq, index));
      await new Promise((r) => setImmediate(r));
    }
    await run;
    expect(publisher.published).toEqual({ cmdSeq: 400, index: 1 });
  });

  it("gives each event its own id when a command's events share one headers object (its trace context)", async () => {
    const shared = natsHeaders();
    shared.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const list = events(1, 20, 3).map((e) => ({ ...e, headers: shared }));
    await publishAll(new EventPublisher(options(), "publish"), list);
    expect(await storedIds(jsm)).toEqual(list.map((e) => messageIdOf(e.cmdSeq, e.index)));
    const last = await jsm.streams.getMessage("EVT", { last_by_subj: "evt.>" });
    expect(last!.header!.get("Nats-Msg-Id")).toBe(messageIdOf(20, 2));
    expect(last!.header!.get("traceparent")).toContain("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("skips what the stream already holds, up to the mark", async () => {
    const list = events(1, 10, 2);
    await publishAll(new EventPublisher(options(), "publish"), list.slice(0, 7));
    const last = await jsm.streams.getMessage("EVT", { last_by_subj: "evt.>" });
    const mark = markOf(last!.header!.get("Nats-Msg-Id"))!;
    expect(mark).toEqual({ cmdSeq: 4, index: 0 });
    const restarted = new EventPublisher(options(), "publish", mark);
    expect(restarted.published).toEqual(mark);
    await publishAll(restarted, list);
    expect(await storedIds(jsm)).toEqual(list.map((e) => messageIdOf(e.cmdSeq, e.index)));
    expect(restarted.published).toEqual({ cmdSeq: 10, index: 1 });
  });

  it("retains as a standby and publishes only what the primary had not, on promotion", async () => {
    const list = events(1, 20, 2);
    const primary = new EventPublisher(options(), "publish");
    await publishAll(primary, list.slice(0, 25));
    const standby = new EventPublisher(options(), "retain");
    for (const e of list) standby.offer(e);
    standby.observe({ cmdSeq: 10, index: 1 });
    expect(standby.backlog).toBe(20);
    expect(standby.published).toEqual({ cmdSeq: 10, index: 1 });
    standby.promote({ cmdSeq: 13, index: 0 });
    expect(standby.published).toEqual({ cmdSeq: 13, index: 0 });
    await standby.idle();
    expect(await storedIds(jsm)).toEqual(list.map((e) => messageIdOf(e.cmdSeq, e.index)));
    expect(standby.published).toEqual({ cmdSeq: 20, index: 1 });
  });

  it("loses nothing and duplicates nothing when nats-server restarts mid-stream", async () => {
    const list = events(1, 3_000, 2);
    const publisher = new EventPublisher(options(), "publish");
    const run = publishAll(publisher, list);
    await new Promise((r) => setTimeout(r, 30));
    await server.restart();
    await run;
    const ids = await storedIds(jsm);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(list.map((e) => messageIdOf(e.cmdSeq, e.index)).sort());
    expect(publisher.published).toEqual({ cmdSeq: 3_000, index: 1 });
  });
});
