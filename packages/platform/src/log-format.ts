import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { commandStreamName, leasesBucket, LOG_FORMAT, LOG_FORMAT_KEY } from "@tradeplane/contracts";
import { ConfigError } from "./errors.ts";

export type LogFormatVerdict =
  | { readonly action: "ok" }
  /** A new log: stamp it with the current format. */
  | { readonly action: "stamp" }
  | { readonly action: "refuse"; readonly found: string };

/** What to do with a venue's log given its stamp and how many command-log entries it holds. Pure. */
export function logFormatVerdict(
  stamp: string | undefined,
  commandEntries: number,
  current: number = LOG_FORMAT,
): LogFormatVerdict {
  if (stamp === undefined) return commandEntries > 0 ? { action: "refuse", found: "1" } : { action: "stamp" };
  return stamp === String(current) ? { action: "ok" } : { action: "refuse", found: stamp };
}

/** The venue's log is of a format this build cannot read: start from an empty venue or an older build. */
export class LogFormatError extends ConfigError {
  constructor(venue: string, found: string) {
    super(
      `the streams of venue "${venue}" hold log format ${found}; this build reads format ${LOG_FORMAT} ` +
        `(ADR 0002). Start from empty streams (local mode: delete the .tradeplane folder) or run the build that wrote them`,
    );
  }
}

/**
 * Checks, and on a new log stamps, the format of a venue's streams before anything reads or
 * writes them, so a build never misreads a log of another format as a stream of malformed
 * commands. Safe to run from every instance at once (the stamp is created only if absent).
 */
export async function ensureLogFormat(nc: NatsConnection, venue: string): Promise<void> {
  const kv = await new Kvm(nc).open(leasesBucket(venue));
  const jsm = await jetstreamManager(nc);
  const readStamp = async (): Promise<string | undefined> => {
    const entry = await kv.get(LOG_FORMAT_KEY);
    return entry === null || entry.operation !== "PUT" ? undefined : entry.string();
  };
  const entries = (await jsm.streams.info(commandStreamName(venue))).state.messages;
  let verdict = logFormatVerdict(await readStamp(), entries);
  if (verdict.action === "stamp") {
    try {
      await kv.create(LOG_FORMAT_KEY, String(LOG_FORMAT));
      return;
    } catch {
      // Another instance stamped it first: judge its stamp.
      verdict = logFormatVerdict(await readStamp(), entries);
    }
  }
  if (verdict.action === "refuse") throw new LogFormatError(venue, verdict.found);
}
