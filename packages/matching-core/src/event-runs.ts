import { eventInstrumentToken, type EngineEvent } from "@tradeplane/contracts";

/**
 * One message of the event stream: a contiguous run of events with the same instrument
 * subject token, from one log entry (see `EngineEventBatch` in proto/tradeplane/v1/engine.proto).
 */
export interface EventRun {
  /** The instrument subject token of every event in the run. */
  readonly instrument: string;
  readonly events: EngineEvent[];
  /** Command sequence of the run's last event: with lastIndex, the message id. */
  readonly lastCommandSeq: number;
  /** Index of the run's last event within its command. */
  readonly lastIndex: number;
}

/**
 * Most events in one message: a mass cancel of a deep book must still fit NATS's payload
 * limit (1 MB by default; an event encodes to well under 200 bytes).
 */
export const MAX_EVENTS_PER_MESSAGE = 2_048;

/**
 * Splits the events of a log entry (its commands' events, in order) into runs of
 * consecutive events about the same instrument, of at most MAX_EVENTS_PER_MESSAGE, across
 * the entry's commands. Runs are contiguous, not gathered per instrument, so the event stream
 * holds every event in command order (readers rely on it: the gateway's projection ignores
 * anything at or before the last (command, index) it applied) and message ids rise in publish
 * order, so the last stored message marks exactly how far the entry's events are published.
 * Writers put an entry's commands about one instrument next to each other
 * (`orderEntry` in @tradeplane/platform), which makes the runs long. The split depends on the
 * events alone, so a restarted engine cuts the same messages.
 */
export function eventRuns(events: EngineEvent[]): EventRun[] {
  const runs: EventRun[] = [];
  for (let start = 0; start < events.length;) {
    const instrument = eventInstrumentToken(events[start]!.instrument);
    let end = start + 1;
    const limit = Math.min(events.length, start + MAX_EVENTS_PER_MESSAGE);
    while (end < limit && eventInstrumentToken(events[end]!.instrument) === instrument) end++;
    // The common entry is one run: its events array is used as is, not copied.
    const run = start === 0 && end === events.length ? events : events.slice(start, end);
    const last = events[end - 1]!;
    runs.push({ instrument, events: run, lastCommandSeq: last.commandSeq, lastIndex: last.index });
    start = end;
  }
  return runs;
}
