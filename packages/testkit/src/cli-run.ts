import { execFile } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./binaries.ts";

/** The tradeplane command as a user runs it. */
export const CLI_BIN = join(REPO_ROOT, "packages", "cli", "bin", "tradeplane.mjs");

const CLI_TIMEOUT_MS = 60_000;

/** What one run of the CLI printed, and its exit code (99 when it was killed or never ran). */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tradeplane ARGS` as a user would (the bin script, this Node), for at most `timeoutMs`. */
export function runTradeplane(args: readonly string[], timeoutMs = CLI_TIMEOUT_MS): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 99, stdout, stderr });
    });
  });
}
