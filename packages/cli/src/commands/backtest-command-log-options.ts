import type { Command } from "commander";

/** The flags of `tradeplane backtest --command-log`, as commander gives them. */
export interface CommandLogFlags {
  readonly commandLog?: boolean;
  /** The strategy's account(s): their logged commands are left out; the first is the one it trades under. */
  readonly account?: readonly string[];
  readonly toSeq?: string;
  readonly partition?: string;
  /** Another venue's log: its manifest and NATS, with credentials and TLS from files (as `replay`). */
  readonly file?: string;
  readonly natsUrl?: string;
  readonly natsCreds?: string;
  readonly natsTokenFile?: string;
  readonly natsTlsCa?: string;
  readonly natsTlsCert?: string;
  readonly natsTlsKey?: string;
}

/** Adds the command-log source's flags to `backtest`. Only commander here: NATS and the log load when it runs. */
export function addCommandLogOptions(backtest: Command): Command {
  return backtest
    .option(
      "--command-log",
      "run over the venue's command log instead of a workload (the local venue's, or -f with --nats-url)",
    )
    .option(
      "--account <name>",
      "with --command-log: the strategy's account; its logged commands are left out and the strategy generates its own (repeat for more)",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("--to-seq <n>", "with --command-log: the last command of the log to apply (default: all)")
    .option("--partition <n>", "with --command-log: the partition whose log is read (default 0; its instruments)")
    .option("-f, --file <file>", "with --command-log: another venue's TradingVenue manifest (with --nats-url)")
    .option("--nats-url <url>", "with --command-log: read that venue's log from this NATS")
    .option("--nats-creds <file>", "NATS .creds file (JWT and NKey seed)")
    .option("--nats-token-file <file>", "file holding a NATS token")
    .option("--nats-tls-ca <file>", "CA of the NATS server's certificate, PEM")
    .option("--nats-tls-cert <file>", "client certificate for NATS, PEM")
    .option("--nats-tls-key <file>", "its private key, PEM");
}
