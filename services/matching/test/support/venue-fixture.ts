import { jetstream, jetstreamManager, DeliverPolicy, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  Command,
  commandStreamName,
  commandSubject,
  EngineEventBatch,
  eventStreamName,
  type EngineEvent as EngineEventT,
} from "@tradeplane/contracts";
import { commandLogWriter, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { connectTo, retry } from "@tradeplane/testkit";
import { engineConfigOf } from "../../src/engine-config.ts";
import { eventRuns } from "../../src/domain/event-runs.ts";
import { Partition } from "../../src/domain/partition.ts";
import { testInstrumentSettings } from "@tradeplane/testkit";

/** One message of the event stream: a run of one command's events about one instrument. */
export interface StoredEvent {
  readonly msgId: string;
  readonly events: EngineEventT[];
  readonly bytes: Uint8Array;
}

/** The messages the engine publishes for the partition's last command. */
function messagesOf(seq: number, partition: Partition): StoredEvent[] {
  return eventRuns(partition.wireEvents()).map((run) => {
    const bytes = EngineEventBatch.encode({ events: run.events }).finish();
    return { msgId: `${seq}-${run.lastIndex}`, events: run.events, bytes };
  });
}

/** Provisions a venue on a server and gives the test a connection and a command writer. */
export async function venueFixture(servers: string | readonly string[], venue: string, replicas = 1) {
  const nc: NatsConnection = await connectTo(servers);
  await provision(nc, venueProvisioningPlan({ venue, replicas }));
  const js: JetStreamClient = jetstream(nc);
  const writer = commandLogWriter(nc, venue, 30_000);
  return { nc, js, writer };
}

/** Appends commands to partition 0, pipelined; returns the last sequence. */
export async function appendAll(
  js: JetStreamClient,
  venue: string,
  commands: readonly Command[],
  window = 512,
): Promise<number> {
  let last = 0;
  const inFlight: Promise<void>[] = [];
  for (const c of commands) {
    const stored = js.publish(commandSubject(venue, 0), Command.encode(c).finish(), { timeout: 30_000 });
    inFlight.push(stored.then((ack) => void (last = Math.max(last, ack.seq))));
    if (inFlight.length >= window) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  return last;
}

/** Every event of the venue's event stream, in stream order. */
export async function readEvents(nc: NatsConnection, venue: string): Promise<StoredEvent[]> {
  const info = await retry(async () => (await jetstreamManager(nc)).streams.info(eventStreamName(venue)));
  if (info.state.messages === 0) return [];
  const js = jetstream(nc);
  const consumer = await retry(() => js.consumers.get(eventStreamName(venue), { deliver_policy: DeliverPolicy.All }));
  const out: StoredEvent[] = [];
  const messages = await consumer.consume({ max_messages: 4096 });
  for await (const m of messages) {
    out.push({
      msgId: m.headers?.get("Nats-Msg-Id") ?? "",
      events: EngineEventBatch.decode(m.data).events,
      bytes: m.data,
    });
    if (m.info.pending === 0 && out.length >= info.state.messages) break;
  }
  await messages.close();
  return out;
}

/** The uninterrupted reference: the same commands applied to a pure partition in process. */
export function referenceRun(commands: readonly Command[], firstSeq = 1): { digest: string; events: StoredEvent[] } {
  const partition = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
  const events: StoredEvent[] = [];
  commands.forEach((command, i) => {
    const seq = firstSeq + i;
    partition.apply(seq, Command.decode(Command.encode(command).finish()));
    events.push(...messagesOf(seq, partition));
  });
  return { digest: partition.digest(), events };
}

/** Every command of the venue's log with its sequence, in log order. */
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

/** The reference for whatever the log holds: each entry applied to a pure partition at its own sequence. */
export function referenceFromLog(log: readonly { seq: number; data: Uint8Array }[]): {
  digest: string;
  events: StoredEvent[];
} {
  const partition = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
  const events: StoredEvent[] = [];
  for (const { seq, data } of log) {
    let command: Command | undefined;
    let error: string | undefined;
    try {
      command = Command.decode(data);
    } catch (err) {
      error = `command does not decode: ${(err as Error).message}`;
    }
    partition.apply(seq, command, error);
    events.push(...messagesOf(seq, partition));
  }
  return { digest: partition.digest(), events };
}

/**
 * Appends commands in the background with retries (each with a message id, so a retry
 * never stores a command twice), as a gateway under NATS trouble would.
 */
export function backgroundAppender(js: JetStreamClient, venue: string, commands: readonly Command[], window = 256) {
  let acked = 0;
  let stopped = false;
  const done = (async () => {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < commands.length && !stopped; i++) {
      const data = Command.encode(commands[i]!).finish();
      const attempt = async (): Promise<void> => {
        for (let tries = 0; ; tries++) {
          try {
            await js.publish(commandSubject(venue, 0), data, { msgID: `cmd-${i}`, timeout: 5_000 });
            acked++;
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
