import { CommandBatch, COMMANDS_PER_ENTRY, type Command } from "@tradeplane/contracts";

/** A command-log entry read back: its commands, or why it cannot be applied. */
export interface DecodedEntry {
  readonly commands: Command[];
  /** Set when the entry is unusable: the engine records one rejection for it and moves on. */
  readonly error?: string;
}

/** A command-log entry's commands, or why the entry cannot be applied (one rejection stands for it). */
export function decodeEntry(data: Uint8Array): DecodedEntry {
  let commands: Command[];
  try {
    commands = CommandBatch.decode(data).commands;
  } catch (err) {
    return { commands: [], error: `command entry does not decode: ${(err as Error).message}` };
  }
  if (commands.length === 0) return { commands, error: "command entry holds no commands" };
  if (commands.length > COMMANDS_PER_ENTRY)
    return { commands: [], error: `command entry holds ${commands.length} commands, more than ${COMMANDS_PER_ENTRY}` };
  return { commands };
}
