/**
 * Command sequences. A command-log entry (one JetStream message, a `CommandBatch`) holds
 * 1 to COMMANDS_PER_ENTRY commands; the command at position i of the entry stored at
 * stream sequence S is command S * COMMANDS_PER_ENTRY + i. The number is derived from the
 * log alone, so every replay gives every command (and every new order's venue order id)
 * the same sequence, and it still reads as "entry S, command i" in decimal.
 */

/** Most commands one log entry may hold; also the factor between entry and command sequences. */
export const COMMANDS_PER_ENTRY = 1_000;

/** The command sequence of the command at `position` of the entry at stream sequence `entrySeq`. */
export function commandSeqOf(entrySeq: number, position: number): number {
  return entrySeq * COMMANDS_PER_ENTRY + position;
}

/** The stream sequence of the entry holding command `commandSeq` (0 for 0: nothing applied). */
export function entrySeqOf(commandSeq: number): number {
  return Math.floor(commandSeq / COMMANDS_PER_ENTRY);
}

/** The position of command `commandSeq` within its entry. */
export function positionOf(commandSeq: number): number {
  return commandSeq % COMMANDS_PER_ENTRY;
}
