import { writeFileSync } from "node:fs";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { eventStreamName, eventSubjectPartition } from "@tradeplane/contracts";
import { decodeEventMessage, lastStoredSeq } from "@tradeplane/platform";
import {
  anonymised,
  isRecorded,
  recordingHeader,
  recordingLine,
  type RecordedEvent,
  type SimInstrument,
} from "@tradeplane/backtest";
import type { TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { SingleBar } from "cli-progress";
import type { Target } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { engineServiceConfig, localPorts, notionalPerTickLotOf, partitionsOf } from "../local/replay-config.ts";
import { printResult } from "../output.ts";
import { logSource, type ReplayFlags } from "./replay.ts";

export interface EventsExportFlags extends Omit<ReplayFlags, "toSeq" | "depth"> {
  readonly out: string;
}

/** The venue's instruments as the engine runs them, with their notional per tick and lot. */
function instrumentsOf(venue: TradingVenue, url: string): SimInstrument[] {
  const placement = { natsUrl: [url], host: "127.0.0.1", ports: localPorts(0) };
  return partitionsOf(venue).flatMap((p) =>
    engineServiceConfig(venue, p, placement).instruments.map((i) => ({
      ...i,
      notionalPerTickLot: notionalPerTickLotOf(venue, i.symbol),
    })),
  );
}

/**
 * `tradeplane events export --out FILE`: the venue's event stream (`<VENUE>_EVT`) as it is
 * now, written as a recording (`@tradeplane/backtest`'s format) for `tradeplane backtest
 * --events`: every order's life and the instruments' states, accounts renamed and client
 * order ids left out. A file keeps what the stream ages out, and a backtest over it needs no
 * access to the venue.
 */
export async function eventsExport(target: Target, flags: EventsExportFlags): Promise<void> {
  const { venue, url, options } = logSource(target, flags, "events export");
  const instruments = instrumentsOf(venue, url);
  let nc;
  try {
    nc = await connect({ servers: url, ...options, timeout: 3_000 });
  } catch (err) {
    throw new CliError(
      EXIT.UNREACHABLE,
      `cannot reach NATS at ${url} (${(err as Error).message}): is the venue running?`,
    );
  }
  const events: RecordedEvent[] = [];
  let messages = 0;
  try {
    const stream = eventStreamName(venue.metadata.name);
    const last = await lastStoredSeq(await jetstreamManager(nc), stream);
    const bar =
      target.flags.json !== true && process.stderr.isTTY && last > 0
        ? new SingleBar({
            format: "export [{bar}] {value}/{total} event messages  {eta}s left",
            stream: process.stderr,
          })
        : undefined;
    bar?.start(last, 0);
    if (last > 0) {
      const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
      const sub = await consumer.consume({ max_messages: 4_096 });
      for await (const m of sub) {
        messages++;
        const partition = eventSubjectPartition(m.subject);
        let decoded;
        try {
          decoded = decodeEventMessage(m.data);
        } catch (err) {
          throw new CliError(EXIT.FAILED, `event message ${m.seq} of ${stream}: ${(err as Error).message}`);
        }
        if (partition !== undefined)
          for (const event of decoded) if (isRecorded(event)) events.push({ partition, event });
        if (m.seq % 1_000 === 0) bar?.update(m.seq);
        if (m.seq >= last) break;
      }
      await sub.close();
    }
    bar?.update(last);
    bar?.stop();
  } finally {
    await nc.close();
  }
  const lines = [recordingHeader(venue.metadata.name, instruments), ...anonymised(events).map(recordingLine)];
  writeFileSync(flags.out, lines.join("\n") + "\n");
  printResult(
    target.flags.json === true,
    { out: flags.out, venue: venue.metadata.name, messages, events: events.length },
    `${flags.out}: ${events.length} events of ${venue.metadata.name} (${messages} stream messages)`,
  );
}
