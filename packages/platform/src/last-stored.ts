import type { JetStreamManager, StreamState } from "@nats-io/jetstream";

/**
 * Stream sequence of the last message the stream still stores, 0 when it stores none.
 *
 * Not `streams.info().state.last_seq`: that is the last sequence ever assigned, and it
 * stays put when its message is deleted (`nats stream rmm`, or max-age on a quiet stream).
 * A reader that waits to "reach" it waits for a message that never comes: the gateway hung
 * at start-up that way. Nor `getMessage({ last_by_subj: "<wildcard>" })`: nats-server 2.9
 * answers "not found" for it once a deleted message was a subject's last.
 */
export async function lastStoredSeq(jsm: JetStreamManager, stream: string): Promise<number> {
  return lastStoredIn((await jsm.streams.info(stream, { deleted_details: true })).state);
}

/**
 * The same, from a stream state already read with `deleted_details` (for a reader that needs
 * the rest of the state too and should not ask twice).
 */
export function lastStoredIn(state: StreamState): number {
  if (state.messages === 0) return 0;
  const deleted = new Set(state.deleted ?? []);
  let seq = state.last_seq;
  while (seq >= state.first_seq && deleted.has(seq)) seq--;
  return seq >= state.first_seq ? seq : 0;
}
