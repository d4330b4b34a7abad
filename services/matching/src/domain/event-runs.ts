import { eventInstrumentToken, type EngineEvent } from "@tradeplane/contracts";

/**
 * One message of the event stream: a contiguous run of one command's events with the same
 * instrument subject token (see `EngineEventBatch` in proto/tradeplane/v1/engine.proto).
 */
export interface EventRun {
  /** The instrument subject token of every event in the run. */
  readonly instrument: string;
  readonly events: EngineEvent[];
  /** Index of the run's last event within its command: with the command sequence, the message id. */
  readonly lastIndex: number;
}

/**
 * Splits a command's events into runs of consecutive events about the same instrument, in
 * order. Runs are contiguous, not grouped per instrument: message ids then rise in publish
 * order, so the last stored message marks exactly how far the command's events are published.
 */
export function eventRuns(events: EngineEvent[]): EventRun[] {
  const runs: EventRun[] = [];
  for (let start = 0; start < events.length;) {
    const instrument = eventInstrumentToken(events[start]!.instrument);
    let end = start + 1;
    while (end < events.length && eventInstrumentToken(events[end]!.instrument) === instrument) end++;
    // The common command is one run: its events array is used as is, not copied.
    const run = start === 0 && end === events.length ? events : events.slice(start, end);
    runs.push({ instrument, events: run, lastIndex: events[end - 1]!.index });
    start = end;
  }
  return runs;
}
