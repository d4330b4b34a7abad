import { jetstream, jetstreamManager, DeliverPolicy, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Command } from "@tradeplane/contracts";
import {
  CommandBatch,
  commandSeqOf,
  commandStreamName,
  commandSubject,
  EngineEventBatch,
  eventStreamName,
  eventSubjectPartition,
  type EngineEvent as EngineEventT,
} from "@tradeplane/contracts";
import {
  commandLogWriter,
  eventMarkOf,
  EventSequencer,
  NO_EVENT,
  PREVIOUS_EVENT_HEADER,
  provision,
  venueProvisioningPlan,
} from "@tradeplane/platform";
import { connectTo, retry } from "@tradeplane/testkit";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { eventRuns } from "@tradeplane/matching-core/event-runs";
import { decodeEntry } from "@tradeplane/matching-core/log-entry";
import { Partition } from "@tradeplane/matching-core/partition";
import { testInstrumentSettings } from "@tradeplane/testkit";

/** One message of the event stream: a run of an entry's events about one instrument. */
export interface StoredEvent {
  readonly msgId: string;
  readonly events: EngineEventT[];
  readonly bytes: Uint8Array;
  /** As stored: its stream sequence, subject and predecessor header. */
  readonly seq?: number;
  readonly subject?: string;
  readonly previous?: string;
}

/** The messages the engine publishes for one entry's events. */
function messagesOf(events: EngineEventT[]): StoredEvent[] {
  return eventRuns(events).map((run) => {
    const bytes = EngineEventBatch.encode({ events: run.events }).finish();
    return { msgId: `${run.lastCommandSeq}-${run.lastIndex}`, events: run.events, bytes };
  });
}

/**
 * Entry sizes the fixtures cut command streams into, in turn: single commands and batches
 * of several, as gateways write them, so every proof also covers multi-command entries.
 */
const ENTRY_SIZES = [1, 4, 2, 9, 1, 3, 16, 5];

/** Cuts commands into log entries of the fixture sizes. */
export function entriesOf(commands: readonly Command[]): Command[][] {
  const out: Command[][] = [];
  for (let i = 0, k = 0; i < commands.length; k++) {
    const size = ENTRY_SIZES[k % ENTRY_SIZES.length]!;
    out.push(commands.slice(i, i + size));
    i += size;
  }
  return out;
}

/**
 * The command sequences commands get when cut by entriesOf and written from the entry at
 * `firstEntrySeq`: what a command stream's cancels and replaces must name (commandStream's `seqOf`).
 */
export function entrySeqs(firstEntrySeq = 1): (i: number) => number {
  const seqs: number[] = [];
  let entry = firstEntrySeq;
  let k = 0;
  return (i) => {
    while (seqs.length <= i) {
      const size = ENTRY_SIZES[k++ % ENTRY_SIZES.length]!;
      for (let p = 0; p < size; p++) seqs.push(commandSeqOf(entry, p));
      entry++;
    }
    return seqs[i]!;
  };
}

const encodeEntry = (commands: readonly Command[]): Uint8Array =>
  CommandBatch.encode({ commands: [...commands] }).finish();

/** Provisions a venue on a server and gives the test a connection and a command writer. */
export async function venueFixture(servers: string | readonly string[], venue: string, replicas = 1) {
  const nc: NatsConnection = await connectTo(servers);
  await provision(nc, venueProvisioningPlan({ venue, replicas }));
  const js: JetStreamClient = jetstream(nc);
  const writer = commandLogWriter(nc, venue, 30_000);
  return { nc, js, writer };
}

