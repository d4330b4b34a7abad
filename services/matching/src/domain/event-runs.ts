import { eventInstrumentToken, type EngineEvent } from "@tradeplane/contracts";

/**
 * One message of the event stream: events of one log entry with the same instrument subject
 * token, in their order (see `EngineEventBatch` in proto/tradeplane/v1/engine.proto).
 */
export interface EventRun {
  /** The instrument subject token of every event in the message. */
  readonly instrument: string;
  readonly events: EngineEvent[];
  /** Command sequence of the message's last event: with lastIndex, the message id. */
  readonly lastCommandSeq: number;
  /** Index of the message's last event within its command. */
  readonly lastIndex: number;
}

/**
 * Most events in one message: a mass cancel of a deep book must still fit NATS's payload
 * limit (1 MB by default; an event encodes to well under 200 bytes).
 */
export const MAX_EVENTS_PER_MESSAGE = 2_048;

/**
 * Splits a log entry's events (its commands' events, in order) into event messages:
 *
 * - The events of commands about one instrument are gathered per instrument across the entry,
 *   so an entry costs one message per instrument it touched, not one per command.
 * - A command whose events name several instruments (a venue-wide mass cancel, halt or expiry)
 *   is a barrier: what was gathered before it goes out first, then its own events as contiguous
 *   runs per instrument, so none of its events is published before an earlier command's.
 * - At most MAX_EVENTS_PER_MESSAGE events are gathered at a time (a barrier when reached).
 *
 * Messages come out in the order of their last event's (command sequence, index), which is the
 * message id: ids rise in publish order, so the last stored message marks exactly which of the
 * entry's messages are published (those with an id up to it). The split depends on the events
 * alone, so a restarted engine cuts the same messages. A message is one instrument's events in
 * command order; across instruments, an entry's messages are not in command order.
 */
export function eventRuns(events: EngineEvent[]): EventRun[] {
  const out: EventRun[] = [];
  const n = events.length;
  // The common case, one instrument throughout: one message, the array as is.
  if (n > 0 && n <= MAX_EVENTS_PER_MESSAGE) {
    const token = eventInstrumentToken(events[0]!.instrument);
    let same = true;
    for (let i = 1; i < n && same; i++) same = eventInstrumentToken(events[i]!.instrument) === token;
    if (same) return [message(token, events)];
  }
  const gathered = new Map<string, EngineEvent[]>();
  let gatheredCount = 0;
  const flush = (): void => {
    if (gatheredCount === 0) return;
    const messages = [...gathered].map(([token, evs]) => message(token, evs));
    messages.sort((a, b) => a.lastCommandSeq - b.lastCommandSeq || a.lastIndex - b.lastIndex);
    for (const m of messages) out.push(m);
    gathered.clear();
    gatheredCount = 0;
  };
  for (let start = 0; start < n;) {
    const seq = events[start]!.commandSeq;
    const token = eventInstrumentToken(events[start]!.instrument);
    let end = start + 1;
    let single = true;
    for (; end < n && events[end]!.commandSeq === seq; end++)
      if (single && eventInstrumentToken(events[end]!.instrument) !== token) single = false;
    const size = end - start;
    if (!single || size > MAX_EVENTS_PER_MESSAGE) {
      flush();
      contiguousRuns(events, start, end, out);
    } else {
      if (gatheredCount + size > MAX_EVENTS_PER_MESSAGE) flush();
      let list = gathered.get(token);
      if (list === undefined) {
        list = [];
        gathered.set(token, list);
      }
      for (let i = start; i < end; i++) list.push(events[i]!);
      gatheredCount += size;
    }
    start = end;
  }
  flush();
  return out;
}

function message(instrument: string, events: EngineEvent[]): EventRun {
  const last = events[events.length - 1]!;
  return { instrument, events, lastCommandSeq: last.commandSeq, lastIndex: last.index };
}

/** Events [start, end) as runs of consecutive events about one instrument, each at most MAX_EVENTS_PER_MESSAGE. */
function contiguousRuns(events: EngineEvent[], start: number, end: number, out: EventRun[]): void {
  for (let s = start; s < end;) {
    const token = eventInstrumentToken(events[s]!.instrument);
    let e = s + 1;
    const limit = Math.min(end, s + MAX_EVENTS_PER_MESSAGE);
    while (e < limit && eventInstrumentToken(events[e]!.instrument) === token) e++;
    out.push(message(token, events.slice(s, e)));
    s = e;
  }
}
