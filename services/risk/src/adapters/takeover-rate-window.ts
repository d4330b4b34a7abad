import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { CommandBatch, commandStreamName, commandSubject, commandSubjects } from "@tradeplane/contracts";
import { ordersBeforeFences, type LoggedEntry } from "../domain/takeover-rate-window.ts";

/** How far before the first fence the log is read: one order-rate window, and a millisecond for rounding. */
const LOOKBACK_MS = 1_001;

/**
 * The account's orders of the last second before a new owner's fences, as ages before the
 * last fence was stored (ns): the log's entries from one window before the first fence up
 * to the last one, on the fenced partitions only (`domain/takeover-rate-window.ts` decides
 * what counts). Undefined when the log could not be read in `timeoutMs`: the new owner
 * then waits one whole window, as before.
 */
export async function recentOrderAges(deps: {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly venue: string;
  readonly account: string;
  readonly epoch: number;
  /** partition -> stream sequence of the entry holding our fence. */
  readonly fenceEntries: ReadonlyMap<number, number>;
  readonly timeoutMs: number;
}): Promise<number[] | undefined> {
  const { js, jsm, venue, fenceEntries } = deps;
  if (fenceEntries.size === 0) return [];
  const stream = commandStreamName(venue);
  const seqs = [...fenceEntries.values()];
  const first = await jsm.streams.getMessage(stream, { seq: Math.min(...seqs) });
  if (first === null) return undefined;
  const last = Math.max(...seqs);
  const consumer = await js.consumers.get(stream, {
    // One filter (several need nats-server 2.10): every partition; the decision skips the others.
    filter_subjects:
      fenceEntries.size === 1 ? commandSubject(venue, [...fenceEntries.keys()][0]!) : commandSubjects(venue),
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(first.time.getTime() - LOOKBACK_MS).toISOString(),
  });
  const messages = await consumer.consume({ max_messages: 1_024 });
  const timer = setTimeout(() => void messages.close(), deps.timeoutMs);
  const entries: LoggedEntry[] = [];
  try {
    for await (const m of messages) {
      const subject = m.subject;
      entries.push({
        partition: Number(subject.slice(subject.lastIndexOf(".") + 1)),
        seq: m.seq,
        storedNs: Number(m.info.timestampNanos),
        commands: CommandBatch.decode(m.data).commands,
      });
      if (m.seq >= last) break;
    }
  } finally {
    clearTimeout(timer);
    await messages.close();
  }
  return ordersBeforeFences(entries, deps.account, deps.epoch, fenceEntries);
}
