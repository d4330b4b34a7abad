import { readFileSync } from "node:fs";
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { SingleBar } from "cli-progress";
import { rebuildJournal, type RebuildProgress, type RebuildResult } from "@tradeplane/journal/rebuild";
import { RebuildRefusedError } from "@tradeplane/journal/domain/published-index";
import { migrate, openPgliteStore, openPgStore, readMigrations, type SqlStore } from "@tradeplane/journal/stores";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { parseManifests, venueFrom, type TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { createLogger } from "@tradeplane/platform";
import type { Target } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { printResult } from "../output.ts";
import { engineServiceConfig, localPorts, partitionsOf } from "../local/replay-config.ts";
import type { JournalRebuildFlags } from "./journal-rebuild-options.ts";
import { natsFlagOptions } from "./replay.ts";

/** Most event messages per transaction (the journal's own bound, `batchMessages`). */
const MAX_BATCH = 65_536;
const PROJECTOR_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export type JournalDatabase = { readonly url: string } | { readonly pgliteDir: string };

export interface RebuildSettings {
  readonly database: JournalDatabase;
  readonly projector: string;
  readonly batchMessages: number;
}

/**
 * The database, projector and batch size of a rebuild from its flags and environment, or a
 * usage error saying which flag is wrong. The PostgreSQL URL holds a password: it comes from
 * a file or the environment, never from the command line.
 */
export function rebuildSettings(
  flags: JournalRebuildFlags,
  env: NodeJS.ProcessEnv,
  readFile: (file: string) => string = (f) => readFileSync(f, "utf8"),
): RebuildSettings {
  const batchMessages = Number(flags.batch);
  if (!Number.isInteger(batchMessages) || batchMessages < 1 || batchMessages > MAX_BATCH)
    throw new CliError(EXIT.USAGE, `--batch ${flags.batch}: give a whole number of messages, 1..${MAX_BATCH}`);
  if (!PROJECTOR_NAME.test(flags.projector))
    throw new CliError(EXIT.USAGE, `--projector ${flags.projector}: a lowercase name of letters, digits and '-'`);
  if (flags.natsUrl !== undefined && flags.venueFile === undefined)
    throw new CliError(EXIT.USAGE, "--nats-url needs --venue-file, the venue's TradingVenue manifest");
  const urlFile = flags.databaseUrlFile ?? env.TP_DATABASE_URL_FILE;
  const fromFile = (file: string, what: string): string => {
    try {
      return readFile(file).trim();
    } catch (err) {
      throw new CliError(EXIT.USAGE, `${what} ${file}: ${(err as Error).message}`);
    }
  };
  const url =
    flags.databaseUrlFile !== undefined
      ? fromFile(flags.databaseUrlFile, "--database-url-file")
      : (env.TP_DATABASE_URL ?? (urlFile !== undefined ? fromFile(urlFile, "TP_DATABASE_URL_FILE") : undefined));
  if ((url === undefined) === (flags.pgliteDir === undefined))
    throw new CliError(
      EXIT.USAGE,
      url === undefined
        ? "name the journal's database: --database-url-file FILE (or TP_DATABASE_URL) for PostgreSQL, or --pglite-dir DIR"
        : "give one database: a PostgreSQL URL (--database-url-file, TP_DATABASE_URL) or --pglite-dir, not both",
    );
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url))
    throw new CliError(EXIT.USAGE, "the database URL must start with postgres:// or postgresql://");
  return {
    database: url !== undefined ? { url } : { pgliteDir: flags.pgliteDir! },
    projector: flags.projector,
    batchMessages,
  };
}

/** The venue and its NATS: the files and URL the flags name, else the local venue's. */
function venueSource(
  target: Target,
  flags: JournalRebuildFlags,
): { venue: TradingVenue; url: string; options: Partial<ConnectionOptions> } {
  let venue: TradingVenue | undefined;
  if (flags.venueFile !== undefined) {
    try {
      venue = venueFrom(parseManifests(readFileSync(flags.venueFile, "utf8"), flags.venueFile), flags.venueFile);
    } catch (err) {
      throw new CliError(EXIT.USAGE, `--venue-file ${flags.venueFile}: ${(err as Error).message}`);
    }
  }
  if (flags.natsUrl !== undefined) return { venue: venue!, url: flags.natsUrl, options: natsFlagOptions(flags) };
  const state = target.state;
  venue ??= target.venue();
  if (state === undefined || venue === undefined)
    throw new CliError(
      EXIT.UNREACHABLE,
      "journal rebuild reads a local venue's log: start it once with `npm start` (or pass --data-dir), " +
        "or name another venue's with --venue-file and --nats-url",
    );
  return { venue, url: state.natsUrl, options: { token: state.natsToken } };
}

