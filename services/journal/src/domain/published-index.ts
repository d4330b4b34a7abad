/**
 * What the event stream holds, by message id, for a rebuild from the command log: where each
 * message the engines published is stored (the rows' `stream_seq`, which the log cannot give),
 * and the proof that the rebuild reproduces the engines' output. A message id is
 * `<commandSeq>-<index>` of the message's last event; the rebuild cuts the same messages
 * (eventRuns), so the ids must match one for one over the commands both cover.
 */

/** Why a rebuild refuses to replace the live tables. */
export type RebuildRefusalReason =
  /** The command log holds entries of a partition the venue file does not have. */
  | "UNKNOWN_PARTITION"
  /** The command log does not start at its first entry (a retention limit dropped some). */
  | "LOG_INCOMPLETE"
  /** The rebuild produced a message the live engine did not, or missed one it did. */
  | "EVENTS_DIVERGED"
  /** An engine snapshot holds another state than the rebuild at the same command. */
  | "STATE_DIVERGED";

export class RebuildRefusedError extends Error {
  override readonly name = "RebuildRefusedError";
  readonly reason: RebuildRefusalReason;
  constructor(reason: RebuildRefusalReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The mark (commandSeq, index) of an engine message id, undefined for ids not of that form. */
export function markOfMessageId(id: string | undefined): { cmdSeq: number; index: number } | undefined {
  const m = id === undefined ? null : /^(\d{1,16})-(\d{1,9})$/.exec(id);
  if (m === null) return undefined;
  const cmdSeq = Number(m[1]);
  return Number.isSafeInteger(cmdSeq) && cmdSeq >= 1 ? { cmdSeq, index: Number(m[2]) } : undefined;
}

interface Indexed {
  readonly seq: number;
  readonly partition: number;
  readonly cmdSeq: number;
  matched: boolean;
}

export class PublishedIndex {
  private readonly byId = new Map<string, Indexed>();
  /** In stream order. */
  private readonly messages: Indexed[] = [];
  /** Per partition, the first and last command sequence its indexed messages name. */
  private readonly ranges = new Map<number, { first: number; last: number }>();
  /** Stream sequence of the last message indexed (ours or not). */
  end = 0;

  /**
   * One stored message, in stream order. Messages that are not an engine's (no id of the
   * engine's form, or not on an event subject) only move `end`. A message stored twice keeps
   * its first place: the live projector's rows carry the first copy's sequence.
   */
  add(seq: number, partition: number | undefined, id: string | undefined): void {
    this.end = Math.max(this.end, seq);
    const mark = markOfMessageId(id);
    if (partition === undefined || mark === undefined || this.byId.has(id!)) return;
    const m: Indexed = { seq, partition, cmdSeq: mark.cmdSeq, matched: false };
    this.byId.set(id!, m);
    this.messages.push(m);
    const r = this.ranges.get(partition);
    if (r === undefined) this.ranges.set(partition, { first: mark.cmdSeq, last: mark.cmdSeq });
    else {
      r.first = Math.min(r.first, mark.cmdSeq);
      r.last = Math.max(r.last, mark.cmdSeq);
    }
  }

  get size(): number {
    return this.messages.length;
  }

  /**
   * A message the rebuild produced: its stream sequence (0 when the stream does not hold it:
   * older than the stream's retention, or not yet published). Refuses a message the stream
   * should hold (its command is inside the partition's stored range) and does not, or holds
   * on another partition.
   */
  matchRebuilt(partition: number, id: string, cmdSeq: number): number {
    const m = this.byId.get(id);
    if (m !== undefined && m.partition === partition) {
      m.matched = true;
      return m.seq;
    }
    const r = this.ranges.get(partition);
    if (m !== undefined || (r !== undefined && cmdSeq >= r.first && cmdSeq <= r.last))
      throw new RebuildRefusedError(
        "EVENTS_DIVERGED",
        `the rebuild produced event message ${id} on partition ${partition}, which the live engine did not publish ` +
          "there: the engine's output is not reproducible from the command log with this venue file " +
          "(were its instruments or partitions changed since the log began?)",
      );
    return 0;
  }

  /**
   * After the rebuild: refuses if the stream holds a message, of a command the rebuild
   * applied (at or before `lastSeq` of its partition), that the rebuild did not produce.
   */
  checkAllMatched(lastSeq: ReadonlyMap<number, number>): void {
    const missed = this.messages.find((m) => !m.matched && m.cmdSeq <= (lastSeq.get(m.partition) ?? 0));
    if (missed !== undefined)
      throw new RebuildRefusedError(
        "EVENTS_DIVERGED",
        `the live engine of partition ${missed.partition} published an event message of command ${missed.cmdSeq} ` +
          `(stream sequence ${missed.seq}) that the rebuild did not produce: the engine's output is not ` +
          "reproducible from the command log with this venue file",
      );
  }

  /**
   * Where the live projector resumes after the swap: the largest stream sequence up to which
   * every message the stream holds is in the rebuilt tables (its command applied by the rebuild).
   */
  coveredUpTo(lastSeq: ReadonlyMap<number, number>): number {
    const first = this.messages.find((m) => m.cmdSeq > (lastSeq.get(m.partition) ?? 0));
    return first === undefined ? this.end : first.seq - 1;
  }
}
