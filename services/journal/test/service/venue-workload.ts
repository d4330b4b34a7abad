import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { CommandBatch, commandSeqOf, commandSubject, InstrumentState, type Command } from "@tradeplane/contracts";
import { commandStream, prng } from "@tradeplane/testkit";

/** Entry sizes taken in turn, as gateways write them (single orders and batches). */
const ENTRY_SIZES = [1, 4, 2, 9, 1, 3];

const STAMP = { seconds: 1_767_225_600, nanos: 0 };

/** A session change of one instrument (or all, ""), as VenueAdmin writes it into the log. */
function setState(instrument: string, state: InstrumentState): Command {
  return {
    timestamp: STAMP,
    account: "ops:test",
    source: "test",
    traceparent: "",
    ownerEpoch: 0,
    body: { $case: "setInstrumentState", value: { instrument, state, reason: "test", fromStates: [] } },
  };
}

/**
 * A command log written for real venue engines: `entries` entries spread at random over
 * the partitions (each with its instruments `<symbol><partition>` of the testkit's flow:
 * trades, cancels, replaces, rejects), and on every partition a halt, a resume, a call
 * auction and its uncross, written as entries of their own part way through. Entries are
 * published in order and must land at the stream sequences the flow's cancels and replaces
 * were aimed at (the stream's next entry must be `firstEntry`, default 1). Returns the last
 * entry's stream sequence.
 */
export async function writeVenueWorkload(
  nc: NatsConnection,
  venue: string,
  options: { entries: number; partitions: number; seed: number; firstEntry?: number },
): Promise<number> {
  const { entries, partitions, seed } = options;
  const firstEntry = options.firstEntry ?? 1;
  const js = jetstream(nc);
  const rnd = prng(seed);
  const sessionAt = new Map<number, Command>();
  for (let p = 0; p < partitions; p++) {
    const at = Math.floor(entries * (0.2 + 0.15 * p));
    sessionAt.set(at, setState(`INFY${p}`, InstrumentState.HALTED));
    sessionAt.set(at + 7, setState(`INFY${p}`, InstrumentState.CONTINUOUS));
    sessionAt.set(at + 30, setState("", InstrumentState.PRE_OPEN));
    sessionAt.set(at + 60, setState("", InstrumentState.CONTINUOUS));
  }
  const slots = Array.from({ length: entries }, (_, k) => ({
    partition: sessionAt.has(k) ? k % partitions : Math.floor(rnd() * partitions),
    seq: firstEntry + k,
    size: sessionAt.has(k) ? 1 : ENTRY_SIZES[k % ENTRY_SIZES.length]!,
    session: sessionAt.get(k),
  }));
  const flows = Array.from({ length: partitions }, (_, p) => {
    const seqs = slots
      .filter((s) => s.partition === p && s.session === undefined)
      .flatMap((s) => Array.from({ length: s.size }, (_, i) => commandSeqOf(s.seq, i)));
    return commandStream(seqs.length, seed * 100 + p, (i) => seqs[i]!).map((command) => {
      const body = command.body?.value as { instrument?: string } | undefined;
      if (body?.instrument !== undefined && body.instrument !== "NOPE") body.instrument = `${body.instrument}${p}`;
      return command;
    });
  });
  const next = flows.map(() => 0);
  const acks: Promise<void>[] = [];
  for (const slot of slots) {
    const p = slot.partition;
    let commands: Command[];
    if (slot.session !== undefined) commands = [slot.session];
    else {
      commands = flows[p]!.slice(next[p], next[p]! + slot.size);
      next[p]! += slot.size;
    }
    const stored = js.publish(commandSubject(venue, p), CommandBatch.encode({ commands }).finish(), {
      timeout: 30_000,
    });
    acks.push(
      stored.then((ack) => {
        if (ack.seq !== slot.seq) throw new Error(`entry stored at ${ack.seq}, meant for ${slot.seq}`);
      }),
    );
    if (acks.length >= 128) await Promise.all(acks.splice(0));
  }
  await Promise.all(acks);
  return firstEntry + entries - 1;
}
