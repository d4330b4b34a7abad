import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import type { PubAck } from "@nats-io/jetstream";
import { Command, commandSubject, commandStreamName } from "@tradeplane/contracts";
import { injectTraceHeaders } from "./telemetry.ts";
import { UnavailableError } from "./errors.ts";
import { JetStreamAsyncPublisher } from "./jetstream-async-publisher.ts";

/**
 * Writes commands into a venue's command log. The stream sequence JetStream assigns is
 * the command's identity (and a new order's venue order id). The active trace context
 * goes into the message headers so the engine's span joins the writer's trace.
 *
 * Appends go through one pipelined publisher (one reply subscription, no per-message
 * request object), so the commands of many concurrent calls reach the server in one write.
 */
export interface CommandLogWriter {
  append(partition: number, command: Command, options?: { msgId?: string }): Promise<PubAck>;
  /** Fails appends still waiting for their ack and releases the reply subscription. */
  close(): void;
}

const DEFAULT_APPEND_TIMEOUT_MS = 5_000;

export function commandLogWriter(
  nc: NatsConnection,
  venue: string,
  timeoutMs = DEFAULT_APPEND_TIMEOUT_MS,
): CommandLogWriter {
  const publisher = new JetStreamAsyncPublisher(nc, timeoutMs);
  const stream = commandStreamName(venue);
  return {
    append(partition, command, options = {}) {
      const h = natsHeaders();
      injectTraceHeaders(h);
      return new Promise<PubAck>((resolve, reject) =>
        publisher.publish(
          commandSubject(venue, partition),
          Command.encode(command).finish(),
          options.msgId,
          (outcome) =>
            outcome.ok
              ? resolve({ stream, seq: outcome.seq, duplicate: outcome.duplicate })
              : reject(new UnavailableError(`command log of ${venue} did not store the command: ${outcome.error}`)),
          h,
        ),
      );
    },
    close: () => publisher.close(),
  };
}

/** A Timestamp for a wall-clock time in milliseconds (the writer's clock stamps commands). */
export function timestampOfMs(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
