import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  CommandLogFlow,
  commandTimeMs,
  firstStrategyCommand,
  type LogEntry,
  type SimInstrument,
} from "@tradeplane/backtest";
import { commandStreamName, entrySeqOf } from "@tradeplane/contracts";
import { decodeEntry } from "@tradeplane/matching-core/log-entry";
import { lastStoredSeq } from "@tradeplane/platform";
import type { TargetFlags } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { engineServiceConfig, localPorts, notionalPerTickLotOf, partitionsOf } from "../local/replay-config.ts";
import type { CommandLogFlags } from "./backtest-command-log-options.ts";
import type { BacktestSource } from "./backtest.ts";
import { connectToLog, logSource } from "./replay.ts";

/** Entries between two progress updates. */
const PROGRESS_EVERY = 1_000;

/** A non-negative integer flag, or a CliError naming it. */
function count(flag: string, value: string, what: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 0)
    throw new CliError(EXIT.USAGE, `${flag} ${value}: give ${what}`);
  return n;
}

/**
 * The flow of `tradeplane backtest --command-log`: one partition of the target venue's
 * command log (read as `tradeplane replay` reads it: the local venue's, or another's with
 * -f and --nats-url), with the commands of the strategy's accounts left out and generated
 * again by the strategy (`CommandLogFlow`). The strategy starts where its account's first
 * command is (where it started live), or at the log's start when it has none; instruments
 * and their terms come from the venue's manifest.
 */
export async function commandLogSource(
  flags: CommandLogFlags,
  global: TargetFlags,
  json: boolean,
): Promise<BacktestSource> {
  const accounts = [...new Set(flags.account ?? [])];
  if (accounts.length === 0 || accounts.some((a) => a === ""))
    throw new CliError(
      EXIT.USAGE,
      "--command-log needs --account NAME, the strategy's account: its logged commands are left out and the strategy generates its own",
    );
  const toSeq = flags.toSeq === undefined ? Infinity : count("--to-seq", flags.toSeq, "a command sequence >= 0");
  const partition = flags.partition === undefined ? 0 : count("--partition", flags.partition, "a partition number");
  const { Target } = await import("../client/target.ts");
  const target = new Target(global);
  try {
    const { venue, url, options } = logSource(target, flags, "backtest --command-log");
    const partitions = partitionsOf(venue);
    if (!partitions.includes(partition))
      throw new CliError(
        EXIT.USAGE,
        `--partition ${partition}: venue ${venue.metadata.name} has partitions ${partitions.join(", ")}`,
      );
    // Only the engine's settings matter here; where it would listen does not.
    const placement = { natsUrl: [url], host: "127.0.0.1", ports: localPorts(0) };
    const instruments: SimInstrument[] = engineServiceConfig(venue, partition, placement).instruments.map((i) => ({
      ...i,
      notionalPerTickLot: notionalPerTickLotOf(venue, i.symbol),
    }));
    const nc = await connectToLog(url, options, flags.natsUrl === undefined);
    try {
      return await open(nc, {
        stream: commandStreamName(venue.metadata.name),
        venue: venue.metadata.name,
        partition,
        accounts,
        toSeq,
        instruments,
        json,
      });
    } catch (err) {
      await nc.close();
      throw err;
    }
  } finally {
    target.close();
  }
}

interface LogTarget {
  readonly stream: string;
  readonly venue: string;
  readonly partition: number;
  readonly accounts: readonly string[];
  readonly toSeq: number;
  readonly instruments: readonly SimInstrument[];
  readonly json: boolean;
}

/** Reads where the strategy starts and the log's time span (a first pass that stops early), and returns the source. */
async function open(nc: NatsConnection, t: LogTarget): Promise<BacktestSource> {
  const jsm = await jetstreamManager(nc);
  // The last entry stored, not the last sequence assigned (see replay).
  const stored = await lastStoredSeq(jsm, t.stream);
  const last = Math.min(entrySeqOf(t.toSeq), stored);
  if (t.toSeq !== Infinity && entrySeqOf(t.toSeq) > stored && !t.json)
    process.stderr.write(`the log ends at ${stored}; backtesting over all of it\n`);
  const accounts = new Set(t.accounts);
  let startMs: number | undefined;
  let startSeq = 0;
  await eachEntry(nc, t, last, (entry) => {
    startMs ??= entry.commands.map(commandTimeMs).find((ms) => ms !== undefined);
    const first = firstStrategyCommand(entry, accounts);
    if (first !== undefined) startSeq = first;
    return first !== undefined;
  });
  let endMs = startMs ?? 0;
  if (last > 0) {
    const m = await jsm.streams.getMessage(t.stream, { seq: last });
    if (m !== null)
      endMs =
        decodeEntry(m.data)
          .commands.map(commandTimeMs)
          .find((ms) => ms !== undefined) ?? endMs;
  }
  const from = startMs ?? 0;
  let flow: CommandLogFlow | undefined;
  return {
    instruments: t.instruments,
    account: t.accounts[0]!,
    deferStart: true,
    startMs: from,
    sampleEveryMs: Math.max(1, Math.floor((endMs - from) / 500)),
    total: last,
    unit: "log entries",
    run: async (bt, progress) => {
      const f = new CommandLogFlow(bt, {
        accounts,
        startSeq,
        ...(t.toSeq !== Infinity ? { toSeq: t.toSeq } : {}),
      });
      flow = f;
      await eachEntry(nc, t, last, (entry) => {
        f.entry(entry);
        if (entry.seq % PROGRESS_EVERY === 0) progress(entry.seq);
        return f.finished;
      });
      f.end();
    },
    summary: () => {
      const f = flow!;
      const json = {
        commandLog: {
          venue: t.venue,
          partition: t.partition,
          accounts: t.accounts,
          lastSeq: f.lastSeq,
          startedBefore: f.startedBefore ?? null,
          applied: f.applied,
          skipped: f.skipped,
        },
      };
      return {
        json,
        text:
          `the command log of ${t.venue} (partition ${t.partition}) through command ${f.lastSeq}: ` +
          `${f.applied} logged commands applied, ${f.skipped} of ${t.accounts.join(", ")} left out, ` +
          (f.startedBefore === undefined
            ? "the strategy never started"
            : `the strategy started before ${f.startedBefore}`),
        title: `${t.venue}'s command log`,
      };
    },
    close: () => nc.close(),
  };
}

/** Calls `onEntry` with every entry of the partition up to stream sequence `last`, until it returns true. */
async function eachEntry(
  nc: NatsConnection,
  t: LogTarget,
  last: number,
  onEntry: (entry: LogEntry) => boolean,
): Promise<void> {
  if (last === 0) return;
  const consumer = await jetstream(nc).consumers.get(t.stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 4_096 });
  try {
    for await (const m of messages) {
      if (m.seq > last) break;
      const p = Number(m.subject.slice(m.subject.lastIndexOf(".") + 1));
      if (p === t.partition) {
        const { commands, error } = decodeEntry(m.data);
        if (onEntry({ seq: m.seq, commands, error })) break;
      }
      if (m.seq >= last) break;
    }
  } finally {
    await messages.close();
  }
}