/** Draws the progress: a bar on a terminal, a line per phase and per tenth otherwise. */
function progressView(json: boolean): { update(p: RebuildProgress): void; stop(): void } {
  if (json) return { update: () => undefined, stop: () => undefined };
  const unit = (p: RebuildProgress) => (p.phase === "index" ? "event messages indexed" : "log entries");
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: "journal rebuild {phase} [{bar}] {value}/{total} {unit}  {events} events  {eta}s left",
      stream: process.stderr,
    });
    let phase = "";
    return {
      update(p) {
        if (p.phase !== phase) {
          if (phase !== "") bar.stop();
          phase = p.phase;
          bar.start(Math.max(p.total, 1), p.done, { phase: p.phase, unit: unit(p), events: p.events });
        } else bar.update(p.done, { events: p.events });
      },
      stop: () => bar.stop(),
    };
  }
  let last = "";
  return {
    update(p) {
      const tenth = p.total > 0 ? Math.floor((10 * p.done) / p.total) : 10;
      const line = `${p.phase} ${tenth * 10}%`;
      if (line === last) return;
      last = line;
      process.stderr.write(`journal rebuild: ${line} (${p.done}/${p.total} ${unit(p)}, ${p.events} events)\n`);
    },
    stop: () => undefined,
  };
}

export async function journalRebuild(target: Target, flags: JournalRebuildFlags): Promise<void> {
  const settings = rebuildSettings(flags, process.env);
  const { venue, url, options } = venueSource(target, flags);
  const json = target.flags.json === true;
  // Only the engines' settings matter here; where they would listen does not.
  const placement = { natsUrl: [url], host: "127.0.0.1", ports: localPorts(0) };
  const partitions = new Map(
    partitionsOf(venue).map((p) => [p, engineConfigOf(engineServiceConfig(venue, p, placement))] as const),
  );
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, ...options, timeout: 3_000 });
  } catch (err) {
    throw new CliError(
      EXIT.UNREACHABLE,
      `cannot reach NATS at ${url} (${(err as Error).message}): is the venue running?`,
    );
  }
  let store: SqlStore | undefined;
  const view = progressView(json);
  try {
    store =
      "url" in settings.database
        ? openPgStore(settings.database.url)
        : await openPgliteStore(settings.database.pgliteDir);
    try {
      await migrate(store, await readMigrations());
    } catch (err) {
      throw new CliError(EXIT.UNREACHABLE, `cannot use the journal's database: ${(err as Error).message}`);
    }
    const started = performance.now();
    let result: RebuildResult;
    try {
      result = await rebuildJournal({
        nc,
        venue: venue.metadata.name,
        partitions,
        store,
        projector: settings.projector,
        batchMessages: settings.batchMessages,
        logger: createLogger({ service: "journal-rebuild", level: "silent" }),
        onProgress: (p) => view.update(p),
      });
    } catch (err) {
      if (err instanceof RebuildRefusedError)
        throw new CliError(EXIT.REFUSED, `rebuild refused (${err.reason}): ${err.message}; the tables are unchanged`);
      throw err;
    } finally {
      view.stop();
    }
    const seconds = Math.round(performance.now() - started) / 1000;
    printResult(
      json,
      { ...result, seconds },
      `journal rebuilt in ${seconds} s from ${result.entries} log entries (${result.commands} commands): ` +
        `${result.events} events in ${result.messages} messages, ${result.messagesMatched} of them checked ` +
        `against the event stream, ${result.snapshotsChecked} engine snapshots checked; ` +
        `the projector resumes after event-stream message ${result.resumeAfter}`,
    );
  } finally {
    await store?.close().catch(() => undefined);
    await nc.close();
  }
}
