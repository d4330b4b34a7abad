import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/tradeplane.mjs", import.meta.url));

/** What one run of the CLI printed, and its exit code (99 when it was killed or never ran). */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tradeplane ARGS` as a user would (the bin script, this Node), for at most a minute. */
export function runCli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 99, stdout, stderr });
    });
  });
}
