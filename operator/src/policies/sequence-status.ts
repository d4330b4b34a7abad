/**
 * How often a venue's status carries fresh log sequences. A trading venue's sequences move
 * with every order, so writing them whenever a reconcile sees them would write status on
 * every resync and every child event; not writing them at all would leave the status blind
 * to a partition that stopped applying. The rule: a sequence seen for the first time, or a
 * status written anyway (a condition, role or readiness changed), carries the latest
 * sequences at once; otherwise changed sequences wait until `minIntervalMs` after the last
 * time they were written, so steady trading costs at most one status write per interval per
 * venue and an idle venue none. The time of that last write is in the status itself
 * (`sequencesUpdateTime`), so the limit holds across operator restarts and leader changes.
 */

/** The sequences as status reports them. */
export interface SequenceReport {
  /** Last sequence of the venue's command log. */
  readonly lastCommandSequence: number | undefined;
  /** Partition -> the log sequence its primary last applied (as its published events show). */
  readonly applied: ReadonlyMap<number, number>;
  /** When these were last written (RFC 3339), undefined before the first time. */
  readonly updateTime: string | undefined;
}

/** What a reconcile read; undefined (or a missing partition) means "could not tell": the old value stays. */
export interface ObservedSequences {
  readonly lastCommandSequence: number | undefined;
  readonly applied: ReadonlyMap<number, number>;
}

export interface SequenceDecision {
  readonly report: SequenceReport;
  /** Set when newer sequences were held back: reconcile again after this many ms to write them. */
  readonly recheckAfterMs: number | undefined;
}

export interface SequenceTiming {
  readonly now: Date;
  readonly minIntervalMs: number;
  /** The status is written this time anyway, so fresh sequences cost nothing extra. */
  readonly writingAnyway: boolean;
}

export function sequenceReport(
  previous: SequenceReport,
  observed: ObservedSequences,
  timing: SequenceTiming,
): SequenceDecision {
  const lastCommandSequence = observed.lastCommandSequence ?? previous.lastCommandSequence;
  const applied = new Map([...previous.applied, ...observed.applied]);
  const changed =
    lastCommandSequence !== previous.lastCommandSequence ||
    [...applied].some(([p, seq]) => previous.applied.get(p) !== seq);
  if (!changed) return { report: previous, recheckAfterMs: undefined };
  const firstSight =
    (previous.lastCommandSequence === undefined && lastCommandSequence !== undefined) ||
    [...applied.keys()].some((p) => !previous.applied.has(p));
  const elapsed = previous.updateTime === undefined ? Infinity : timing.now.getTime() - Date.parse(previous.updateTime);
  // A clock that went back (elapsed < 0) or an unreadable time must not hold sequences forever.
  const due = !(elapsed >= 0 && elapsed < timing.minIntervalMs);
  if (firstSight || timing.writingAnyway || due)
    // Milliseconds kept, so that the interval holds exactly (a time cut to the second reads up to 1 s older).
    return {
      report: { lastCommandSequence, applied, updateTime: timing.now.toISOString() },
      recheckAfterMs: undefined,
    };
  return { report: previous, recheckAfterMs: timing.minIntervalMs - elapsed };
}
