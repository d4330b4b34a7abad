import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { JetStreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { JetStreamServer } from "@tradeplane/testkit";
import {
  EventSequencer,
  JetStreamAsyncPublisher,
  NO_EVENT,
  PREVIOUS_EVENT_HEADER,
  type PublishCallback,
} from "@tradeplane/platform";
import {
  EventPublisher,
  markOf,
  messageIdOf,
  restartMarkOf,
  type EventSink,
  type OutboundEvent,
} from "../../src/adapters/event-publisher.ts";

const encoder = new TextEncoder();

function events(count: number): OutboundEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    cmdSeq: i + 1,
    index: 0,
    subject: `evt.0.${i % 3}`,
    data: encoder.encode(messageIdOf(i + 1, 0)),
  }));
}

/**
 * The real sink, with the server made to refuse chosen calls: those carry
 * `Nats-Expected-Stream` naming another stream, so nats-server itself answers with an error
 * ack for that one message while the rest of the window is stored, as it does for a message
 * lost with a dropped connection or refused during a stream leader change.
 */
class RefusingSink implements EventSink {
  private calls = 0;
  private readonly real: JetStreamAsyncPublisher;
  private readonly refuse: (call: number, msgId: string | undefined) => boolean;

  constructor(real: JetStreamAsyncPublisher, refuse: (call: number, msgId: string | undefined) => boolean) {
    this.real = real;
    this.refuse = refuse;
  }

  publish(
    subject: string,
    data: Uint8Array,
    msgId: string | undefined,
    done: PublishCallback,
    headers?: MsgHdrs,
    own?: readonly (readonly [string, string])[],
  ): void {
    let h = headers;
    if (this.refuse(++this.calls, msgId)) {
      h = natsHeaders();
      for (const [k, v] of headers ?? []) for (const one of v) h.append(k, one);
      h.set("Nats-Expected-Stream", "NOT-EVT");
    }
    this.real.publish(subject, data, msgId, done, h, own);
  }
}

interface Stored {
  readonly seq: number;
  readonly id: string;
  readonly previous: string;
}

/** Partition 0's messages in stream order. */
async function stored(jsm: JetStreamManager): Promise<Stored[]> {
  const info = await jsm.streams.info("EVT");
  const out: Stored[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage("EVT", { seq });
    out.push({ seq, id: m!.header!.get("Nats-Msg-Id"), previous: m!.header!.get(PREVIOUS_EVENT_HEADER) });
  }
  return out;
}

/** What a reader of the stream applies, in order: one mark per partition (risk, market data), sequenced. */
function applied(messages: Stored[]): string[] {
  const sequencer = new EventSequencer<string>(() => NO_EVENT);
  const out: string[] = [];
  for (const m of messages)
    out.push(
      ...sequencer.accept({
        partition: 0,
        streamSeq: m.seq,
        id: markOf(m.id)!,
        previous: markOf(m.previous),
        item: m.id,
      }),
    );
  return out;
}

async function publishAll(publisher: EventPublisher, list: OutboundEvent[]): Promise<void> {
  for (const event of list) {
    const wait = publisher.offer(event);
    if (wait !== undefined) await wait;
  }
  await publisher.idle();
}

describe("EventPublisher keeps a partition's events in command order when one publish of a window fails", () => {
  let nats: JetStreamServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await JetStreamServer.start();
    ({ nc, jsm } = nats);
  });

  afterAll(async () => {
    await nats?.close();
  });

  beforeEach(async () => {
    await jsm.streams.delete("EVT").catch(() => undefined);
    await jsm.streams.add({ name: "EVT", subjects: ["evt.>"], duplicate_window: 60_000_000_000 });
  });

  it("lets a reader with a per-partition mark apply every event once, in command order", async () => {
    const list = events(200);
    const sink = new RefusingSink(new JetStreamAsyncPublisher(nc, 2_000), (call) => call === 50);
    await publishAll(new EventPublisher({ sink, window: 64, maxRetained: 1_000 }, "publish"), list);
    const messages = await stored(jsm);
    // The resent message lands after the rest of its window: that is the case readers handle.
    expect(messages.map((m) => m.id).indexOf("50-0")).toBeGreaterThan(messages.map((m) => m.id).indexOf("51-0"));
    expect(applied(messages)).toEqual(list.map((e) => messageIdOf(e.cmdSeq, e.index)));
  });

  it("restarts from before a message its window lost, so nothing is skipped", async () => {
    const list = events(100);
    // Event 30 is refused every time: its publisher is stuck on it, as a stopped engine would be.
    const sink = new RefusingSink(new JetStreamAsyncPublisher(nc, 2_000), (_, msgId) => msgId === "30-0");
    const stuck = new EventPublisher({ sink, window: 64, maxRetained: 1_000 }, "publish");
    for (const event of list) if (stuck.offer(event) !== undefined) break;
    await expect.poll(() => stuck.state.attempt, { timeout: 10_000 }).toBeGreaterThan(1);
    expect((await stored(jsm)).map((m) => m.id)).not.toContain("30-0");
    expect(stuck.published).toEqual({ cmdSeq: 29, index: 0 });

    const last = await jsm.streams.getMessage("EVT", { last_by_subj: "evt.0.>" });
    const mark = restartMarkOf(last!.header)!;
    expect(mark.cmdSeq).toBeLessThan(30);
    const restarted = new EventPublisher(
      { sink: new JetStreamAsyncPublisher(nc, 2_000), window: 64, maxRetained: 1_000 },
      "publish",
      mark,
    );
    await publishAll(restarted, list);
    expect(applied(await stored(jsm))).toEqual(list.map((e) => messageIdOf(e.cmdSeq, e.index)));
  });
});
