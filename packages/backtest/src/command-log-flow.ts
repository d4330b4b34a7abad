import { CancelReason, COMMANDS_PER_ENTRY, commandSeqOf, type Command } from "@tradeplane/contracts";
import type { Backtest } from "./backtest.ts";

/** A logged command's timestamp in ms (undefined: none, or no command). */
export function commandTimeMs(command: Command | undefined): number | undefined {
  const t = command?.timestamp;
  return t === undefined ? undefined : t.seconds * 1000 + Math.floor(t.nanos / 1_000_000);
}

/** One entry of a partition's command log: its stream sequence and its commands (or why it did not decode). */
export interface LogEntry {
  readonly seq: number;
  readonly commands: readonly (Command | undefined)[];
  readonly error?: string | undefined;
}

/** Mass cancels an account's own client sends; the venue's (kill switch, cancel on disconnect, admin, halt) are not. */
const CLIENT_MASS_CANCELS = new Set<number>([
  CancelReason.UNSPECIFIED,
  CancelReason.CLIENT_REQUEST,
  CancelReason.MASS_CANCEL,
]);

/**
 * Whether `command` is one the strategy of `accounts` sent (or its gateway wrote for it): its
 * orders, cancels, replaces and mass cancels, and the fences of its session's owner. These
 * are left out of a backtest over the log, since the strategy generates its own. What the
 * venue did to the account (a kill switch's block and cancel, a cancel on disconnect, an
 * admin's cancel) is applied as logged.
 */
export function isStrategyCommand(command: Command | undefined, accounts: ReadonlySet<string>): boolean {
  if (command === undefined || !accounts.has(command.account)) return false;
  const body = command.body;
  switch (body?.$case) {
    case "newOrder":
    case "cancelOrder":
    case "replaceOrder":
    case "fenceAccount":
      return true;
    case "massCancel":
      return !body.value.allAccounts && CLIENT_MASS_CANCELS.has(body.value.reason);
    default:
      return false;
  }
}

/** The first command sequence of `accounts`' strategy in an entry, or undefined. */
export function firstStrategyCommand(entry: LogEntry, accounts: ReadonlySet<string>): number | undefined {
  const i = entry.commands.findIndex((c) => isStrategyCommand(c, accounts));
  return i < 0 ? undefined : commandSeqOf(entry.seq, i);
}

export interface CommandLogFlowOptions {
  /** The strategy's account(s): their commands are left out. */
  readonly accounts: ReadonlySet<string>;
  /** The strategy starts right before this command sequence (where it started live; 0: before the first). */
  readonly startSeq: number;
  /** The last command sequence applied (Infinity: all). */
  readonly toSeq?: number;
}

/**
 * A backtest over one partition's command log, entry by entry: every logged command is
 * applied at its own sequence, so order ids and trade ids come out as the venue's did,
 * except the commands of the strategy's accounts, which the strategy (attached under the
 * first account, started with `deferStart`) generates again. Its commands take the free
 * sequences after the command they answer (the positions of the entry no other command
 * uses, the left-out commands' sequences), so they never collide with a logged one. Each
 * left-out command of the strategy's lets one of its waiting requests through, in its place
 * and at its time (where and when the strategy's live command was); what is left is applied
 * right before the next applied command, at the time of the last. When the next logged
 * command follows at once (later in the same entry: live, an answer could not have landed
 * there either) they wait for the first free sequence after it.
 */
export class CommandLogFlow {
  /** Logged commands applied, and left out (the strategy's). */
  applied = 0;
  skipped = 0;
  /** The last command sequence read (applied or left out). */
  lastSeq = 0;
  /** The command the strategy started right before (undefined: it never started). */
  startedBefore: number | undefined;
  private readonly bt: Backtest;
  private readonly options: CommandLogFlowOptions;
  private started = false;
  private done = false;
  /** The highest sequence the strategy's commands may take before the next applied command. */
  private room = 0;

  constructor(bt: Backtest, options: CommandLogFlowOptions) {
    this.bt = bt;
    this.options = options;
    // From here the strategy's commands take the log's free sequences: none before the first.
    bt.venue.ownSequencesUpTo(0);
  }

  /** Whether entries after `--to-seq` are all that is left (the reader can stop). */
  get finished(): boolean {
    return this.done;
  }

  /** Applies one entry (entries in log order, those of one partition). */
  entry(entry: LogEntry): void {
    const { accounts, startSeq } = this.options;
    const toSeq = this.options.toSeq ?? Infinity;
    const venue = this.bt.venue;
    const n = entry.commands.length;
    for (let i = 0; i < n; i++) {
      const seq = commandSeqOf(entry.seq, i);
      if (seq > toSeq) {
        this.done = true;
        return;
      }
      this.lastSeq = seq;
      if (!this.started && seq >= startSeq) {
        this.started = true;
        this.startedBefore = seq;
        // Its first requests take the free sequences before the next applied command.
        this.bt.start();
      }
      const command = entry.commands[i];
      // The next applied command is later in this entry, or at the earliest the next entry's
      // first: the strategy's commands take the free sequences before it.
      let next = i + 1;
      while (next < n && isStrategyCommand(entry.commands[next], accounts)) next++;
      const room = next < n ? commandSeqOf(entry.seq, next) - 1 : (entry.seq + 1) * COMMANDS_PER_ENTRY - 1;
      this.room = room;
      if (isStrategyCommand(command, accounts)) {
        this.skipped++;
        // Its live command was here: time moves to it (timers fire), and the strategy's first
        // waiting request takes its place, at its time.
        venue.ownSequencesUpTo(room, 0);
        const ms = commandTimeMs(command);
        if (ms !== undefined) venue.advanceTo(ms);
        venue.ownSequencesUpTo(room, 1);
        continue;
      }
      // What still waits goes before this command, at the time of the last one.
      venue.ownSequencesUpTo(seq - 1);
      this.bt.applyLogged(seq, command, entry.error);
      this.applied++;
      // The strategy's answers wait for the next command read: in the place of its own left-out
      // command there, or else right before the next applied one.
      venue.ownSequencesUpTo(room, 0);
    }
    if (toSeq <= commandSeqOf(entry.seq, n - 1)) this.done = true;
  }

  /** The log read: what waits is applied, and the strategy's later commands follow everything logged. */
  end(): void {
    this.bt.venue.ownSequencesUpTo(this.room);
    this.bt.venue.ownSequencesUpTo(Infinity);
  }
}
