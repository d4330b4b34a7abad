import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { WorkloadError, WorkloadParser, type Workload } from "@tradeplane/backtest";
import { CliError, EXIT } from "../errors.ts";

/** Bytes read at a time: big enough that reading costs little beside parsing, small beside any heap. */
export const WORKLOAD_CHUNK_BYTES = 1 << 20;

/**
 * A workload file read a chunk at a time (never as one string: Node caps a string near
 * 512 MB, about 30 M lines) and parsed as it comes (`WorkloadParser`): batches of lines,
 * in order. Each batch is reused by the next: play it before pulling another. The file is
 * closed when the batches end, when the reader is stopped early, and on an error (a
 * `WorkloadError` naming the line, or the file system's).
 */
export function* readWorkloadFile(path: string, chunkBytes = WORKLOAD_CHUNK_BYTES): Generator<Workload, void, void> {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    // A chunk can end inside a character: the decoder keeps its first bytes for the next one.
    const decoder = new StringDecoder("utf8");
    const parser = new WorkloadParser();
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, null);
      if (n === 0) break;
      const batch = parser.push(decoder.write(buf.subarray(0, n)));
      if (batch.count > 0) yield batch;
    }
    const batch = parser.push(decoder.end(), true);
    if (batch.count > 0) yield batch;
  } finally {
    closeSync(fd);
  }
}

/** How a command names a workload file in its errors: when it cannot be read, and when a line is bad. */
export interface WorkloadFileNames {
  unreadable(code: string): string;
  bad(message: string): string;
}

/** `readWorkloadFile` with its errors as the command's (exit 2): the file's name, and the line for a bad one. */
export function* workloadBatches(
  path: string,
  names: WorkloadFileNames,
  chunkBytes = WORKLOAD_CHUNK_BYTES,
): Generator<Workload, void, void> {
  try {
    yield* readWorkloadFile(path, chunkBytes);
  } catch (err) {
    if (err instanceof WorkloadError) throw new CliError(EXIT.USAGE, names.bad(err.message));
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined) throw new CliError(EXIT.USAGE, names.unreadable(code));
    throw err;
  }
}

/**
 * Reads and checks a whole workload file before the backtest starts, keeping nothing: its
 * lines. A bad line fails here, before anything runs (as when the file was parsed whole),
 * and the count sizes the report's series as it always did.
 */
export function countWorkloadFile(path: string, names: WorkloadFileNames, chunkBytes = WORKLOAD_CHUNK_BYTES): number {
  let lines = 0;
  for (const batch of workloadBatches(path, names, chunkBytes)) lines += batch.count;
  return lines;
}
