import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@tradeplane/testkit";
import { runCli } from "../run-cli.ts";

/** A data folder with no local venue in it. */
const empty = mkdtempSync(join(tmpdir(), "tp-backtest-log-"));
const VENUE = join(REPO_ROOT, "examples", "venue.yaml");

const cli = (...args: string[]) => runCli("--data-dir", empty, ...args);

const strategy = ["backtest", "--strategy", "market-maker"];

/** Flags of `backtest --command-log` that are refused before any log is read. */
describe("tradeplane backtest --command-log refuses", () => {
  it.each([
    [
      "a workload and a log",
      [...strategy, "--workload", "x.csv", "--command-log", "--account", "a"],
      2,
      /give --workload FILE or --command-log .*not both/,
    ],
    ["neither a workload nor a log", [...strategy], 2, /give the flow: --workload FILE, --events FILE, --command-log/],
    [
      "a log and venues' workloads",
      [
        ...strategy,
        "--command-log",
        "--account",
        "a",
        "--venue-workload",
        "nse=x.csv",
        "--venue-workload",
        "bse=y.csv",
      ],
      2,
      /--command-log reads one venue's log: not with --venue-workload/,
    ],
    [
      "--account with venues' workloads",
      [...strategy, "--account", "a", "--venue-workload", "nse=x.csv", "--venue-workload", "bse=y.csv"],
      2,
      /--account reads a command log/,
    ],
    [
      "a log and a recording",
      [...strategy, "--command-log", "--account", "a", "--events", "y.ndjson"],
      2,
      /--events FILE is one venue's recording: give it alone, without --workload, --command-log/,
    ],
    [
      "--account with a recording",
      [...strategy, "--events", "y.ndjson", "--account", "a"],
      2,
      /--account reads a command log/,
    ],
    [
      "a log and a warm-up",
      [...strategy, "--command-log", "--account", "a", "--warm-up-ms", "10"],
      2,
      /--warm-up-ms is for a backtest over several venues/,
    ],
    ["a log without the strategy's account", [...strategy, "--command-log"], 2, /--command-log needs --account NAME/],
    [
      "--account without a log",
      [...strategy, "--workload", "x.csv", "--account", "a"],
      2,
      /--account reads a command log: give it with --command-log/,
    ],
    [
      "--to-seq without a log",
      [...strategy, "--workload", "x.csv", "--to-seq", "5"],
      2,
      /--to-seq reads a command log/,
    ],
    [
      "--nats-url without a log",
      [...strategy, "--workload", "x.csv", "--nats-url", "nats://127.0.0.1:1"],
      2,
      /--nats-url reads a command log/,
    ],
    [
      "a --to-seq that is no sequence",
      [...strategy, "--command-log", "--account", "a", "--to-seq", "x"],
      2,
      /--to-seq x: give a command sequence >= 0/,
    ],
    [
      "a negative --partition",
      [...strategy, "--command-log", "--account", "a", "--partition", "-1"],
      2,
      /--partition -1: give a partition number/,
    ],
    [
      "--nats-url without the venue's manifest",
      [...strategy, "--command-log", "--account", "a", "--nats-url", "nats://127.0.0.1:1"],
      2,
      /--nats-url needs -f FILE/,
    ],
    [
      "a partition the venue does not have",
      [
        ...strategy,
        "--command-log",
        "--account",
        "a",
        "-f",
        VENUE,
        "--nats-url",
        "nats://127.0.0.1:1",
        "--partition",
        "3",
      ],
      2,
      /--partition 3: venue demo has partitions 0/,
    ],
    [
      "a token file that cannot be read",
      [
        ...strategy,
        "--command-log",
        "--account",
        "a",
        "-f",
        VENUE,
        "--nats-url",
        "nats://127.0.0.1:1",
        "--nats-token-file",
        join(empty, "none"),
      ],
      2,
      /none/,
    ],
    [
      "a log with no local venue and no --nats-url",
      [...strategy, "--command-log", "--account", "a"],
      3,
      /backtest --command-log reads a local venue's log: start it once/,
    ],
    [
      "an unreachable NATS",
      [...strategy, "--command-log", "--account", "a", "-f", VENUE, "--nats-url", "nats://127.0.0.1:1"],
      3,
      /cannot reach NATS at nats:\/\/127.0.0.1:1/,
    ],
  ] as const)("%s", async (_name, args, code, message) => {
    const run = await cli(...args);
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code, stderr: expect.stringMatching(message) });
  });
});
