import type { Command } from "commander";
import type { Target } from "../client/target.ts";

/** The flags of `tradeplane journal rebuild`, as commander gives them. */
export interface JournalRebuildFlags {
  readonly venueFile?: string;
  readonly natsUrl?: string;
  readonly natsCreds?: string;
  readonly natsTokenFile?: string;
  readonly natsTlsCa?: string;
  readonly natsTlsCert?: string;
  readonly natsTlsKey?: string;
  readonly databaseUrlFile?: string;
  readonly pgliteDir?: string;
  readonly projector: string;
  readonly batch: string;
}

type WithTarget = <A extends unknown[]>(
  action: (target: Target, ...args: A) => Promise<void> | void,
) => (...args: A) => Promise<void>;

/**
 * Adds `rebuild` to the `journal` command. Only commander here: the rebuild itself (NATS,
 * PostgreSQL, PGlite, the matching core) loads when the command runs.
 */
export function addJournalRebuild(journal: Command, withTarget: WithTarget): void {
  journal
    .command("rebuild")
    .description(
      "rebuild the journal's tables from the command log (kept for ever) through the matching core, " +
        "then swap them in; queries read the old tables until then",
    )
    .option("--venue-file <file>", "the venue's TradingVenue manifest (default: the local venue's)")
    .option("--nats-url <url>", "the venue's NATS (default: the local venue's; needs --venue-file)")
    .option("--nats-creds <file>", "NATS .creds file (JWT and NKey seed)")
    .option("--nats-token-file <file>", "file holding a NATS token")
    .option("--nats-tls-ca <file>", "CA of the NATS server's certificate, PEM")
    .option("--nats-tls-cert <file>", "client certificate for NATS, PEM")
    .option("--nats-tls-key <file>", "its private key, PEM")
    .option(
      "--database-url-file <file>",
      "file holding the journal's PostgreSQL URL (else $TP_DATABASE_URL or $TP_DATABASE_URL_FILE)",
    )
    .option("--pglite-dir <dir>", "the journal's embedded PGlite folder instead (stop the journal first)")
    .option("--projector <name>", "the projector whose resume position moves with the new tables", "journal")
    .option("--batch <messages>", "event messages written per transaction", "2048")
    .action(
      withTarget(async (t, flags: JournalRebuildFlags) => {
        const { journalRebuild } = await import("./journal-rebuild.ts");
        await journalRebuild(t, flags);
      }),
    );
}
