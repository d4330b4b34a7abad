import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  CommandBatch,
  COMMANDS_PER_ENTRY,
  commandSeqOf,
  commandStreamName,
  commandSubject,
  type Command,
} from "@tradeplane/contracts";
import {
  createLogger,
  instrumentOfCommand,
  JetStreamAsyncPublisher,
  orderEntry,
  provision,
  venueProvisioningPlan,
} from "@tradeplane/platform";
import { batchedSeqs, commandStream, connectTo, NatsServer } from "@tradeplane/testkit";

/** A silent logger for in-process services in benchmarks (the JSON line must be the last output). */
export const quietLogger = createLogger({
  service: "bench",
  level: "warn",
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

export interface BenchVenue {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly venue: string;
  close(): Promise<void>;
}

/** A fresh nats-server (file storage in a temp dir) with a provisioned venue. */
export async function benchVenue(venue = "bench"): Promise<BenchVenue> {
  const server = await NatsServer.start({ storeDir: mkdtempSync(join(tmpdir(), "tp-bench-")) });
  const nc = await connectTo(server.url, "bench");
  await provision(nc, venueProvisioningPlan({ venue }));
  return {
    server,
    nc,
    js: jetstream(nc),
    venue,
    close: async () => {
      await nc.close();
      await server.dispose();
    },
  };
}

/**
 * Commands per log entry the benchmarks write by default: a gateway under load writes the
 * orders of one event-loop turn (or one session burst) as one entry. `--per-entry 1` gives
 * one command per entry, the worst case.
 */
export const DEFAULT_PER_ENTRY = 50;

/**
 * Writes `count` deterministic commands to partition 0 as fast as JetStream takes them,
 * `perEntry` commands to a log entry, after whatever the log holds; `from` numbers the
 * commands (seed and time) so a second fill continues the first. Returns the last
 * command sequence.
 */
export async function fillCommandLog(
  v: BenchVenue,
  count: number,
  options: { perEntry?: number; from?: number; window?: number } = {},
): Promise<number> {
  const perEntry = Math.max(1, Math.min(COMMANDS_PER_ENTRY, options.perEntry ?? DEFAULT_PER_ENTRY));
  const from = options.from ?? 0;
  const window = options.window ?? Math.max(8, Math.ceil(2_048 / perEntry));
  const subject = commandSubject(v.venue, 0);
  const jsm = await jetstreamManager(v.nc);
  let entrySeq = (await jsm.streams.info(commandStreamName(v.venue))).state.last_seq + 1;
  const chunk = perEntry * Math.ceil(50_000 / perEntry);
  let last = 0;
  const publisher = new JetStreamAsyncPublisher(v.nc, 30_000);
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const at = from + start;
    const commands = commandStream(n, at + 1, batchedSeqs(perEntry, entrySeq), 1_767_225_600_000 + at);
    let inFlight = 0;
    let wake: (() => void) | undefined;
    let failure: string | undefined;
    for (const entry of entriesInWriterOrder(commands, perEntry, entrySeq)) {
      inFlight++;
      publisher.publish(subject, CommandBatch.encode({ commands: entry }).finish(), `bench-${entrySeq}`, (outcome) => {
        inFlight--;
        if (outcome.ok) last = Math.max(last, commandSeqOf(outcome.seq, entry.length - 1));
        else failure ??= outcome.error;
        wake?.();
      });
      entrySeq++;
      while (inFlight >= window) await new Promise<void>((r) => (wake = r));
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
    if (failure !== undefined) throw new Error(`command log refused a command: ${failure}`);
  }
  publisher.close();
  return last;
}

/**
 * Cuts commands into entries of `perEntry` and orders each as the command-log writer does
 * (commands about one instrument together: orderEntry), renaming the order ids that cancels
 * and replaces name when their order moved within its entry.
 */
function entriesInWriterOrder(commands: readonly Command[], perEntry: number, firstEntrySeq: number): Command[][] {
  const renamed = new Map<number, number>();
  const entries: Command[][] = [];
  for (let start = 0, entrySeq = firstEntrySeq; start < commands.length; start += perEntry, entrySeq++) {
    const slice = commands.slice(start, start + perEntry);
    const order = orderEntry(
      slice.map((_, p) => p),
      (p) => instrumentOfCommand(slice[p]!),
    );
    order.forEach((from, to) => {
      if (from !== to) renamed.set(commandSeqOf(entrySeq, from), commandSeqOf(entrySeq, to));
    });
    entries.push(
      order.map((from) => {
        const c = slice[from]!;
        const b = c.body;
        if ((b?.$case === "cancelOrder" || b?.$case === "replaceOrder") && renamed.has(b.value.orderId))
          return { ...c, body: { ...b, value: { ...b.value, orderId: renamed.get(b.value.orderId)! } } } as Command;
        return c;
      }),
    );
  }
  return entries;
}

/** Messages in a stream. */
export async function streamMessages(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(stream)).state.messages;
}

/** Parses `--name value` flags with numeric defaults. */
export function numericFlags<T extends Record<string, number>>(defaults: T): T {
  const out: Record<string, number> = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) continue;
    const key = a.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown flag ${a}; known: ${Object.keys(defaults).join(", ")}`);
    const value = Number(argv[++i]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${a} needs a non-negative number`);
    out[key] = value;
  }
  return out as T;
}
