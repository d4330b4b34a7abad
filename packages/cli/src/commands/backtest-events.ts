import { createReadStream, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { SingleBar } from "cli-progress";
import {
  Backtest,
  chartSvg,
  EventFlow,
  recordedCommands,
  RecordingError,
  RecordingReader,
  replayRecorded,
  type RecordedCommand,
  type Recording,
} from "@tradeplane/backtest";
import { CliError, EXIT } from "../errors.ts";
import { printResult } from "../output.ts";
import { feesOf, fillsOf, reportLines, strategyOf, type BacktestFlags } from "./backtest.ts";

/** Progress bar above this many recorded commands (on a terminal, never with --json). */
const BAR_ABOVE = 100_000;
/** Points of the P&L and inventory series over the recording's time span. */
const SERIES_POINTS = 500;

/** The recording in `file` and its commands; a CliError naming the file, the line and the fault otherwise. */
async function readRecording(file: string): Promise<{ recording: Recording; commands: RecordedCommand[] }> {
  const reader = new RecordingReader();
  try {
    const input = createReadStream(file, "utf8");
    const opened = new Promise<void>((resolve, reject) => input.once("open", () => resolve()).once("error", reject));
    await opened.catch((err: NodeJS.ErrnoException) => {
      throw new CliError(EXIT.USAGE, `cannot read ${file}: ${err.code ?? err.message}`);
    });
    for await (const line of createInterface({ input, crlfDelay: Infinity })) reader.line(line);
    const recording = reader.finish();
    return { recording, commands: recordedCommands(recording.events) };
  } catch (err) {
    if (err instanceof RecordingError) throw new CliError(EXIT.USAGE, `--events ${file}: ${err.message}`);
    throw err;
  }
}

/**
 * `tradeplane backtest --events FILE`: the strategy over a recording of a venue's events
 * (`tradeplane events export`), the recorded orders entered again as a synthetic flow on the
 * real core (`EventFlow`, docs/backtest.md). Same recording, same output.
 */
export async function backtestEvents(flags: BacktestFlags, file: string, json: boolean): Promise<void> {
  const moduleFile = flags.strategyModule ?? flags.module;
  const { feePerLot, feeBps } = feesOf(flags);
  const { recording, commands } = await readRecording(file);
  const instruments = recording.header.instruments;
  const built = await strategyOf(
    flags,
    moduleFile,
    instruments.map((i) => i.symbol),
  );
  const first = commands[0];
  const last = commands.at(-1);
  const startMs = first === undefined ? 0 : first.seconds * 1000;
  const spanMs = last === undefined ? 0 : last.seconds * 1000 - startMs;
  const fills = fillsOf(flags);
  const bt = new Backtest({
    instruments,
    strategy: built.strategy,
    startMs,
    sampleEveryMs: Math.max(1, Math.floor(spanMs / SERIES_POINTS)),
    feePerLot,
    feeBps,
    ...fills.option,
  });
  const flow = EventFlow.over(bt.venue, bt.apply);
  const bar =
    !json && process.stderr.isTTY && commands.length > BAR_ABOVE
      ? new SingleBar({
          format: "backtest [{bar}] {value}/{total} recorded commands  {eta}s left",
          stream: process.stderr,
        })
      : undefined;
  bar?.start(commands.length, 0);
  const stats = replayRecorded(flow, commands, (n) => bar?.update(n));
  bar?.update(commands.length);
  bar?.stop();
  const report = bt.report();
  const name = flags.strategy ?? moduleFile!;
  if (flags.chart !== undefined) writeFileSync(flags.chart, chartSvg(bt.series, `${name} on ${file}`));
  fills.write();
  printResult(
    json,
    {
      strategy: name,
      params: built.params,
      recording: { venue: recording.header.venue, events: recording.events.length, ...stats },
      ...report,
    },
    [
      `${name} over ${stats.commands} recorded commands of ${recording.header.venue} (${report.commands} commands, ${report.events} events)`,
      `  recording: ${stats.newOrders} orders entered, ${stats.cancels} cancels, ${stats.replaces} replaces, ${stats.stateChanges} state changes; ` +
        `${stats.cuts} recorded orders cut back to their recorded rest, ${stats.refusedInBacktest} refused here, ${stats.unknownOrders} events about orders never seen entering`,
      ...reportLines(report, flags.chart, flags.fills),
    ].join("\n"),
  );
}
