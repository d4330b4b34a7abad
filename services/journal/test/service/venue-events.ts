import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  CommandBatch,
  commandSeqOf,
  commandSubject,
  EngineEventBatch,
  eventMsgId,
  eventSubject,
  type EngineEvent,
} from "@tradeplane/contracts";
import type { EngineConfig } from "@tradeplane/matching-core/config";
import { ensureLogFormat, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { eventRuns } from "@tradeplane/matching-core/event-runs";
import { Partition } from "@tradeplane/matching-core/partition";
import { commandStream, prng, testInstrumentSettings } from "@tradeplane/testkit";

/** Entry sizes taken in turn, as gateways write them (single orders and batches). */
const ENTRY_SIZES = [1, 4, 2, 9, 1, 3];

const symbolOn = (symbol: string, partition: number): string => `${symbol}${partition}`;

/**
 * A venue's event stream as its engines write it, without the engine processes: a command
 * log of `entries` entries spread at random over `partitions` partitions, each partition's
 * commands a random order flow over its own instruments (the testkit's commandStream) applied
 * to the real pure core (matching-core's Partition), and each entry's events published as the
 * engine publishes them (eventRuns: one EngineEventBatch per run, message id of its last
 * event, subject tp.<venue>.evt.<partition>.<instrument>). Partitions interleave in the
 * stream. With `commandLog`, the entries are written to the command stream too (a fresh one:
 * entry k lands at sequence k), as the engines' input, for rebuilds. Returns every event
 * published, in stream order.
 */
export async function publishVenueEvents(
  nc: NatsConnection,
  venue: string,
  options: { entries: number; partitions: number; seed: number; commandLog?: boolean },
): Promise<EngineEvent[]> {
  await provision(nc, venueProvisioningPlan({ venue, storage: "memory" }));
  // A log of this build's format, as an engine stamps it before it reads one.
  if (options.commandLog === true) await ensureLogFormat(nc, venue);
  const { entries, partitions, seed } = options;
  const rnd = prng(seed);
  const slots = Array.from({ length: entries }, (_, k) => ({
    partition: Math.floor(rnd() * partitions),
    seq: k + 1,
    size: ENTRY_SIZES[k % ENTRY_SIZES.length]!,
  }));
  const flows = Array.from({ length: partitions }, (_, p) => {
    const seqs = slots
      .filter((s) => s.partition === p)
      .flatMap((s) => Array.from({ length: s.size }, (_, i) => commandSeqOf(s.seq, i)));
    return commandStream(seqs.length, seed * 100 + p, (i) => seqs[i]!).map((command) => {
      const body = command.body?.value as { instrument?: string } | undefined;
      if (body?.instrument !== undefined && body.instrument !== "NOPE") body.instrument = symbolOn(body.instrument, p);
      return command;
    });
  });
  const engines = venueEngineConfigs(partitions);
  const cores = Array.from({ length: partitions }, (_, p) => Partition.create({ engine: engines.get(p)! }));
  const next = flows.map(() => 0);
  const js = jetstream(nc);
  const published: EngineEvent[] = [];
  const acks: Promise<unknown>[] = [];
  for (const slot of slots) {
    const p = slot.partition;
    const at = next[p]!;
    next[p] = at + slot.size;
    const events: EngineEvent[] = [];
    const commands = flows[p]!.slice(at, at + slot.size);
    if (options.commandLog === true)
      acks.push(js.publish(commandSubject(venue, p), CommandBatch.encode({ commands }).finish()));
    commands.forEach((command, i) => {
      cores[p]!.apply(commandSeqOf(slot.seq, i), command);
      events.push(...cores[p]!.wireEvents());
    });
    for (const run of eventRuns(events)) {
      published.push(...run.events);
      acks.push(
        js.publish(eventSubject(venue, p, run.instrument), EngineEventBatch.encode({ events: run.events }).finish(), {
          msgID: eventMsgId(run.lastCommandSeq, run.lastIndex),
        }),
      );
    }
    if (acks.length >= 256) await Promise.all(acks.splice(0));
  }
  await Promise.all(acks);
  return published;
}

/** The stream sequence of the event stream's last message. */
export async function lastStreamSeq(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstream(nc).jetstreamManager();
  return (await jsm.streams.info(stream)).state.last_seq;
}

/** The engine config of each partition of publishVenueEvents' venue (instruments `<symbol><partition>`). */
export function venueEngineConfigs(partitions: number): Map<number, EngineConfig> {
  return new Map(
    Array.from({ length: partitions }, (_, p) => [
      p,
      engineConfigOf({ instruments: testInstrumentSettings.map((i) => ({ ...i, symbol: symbolOn(i.symbol, p) })) }),
    ]),
  );
}
