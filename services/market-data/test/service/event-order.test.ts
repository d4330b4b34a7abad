import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials } from "@grpc/grpc-js";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import {
  Command,
  EngineEventBatch,
  eventSubject,
  MarketDataClient,
  type GetSnapshotResponse,
  type GetTradesResponse,
} from "@tradeplane/contracts";
import {
  eventMessageId,
  PREVIOUS_EVENT_HEADER,
  PUBLISHED_EVENT_HEADER,
  provision,
  venueProvisioningPlan,
} from "@tradeplane/platform";
import { connectTo, NatsServer, retry, unary } from "@tradeplane/testkit";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { eventRuns } from "@tradeplane/matching-core/event-runs";
import { Partition } from "@tradeplane/matching-core/partition";
import { main, type StartedMarketData } from "../../src/main.ts";
import { richInstrumentSettings, richStream } from "../support/rich-stream.ts";
import { eventHeadOf, serviceConfig } from "../support/service-config.ts";

const SYMBOLS = richInstrumentSettings.map((i) => i.symbol);
const COMMANDS = 2_500;

/** One event-stream message as an engine partition publishes it. */
interface Message {
  readonly partition: number;
  readonly subject: (venue: string) => string;
  readonly msgId: string;
  readonly previous: string;
  readonly bytes: Uint8Array;
}

/**
 * The rich stream's event messages, with TCS's runs published by partition 1 and the rest by
 * partition 0 (each partition its own chain of `Tp-Prev-Msg-Id`), in command order.
 */
function messagesOf(count: number): Message[] {
  const engine = Partition.create({ engine: engineConfigOf({ instruments: richInstrumentSettings }) });
  const last = new Map<number, string>();
  const out: Message[] = [];
  richStream(count, 11).forEach((c, i) => {
    engine.apply(i + 1, Command.decode(Command.encode(c).finish()));
    for (const run of eventRuns(engine.wireEvents())) {
      const partition = run.instrument === "TCS" ? 1 : 0;
      const msgId = eventMessageId(run.lastCommandSeq, run.lastIndex);
      out.push({
        partition,
        subject: (venue) => eventSubject(venue, partition, run.instrument),
        msgId,
        previous: last.get(partition) ?? eventMessageId(0, -1),
        bytes: EngineEventBatch.encode({ events: run.events }).finish(),
      });
      last.set(partition, msgId);
    }
  });
  return out;
}

/**
 * What each partition's publisher knows stored, as `Tp-Published-Msg-Id` says it: the longest
 * prefix of the partition's messages, in command order, all of which are stored. A message
 * lost and resent later is never inside the prefix of the messages stored before it.
 */
class StoredPrefix {
  private readonly stored = new Set<string>();
  private readonly byPartition = new Map<number, Message[]>();
  private readonly next = new Map<number, number>();

  constructor(order: readonly Message[]) {
    for (const m of order) {
      const list = this.byPartition.get(m.partition) ?? [];
      list.push(m);
      this.byPartition.set(m.partition, list);
    }
  }

  /** The prefix stored before `m`, then records `m` stored. */
  store(m: Message): string {
    const list = this.byPartition.get(m.partition)!;
    let k = this.next.get(m.partition) ?? 0;
    while (k < list.length && this.stored.has(list[k]!.msgId)) k++;
    this.next.set(m.partition, k);
    this.stored.add(m.msgId);
    return k === 0 ? eventMessageId(0, -1) : list[k - 1]!.msgId;
  }
}

/**
 * Stores `m` as the engine does (its id, its predecessor's, the prefix known stored);
 * `stored twice` publishes a copy once the stream's duplicate window let it through, as a
 * resend after the window does.
 */
async function publish(
  js: JetStreamClient,
  venue: string,
  m: Message,
  prefix: StoredPrefix,
  storedTwice = false,
): Promise<void> {
  const h = natsHeaders();
  h.set(PREVIOUS_EVENT_HEADER, m.previous);
  h.set(PUBLISHED_EVENT_HEADER, prefix.store(m));
  const store = async () => {
    const ack = await js.publish(m.subject(venue), m.bytes, { msgID: m.msgId, headers: h });
    if (storedTwice && ack.duplicate) throw new Error(`${m.msgId} still inside the duplicate window`);
  };
  await (storedTwice ? retry(store, 30_000, 250) : store());
}

/**
 * The messages in the order a failing publish window stores them: every `every`-th message of
 * partition 0 is lost and resent after the next `late` messages (of both partitions).
 */
function storedLate(messages: readonly Message[], every: number, late: number): Message[] {
  const out: Message[] = [];
  const delayed: { m: Message; due: number }[] = [];
  let zero = 0;
  messages.forEach((m, i) => {
    if (m.partition === 0 && ++zero % every === 0) delayed.push({ m, due: i + late });
    else out.push(m);
    for (let d = delayed.findIndex((x) => x.due <= i); d >= 0; d = delayed.findIndex((x) => x.due <= i))
      out.push(delayed.splice(d, 1)[0]!.m);
  });
  for (const d of delayed) out.push(d.m);
  return out;
}

/** A venue whose event stream forgets message ids after a second (so a copy can be stored twice). */
async function venue(name: string): Promise<JetStreamClient> {
  await provision(nc, venueProvisioningPlan({ venue: name, duplicateWindowSeconds: 1 }));
  return jetstream(nc);
}

