import { EngineEventBatch, type EngineEvent } from "@tradeplane/contracts";

/**
 * The events of one event-stream message (an `EngineEventBatch`), in order. Throws on bytes
 * that do not decode and on a message without events: the engine never writes one, but a
 * stream written before event messages held runs decodes that way, and saying so beats
 * skipping it in silence.
 */
export function decodeEventMessage(data: Uint8Array): EngineEvent[] {
  const { events } = EngineEventBatch.decode(data);
  if (events.length === 0)
    throw new Error(
      "event message holds no events (an event stream written by a Tradeplane before event " +
        "batches? replay the command log into a new event stream: docs/adr/0001-event-messages-per-command.md)",
    );
  return events;
}
