import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  CommandBatch,
  commandSeqOf,
  commandStreamName,
  EngineEventBatch,
  eventStreamName,
  eventSubjectPartition,
  type Command,
  type EngineEvent,
} from "@tradeplane/contracts";
import { retry } from "@tradeplane/testkit";
import { isLivenessKey } from "../../src/domain/account-ownership.ts";

/** A command of the log with where it is: its partition and command sequence. */
export interface LoggedCommandAt {
  readonly partition: number;
  readonly seq: number;
  readonly command: Command;
}

/** A stored event with the partition of its subject, in stream order. */
export interface EventAt {
  readonly partition: number;
  readonly event: EngineEvent;
}

async function readAll<T>(
  nc: NatsConnection,
  stream: string,
  decode: (subject: string, seq: number, data: Uint8Array) => T[],
): Promise<T[]> {
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  if (info.state.messages === 0) return [];
  const consumer = await retry(() => jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All }));
  const messages = await consumer.consume({ max_messages: 4_096 });
  const out: T[] = [];
  for await (const m of messages) {
    out.push(...decode(m.subject, m.seq, m.data));
    if (m.seq >= info.state.last_seq) break;
  }
  await messages.close();
  return out;
}

/** Every command of the venue's command log, in log order. */
export function commandLog(nc: NatsConnection, venue: string): Promise<LoggedCommandAt[]> {
  return readAll(nc, commandStreamName(venue), (subject, seq, data) => {
    const partition = Number(subject.slice(subject.lastIndexOf(".") + 1));
    return CommandBatch.decode(data).commands.map((command, i) => ({ partition, seq: commandSeqOf(seq, i), command }));
  });
}

/** Every event of the venue's event stream, in stream order. */
export function eventLog(nc: NatsConnection, venue: string): Promise<EventAt[]> {
  return readAll(nc, eventStreamName(venue), (subject, _seq, data) => {
    const partition = eventSubjectPartition(subject)!;
    return EngineEventBatch.decode(data).events.map((event) => ({ partition, event }));
  });
}

/**
 * Every write the owners bucket ever stored (puts and deletes): the last sequence of its
 * stream, which each write moves by one. With history 1 the stream keeps one message per key,
 * so its message count says nothing of how often a key was written; the sequence does.
 */
export async function bucketWrites(nc: NatsConnection, bucket: string): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(`KV_${bucket}`)).state.last_seq;
}

/** The replicas' liveness keys now in an owners bucket, with the holder each names. */
export async function livenessKeys(kv: KV): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const key of await kv.keys()) {
    if (!isLivenessKey(key)) continue;
    const entry = await kv.get(key);
    if (entry?.operation === "PUT") out.set(key, entry.json<{ holder: string }>().holder);
  }
  return out;
}
