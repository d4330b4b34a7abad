import { open } from "node:fs/promises";
import { SingleBar } from "cli-progress";
import {
  checkWorkloadOptions,
  WorkloadGenerator,
  WorkloadOptionsError,
  workloadLine,
  type WorkloadEvent,
  type WorkloadOptions,
} from "@tradeplane/backtest";
import { CliError, EXIT } from "../errors.ts";
import { printResult } from "../output.ts";

export interface WorkloadFlags {
  readonly seed?: string;
  readonly orders?: string;
  readonly depth?: string;
  /** The file to write; `-` or absent: stdout. */
  readonly out?: string;
}

/** Text is handed to the file or stdout in chunks of about this many characters. */
const CHUNK_CHARS = 1 << 16;

/** Where the lines go: one chunk at a time, each written before the next is made. */
interface Sink {
  write(chunk: string): Promise<void>;
  close(): Promise<void>;
}

/** A flag's text shown back in a message: the start of it, if it is long. */
const shown = (raw: string) => (raw.length > 24 ? `${raw.slice(0, 24)}...` : raw);

/**
 * The generator's options from the flags: whole numbers in decimal digits only (no signs,
 * fractions or exponents), checked against the generator's own limits, so that each message
 * names the flag and what it takes.
 */
export function workloadOptionsOf(flags: WorkloadFlags): WorkloadOptions {
  for (const name of ["seed", "orders"] as const)
    if (flags[name] === undefined) throw new CliError(EXIT.USAGE, `give --${name} N (see --help)`);
  const whole = (raw: string) => (/^\d+$/.test(raw) ? Number(raw) : Number.NaN);
  const options: WorkloadOptions = {
    seed: whole(flags.seed!),
    orders: whole(flags.orders!),
    ...(flags.depth !== undefined ? { depth: whole(flags.depth) } : {}),
  };
  try {
    checkWorkloadOptions(options);
  } catch (err) {
    if (err instanceof WorkloadOptionsError)
      throw new CliError(EXIT.USAGE, `--${err.reason} ${shown(flags[err.reason]!)}: ${err.message}`);
    throw err;
  }
  return options;
}

/**
 * Writes the lines of `events` to `sink`, a chunk at a time, and waits for each chunk to be
 * written before making the next: memory stays flat however many lines there are (5 M lines
 * are about 90 MB of text). `progress` gets the lines written so far after each chunk.
 */
export async function writeWorkload(
  events: Iterable<WorkloadEvent>,
  sink: Sink,
  progress?: (lines: number) => void,
): Promise<number> {
  let chunk = "";
  let lines = 0;
  for (const e of events) {
    chunk += workloadLine(e) + "\n";
    lines++;
    if (chunk.length >= CHUNK_CHARS) {
      await sink.write(chunk);
      chunk = "";
      progress?.(lines);
    }
  }
  if (chunk !== "") await sink.write(chunk);
  return lines;
}

async function fileSink(file: string): Promise<Sink> {
  try {
    const handle = await open(file, "w");
    return { write: async (chunk) => void (await handle.write(chunk)), close: () => handle.close() };
  } catch (err) {
    throw new CliError(EXIT.USAGE, `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

/** Thrown to stop writing when the reader of stdout has gone (`| head`): not an error. */
class ReaderGone extends Error {}

function stdoutSink(): Sink {
  // A pipe's write errors also come as an 'error' event, which throws if nobody listens. The
  // listener stays: the CLI's last write, once the command is done, may meet the same closed pipe.
  process.stdout.on("error", () => undefined);
  return {
    write: (chunk) =>
      new Promise((resolve, reject) =>
        process.stdout.write(chunk, (err) =>
          err === null || err === undefined
            ? resolve()
            : reject((err as NodeJS.ErrnoException).code === "EPIPE" ? new ReaderGone() : err),
        ),
      ),
    close: async () => undefined,
  };
}

/**
 * `tradeplane workload`: a deterministic synthetic order flow of the shared workload format
 * (`WorkloadGenerator`), to a file or stdout. With a file, prints what it wrote: the lines of
 * each kind, the trades they make under the format's rules and what rests at the end.
 */
export async function workload(flags: WorkloadFlags, json: boolean): Promise<void> {
  const options = workloadOptionsOf(flags);
  const toStdout = flags.out === undefined || flags.out === "-";
  if (toStdout && json)
    throw new CliError(EXIT.USAGE, "--json prints a summary on stdout, where the lines go: give --out FILE");
  const generator = new WorkloadGenerator(options);
  const sink = toStdout ? stdoutSink() : await fileSink(flags.out!);
  const bar =
    !toStdout && !json && process.stderr.isTTY && options.orders > 100_000
      ? new SingleBar({ format: "workload [{bar}] {value}/{total} lines  {eta}s left", stream: process.stderr })
      : undefined;
  bar?.start(options.orders, 0);
  try {
    await writeWorkload(generator, sink, (n) => bar?.update(n));
    bar?.update(options.orders);
  } catch (err) {
    if (err instanceof ReaderGone) return;
    throw new CliError(EXIT.FAILED, `cannot write ${toStdout ? "stdout" : flags.out}: ${(err as Error).message}`);
  } finally {
    bar?.stop();
    await sink.close();
  }
  if (toStdout) return;
  const s = generator.stats();
  const n = (x: number) => x.toLocaleString("en-US");
  printResult(
    json,
    { out: flags.out, seed: generator.seed, orders: generator.orders, depth: generator.depth, ...s },
    [
      `wrote ${n(s.lines)} lines to ${flags.out} (seed ${generator.seed}, depth ${n(generator.depth)})`,
      `  ${n(s.newLimits)} limit and ${n(s.newMarkets)} market orders, ${n(s.cancels)} cancels, ${n(s.replaces)} replaces`,
      `  ${n(s.trades)} trades (${n(s.tradedQty)} lots) under the format's rules; ${n(s.resting)} orders resting at the end (at most ${n(s.maxResting)})`,
      `  fair value ${s.fairPrice} at the end; limit prices ${s.lowPrice} .. ${s.highPrice}`,
    ].join("\n"),
  );
}