/** Starts a replica of `name` and waits until it applied everything its event stream holds. */
async function replica(name: string, instanceId: string): Promise<StartedMarketData> {
  const r = await main(serviceConfig(server.url, name, { instanceId }));
  started.push(r);
  await r.follower.caughtUp;
  await r.follower.reachedEnd();
  return r;
}

/** Without the source sequences (stream positions differ between venues): books and trades as clients get them. */
function withoutSources(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (k, v: unknown) => (k === "sourceSequence" ? undefined : v)));
}

async function booksAndTrades(r: StartedMarketData) {
  const client = new MarketDataClient(`127.0.0.1:${r.grpcPort}`, credentials.createInsecure());
  try {
    const out = [];
    for (const instrument of SYMBOLS) {
      const book = await unary<GetSnapshotResponse>((cb) =>
        client.getSnapshot({ instrument, depth: 500, includeOrders: true }, cb),
      );
      const trades: GetTradesResponse["trades"] = [];
      for (;;) {
        const page = await unary<GetTradesResponse>((cb) =>
          client.getTrades({ instrument, fromTradeId: (trades.at(-1)?.tradeId ?? 0) + 1, limit: 1_000 }, cb),
        );
        trades.push(...page.trades);
        if (page.trades.length < 1_000) break;
      }
      out.push({ instrument, book: withoutSources(book), trades: withoutSources(trades) });
    }
    return out;
  } finally {
    client.close();
  }
}

let server: NatsServer;
let nc: NatsConnection;
const started: StartedMarketData[] = [];
let messages: Message[];
let reference: Awaited<ReturnType<typeof booksAndTrades>>;

describe("market data applies each partition's messages in command order, whatever order the stream stored them in", () => {
  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connectTo(server.url);
    messages = messagesOf(COMMANDS);
    const js = await venue("mdinorder");
    const inOrderPrefix = new StoredPrefix(messages);
    for (const m of messages) await publish(js, "mdinorder", m, inOrderPrefix);
    const inOrder = await replica("mdinorder", "md-in-order");
    reference = await booksAndTrades(inOrder);
    expect(reference.flatMap((r) => r.trades as unknown[]).length).toBeGreaterThan(100);
  });

  afterAll(async () => {
    for (const r of started) await r.shutdown.run();
    await nc?.close();
    await server?.dispose();
  });

  it("messages resent after later ones, and one stored twice: the same books and trades as in order", async () => {
    const js = await venue("mdlate");
    const stored = storedLate(messages, 25, 6);
    const half = Math.floor(stored.length / 2);
    const latePrefix = new StoredPrefix(messages);
    for (const m of stored.slice(0, half)) await publish(js, "mdlate", m, latePrefix);
    // A partition-0 message of the first half, stored again after its duplicate window.
    const twice = stored.slice(0, half).findLast((m) => m.partition === 0)!;
    await publish(js, "mdlate", twice, latePrefix, true);
    for (const m of stored.slice(half)) await publish(js, "mdlate", m, latePrefix);
    expect(await eventHeadOf(nc, "mdlate")).toBe(messages.length + 1);

    const late = await replica("mdlate", "md-late");
    expect(await booksAndTrades(late)).toEqual(reference);
    expect(late.state.mismatches).toBe(0);
    expect(late.follower.waiting).toBe(0);
    expect(late.follower.gapsSkipped).toBe(0);
  });

  it("a snapshot taken while a message waits for its predecessor records a position before it: a replica started from it ends the same", async () => {
    const js = await venue("mdheld");
    const cut = Math.floor(messages.length / 3);
    // The last partition-0 message before the cut is lost; the one after it and partition 1's go on being stored.
    const lost = messages.slice(0, cut).findLastIndex((m) => m.partition === 0);
    const next = messages.findIndex((m, i) => i > lost && m.partition === 0);
    const firstPart = messages.slice(0, next + 1).filter((_, i) => i !== lost);
    const moreOfOne = messages
      .slice(next + 1)
      .filter((m) => m.partition === 1)
      .slice(0, 20);
    const heldPrefix = new StoredPrefix(messages);
    for (const m of [...firstPart, ...moreOfOne]) await publish(js, "mdheld", m, heldPrefix);

    const first = await replica("mdheld", "md-held-1");
    expect(first.follower.waiting).toBe(1);
    // Partition 1's messages after the waiting one were applied, but a restart must read it again.
    // Its stream sequence: the messages before it were stored in order, but for the lost one.
    const heldSeq = next;
    expect(first.state.position).toBeGreaterThan(heldSeq);
    expect(first.follower.safePosition).toBe(heldSeq - 1);
    expect(await first.snapshots.save()).toBe(true);
    expect(first.snapshots.lastSeq).toBe(heldSeq - 1);

    await publish(js, "mdheld", messages[lost]!, heldPrefix);
    const rest = messages.slice(next + 1).filter((m) => !moreOfOne.includes(m));
    for (const m of rest) await publish(js, "mdheld", m, heldPrefix);
    await first.follower.reachedEnd();
    const second = await replica("mdheld", "md-held-2");
    expect(second.snapshots.lastSeq).toBe(heldSeq - 1);
    for (const r of [first, second]) {
      expect(r.follower.waiting).toBe(0);
      expect(r.state.mismatches).toBe(0);
      expect(await booksAndTrades(r)).toEqual(reference);
    }
  });
});