/** Appends commands to partition 0 in entries of the fixture sizes, pipelined; returns the last command sequence. */
export async function appendAll(
  js: JetStreamClient,
  venue: string,
  commands: readonly Command[],
  window = 512,
): Promise<number> {
  let last = 0;
  const inFlight: Promise<void>[] = [];
  for (const entry of entriesOf(commands)) {
    const stored = js.publish(commandSubject(venue, 0), encodeEntry(entry), { timeout: 30_000 });
    inFlight.push(stored.then((ack) => void (last = Math.max(last, commandSeqOf(ack.seq, entry.length - 1)))));
    if (inFlight.length >= window) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  return last;
}

/** The (command, index) of the last of these events, what an engine's published mark reaches once they are all stored. */
export function lastMarkOf(events: readonly StoredEvent[]): { cmdSeq: number; index: number } {
  const last = events.at(-1)?.events.at(-1);
  return last === undefined ? { cmdSeq: 0, index: -1 } : { cmdSeq: last.commandSeq, index: last.index };
}

/**
 * How long reads of the event stream are retried: after a cluster loses a server, the
 * JetStream API can stay unavailable for tens of seconds while the survivors elect leaders
 * on two loaded cores (a CI run saw more than 30 s).
 */
const READ_RETRY_MS = 90_000;

/** Every event of the venue's event stream, in stream order. */
export async function readEvents(nc: NatsConnection, venue: string): Promise<StoredEvent[]> {
  const info = await retry(
    async () => (await jetstreamManager(nc)).streams.info(eventStreamName(venue)),
    READ_RETRY_MS,
  );
  if (info.state.messages === 0) return [];
  const js = jetstream(nc);
  const consumer = await retry(
    () => js.consumers.get(eventStreamName(venue), { deliver_policy: DeliverPolicy.All }),
    READ_RETRY_MS,
  );
  const out: StoredEvent[] = [];
  const messages = await consumer.consume({ max_messages: 4096 });
  for await (const m of messages) {
    out.push({
      msgId: m.headers?.get("Nats-Msg-Id") ?? "",
      events: EngineEventBatch.decode(m.data).events,
      bytes: m.data,
      seq: m.seq,
      subject: m.subject,
      previous: m.headers?.get(PREVIOUS_EVENT_HEADER) ?? "",
    });
    if (m.info.pending === 0 && out.length >= info.state.messages) break;
  }
  await messages.close();
  return out;
}

/**
 * The stored messages in the order a reader of the stream applies them: each partition's
 * held until its predecessor is applied, those stored twice dropped (platform's EventSequencer,
 * behind every reader). Messages may be stored out of order while NATS fails; this may not be.
 */
export function inReaderOrder(stored: readonly StoredEvent[]): StoredEvent[] {
  const sequencer = new EventSequencer<StoredEvent>(() => NO_EVENT);
  const out: StoredEvent[] = [];
  for (const m of stored)
    out.push(
      ...sequencer.accept({
        partition: eventSubjectPartition(m.subject ?? "") ?? -1,
        streamSeq: m.seq ?? 0,
        id: eventMarkOf(m.msgId)!,
        previous: eventMarkOf(m.previous),
        item: m,
      }),
    );
  return out;
}

/**
 * The uninterrupted reference: the same commands, cut into the same entries as appendAll,
 * applied to a pure partition in process (the log's entries from `firstEntrySeq`).
 */
export function referenceRun(
  commands: readonly Command[],
  firstEntrySeq = 1,
): { digest: string; events: StoredEvent[] } {
  return referenceFromLog(
    entriesOf(commands).map((entry, i) => ({ seq: firstEntrySeq + i, data: encodeEntry(entry) })),
  );
}

/** The command sequence of the last command a log holds (0 for an empty log). */
export function lastCommandSeqOf(log: readonly { seq: number; data: Uint8Array }[]): number {
  const last = log[log.length - 1];
  if (last === undefined) return 0;
  return commandSeqOf(last.seq, decodeEntry(last.data).commands.length - 1);
}

/** Every entry of the venue's command log with its stream sequence, in log order. */
export async function readCommands(nc: NatsConnection, venue: string): Promise<{ seq: number; data: Uint8Array }[]> {
  const info = await retry(async () => (await jetstreamManager(nc)).streams.info(commandStreamName(venue)));
  if (info.state.messages === 0) return [];
  const js = jetstream(nc);
  const consumer = await retry(() => js.consumers.get(commandStreamName(venue), { deliver_policy: DeliverPolicy.All }));
  const out: { seq: number; data: Uint8Array }[] = [];
  const messages = await consumer.consume({ max_messages: 4096 });
  for await (const m of messages) {
    out.push({ seq: m.seq, data: m.data });
    if (m.info.pending === 0 && out.length >= info.state.messages) break;
  }
  await messages.close();
  return out;
}

/** The reference for whatever the log holds: each entry's commands applied to a pure partition at their sequences. */
export function referenceFromLog(log: readonly { seq: number; data: Uint8Array }[]): {
  digest: string;
  events: StoredEvent[];
} {
  const partition = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
  const events: StoredEvent[] = [];
  for (const { seq, data } of log) {
    const entry = decodeEntry(data);
    const entryEvents: EngineEventT[] = [];
    entry.commands.forEach((command, i) => {
      partition.apply(commandSeqOf(seq, i), command, entry.error);
      entryEvents.push(...partition.wireEvents());
    });
    events.push(...messagesOf(entryEvents));
  }
  return { digest: partition.digest(), events };
}

/**
 * Appends commands in the background, in entries of the fixture sizes, with retries (each
 * entry with a message id, so a retry never stores it twice), as a gateway under NATS
 * trouble would. `acked` counts commands.
 */
export function backgroundAppender(js: JetStreamClient, venue: string, commands: readonly Command[], window = 256) {
  let acked = 0;
  let stopped = false;
  const done = (async () => {
    const inFlight = new Set<Promise<void>>();
    const entries = entriesOf(commands);
    for (let i = 0; i < entries.length && !stopped; i++) {
      const data = encodeEntry(entries[i]!);
      const size = entries[i]!.length;
      const attempt = async (): Promise<void> => {
        for (let tries = 0; ; tries++) {
          try {
            await js.publish(commandSubject(venue, 0), data, { msgID: `cmd-${i}`, timeout: 5_000 });
            acked += size;
            return;
          } catch (err) {
            if (tries > 200) throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      };
      const p = attempt().finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  })();
  return {
    done,
    get acked() {
      return acked;
    },
    stop() {
      stopped = true;
    },
  };
}
