import type { NatsConnection } from "@nats-io/transport-node";
import {
  CommandBatch,
  COMMANDS_PER_ENTRY,
  commandSeqOf,
  commandSubject,
  commandStreamName,
  type Command,
} from "@tradeplane/contracts";
import { UnavailableError, ValidationError } from "./errors.ts";
import { JetStreamAsyncPublisher } from "./jetstream-async-publisher.ts";
import { traceparentOf } from "./telemetry.ts";
import { instrumentOfCommand, orderEntry } from "./command-entry.ts";

/**
 * Writes commands into a venue's command log. Commands appended in the same turn of the
 * event loop (the orders of every gRPC call the turn read, a session's burst) go to the
 * log together, as one entry per partition (a `CommandBatch` of up to COMMANDS_PER_ENTRY),
 * so the log, the engine and every reader pay per entry rather than per command; within an
 * entry, commands about one instrument are put together (orderEntry). Each command's
 * identity is its command sequence, entry * 1000 + position (commandSeqOf).
 *
 * The active trace context of each append travels in its command (`traceparent`), since
 * one entry carries the commands of many requests.
 */
export interface CommandLogWriter {
  append(partition: number, command: CommandInput): Promise<AppendedCommand>;
  /** Fails appends not yet stored (queued or awaiting their ack) and releases the reply subscription. */
  close(): void;
}

/** A command to append; its trace context is taken from the active context when not given. */
export type CommandInput = Omit<Command, "traceparent"> & { readonly traceparent?: string };

export interface AppendedCommand {
  readonly stream: string;
  /** The command's sequence (its order id when it is a new order). */
  readonly seq: number;
  /** Stream sequence of the log entry that holds it. */
  readonly entrySeq: number;
}

interface Waiting {
  readonly command: Command;
  readonly resolve: (appended: AppendedCommand) => void;
  readonly reject: (err: Error) => void;
}

const DEFAULT_APPEND_TIMEOUT_MS = 5_000;
const byInstrument = (w: Waiting): string | undefined => instrumentOfCommand(w.command);

export function commandLogWriter(
  nc: NatsConnection,
  venue: string,
  timeoutMs = DEFAULT_APPEND_TIMEOUT_MS,
): CommandLogWriter {
  const publisher = new JetStreamAsyncPublisher(nc, timeoutMs);
  const stream = commandStreamName(venue);
  /** Per partition, the commands appended in this turn, in order. */
  const queued = new Map<number, Waiting[]>();
  let flushScheduled = false;

  const writeEntry = (partition: number, commands: readonly Waiting[]): void => {
    let entry = commands;
    let data: Uint8Array;
    try {
      data = CommandBatch.encode({ commands: entry.map((w) => w.command) }).finish();
    } catch {
      // A command that does not encode fails alone, not the requests it shares the entry with.
      entry = entry.filter((w) => {
        try {
          CommandBatch.encode({ commands: [w.command] });
          return true;
        } catch (err) {
          w.reject(new ValidationError(`command does not encode: ${(err as Error).message}`));
          return false;
        }
      });
      if (entry.length === 0) return;
      data = CommandBatch.encode({ commands: entry.map((w) => w.command) }).finish();
    }
    publisher.publish(commandSubject(venue, partition), data, undefined, (outcome) => {
      if (!outcome.ok) {
        const err = new UnavailableError(`command log of ${venue} did not store the command: ${outcome.error}`);
        for (const w of entry) w.reject(err);
        return;
      }
      for (let i = 0; i < entry.length; i++)
        entry[i]!.resolve({ stream, seq: commandSeqOf(outcome.seq, i), entrySeq: outcome.seq });
    });
  };

  const flush = (): void => {
    flushScheduled = false;
    for (const [partition, waiting] of queued) {
      for (let from = 0; from < waiting.length; from += COMMANDS_PER_ENTRY) {
        const part = waiting.length <= COMMANDS_PER_ENTRY ? waiting : waiting.slice(from, from + COMMANDS_PER_ENTRY);
        writeEntry(partition, orderEntry(part, byInstrument));
      }
    }
    queued.clear();
    publisher.flush();
  };

  return {
    append(partition, command) {
      return new Promise<AppendedCommand>((resolve, reject) => {
        const withTrace: Command = { ...command, traceparent: command.traceparent || traceparentOf() };
        let waiting = queued.get(partition);
        if (waiting === undefined) {
          waiting = [];
          queued.set(partition, waiting);
        }
        waiting.push({ command: withTrace, resolve, reject });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    close: () => {
      // Appends of this turn that were not handed over yet fail too; none is left waiting.
      const closed = new UnavailableError(`command log writer of ${venue} closed`);
      for (const waiting of queued.values()) for (const w of waiting) w.reject(closed);
      queued.clear();
      publisher.close();
    },
  };
}

/** A Timestamp for a wall-clock time in milliseconds (the writer's clock stamps commands). */
export function timestampOfMs(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
