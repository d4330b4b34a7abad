import { runTradeplane, type CliRun } from "@tradeplane/testkit";

export type { CliRun };

/** Runs `tradeplane ARGS` as a user would (the bin script, this Node), for at most a minute. */
export function runCli(...args: string[]): Promise<CliRun> {
  return runTradeplane(args);
}
