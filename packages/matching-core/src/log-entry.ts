import { CommandBatch, COMMANDS_PER_ENTRY, type Command } from "@tradeplane/contracts";

/**
 * A command-log entry read back as what to apply at its positions 0..n-1: position i is
 * command `commandSeqOf(entrySeq, i)`. An unusable entry is one position with no command
 * and the reason (`error`), which the partition applies as one rejection, so every reader
 * applies an entry with the same loop: `partition.apply(seq, commands[i], error)`.
 */
export interface DecodedEntry {
  readonly commands: readonly (Command | undefined)[];
  /** Set when the entry is unusable: then `commands` is `[undefined]`. */
  readonly error?: string;
}

const unusable = (error: string): DecodedEntry => ({ commands: [undefined], error });

/** A command-log entry's commands, or why the entry cannot be applied (one rejection stands for it). */
export function decodeEntry(data: Uint8Array): DecodedEntry {
  let commands: Command[];
  try {
    commands = CommandBatch.decode(data).commands;
  } catch (err) {
    return unusable(`command entry does not decode: ${(err as Error).message}`);
  }
  if (commands.length === 0) return unusable("command entry holds no commands");
  if (commands.length > COMMANDS_PER_ENTRY)
    return unusable(`command entry holds ${commands.length} commands, more than ${COMMANDS_PER_ENTRY}`);
  return { commands };
}
